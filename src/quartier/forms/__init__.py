"""Forms for field data collection: XLSForm → ODK XForm (pure functions).

No store and no web here: the OpenRosa server, the console and the CLI call
:func:`convert` and keep what it returns.
"""

from quartier.forms.xform import FormField, XFormInfo, read_xform
from quartier.forms.xlsform import (
    EXAMPLE_FORM,
    SUFFIXES,
    ConvertedForm,
    XLSFormError,
    convert,
    safe_form_id,
)

__all__ = [
    "EXAMPLE_FORM",
    "SUFFIXES",
    "ConvertedForm",
    "FormField",
    "XFormInfo",
    "XLSFormError",
    "convert",
    "read_xform",
    "safe_form_id",
]

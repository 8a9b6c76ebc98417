"""XLSForm (``.xlsx``/``.xls``) → ODK XForm, with pyxform, as a pure function.

:func:`convert` reads a spreadsheet form and returns a :class:`ConvertedForm`:
the XForm XML that ODK Collect downloads, its OpenRosa hash and what the rest
of Quartier needs to know about it (identity, fields, languages, media). A
broken form raises :class:`XLSFormError` (an ``InvalidInput``) that names the
file, the sheet, the row when known, and the reason.

>>> form = convert(EXAMPLE_FORM)
>>> form.form_id, form.version, form.languages
('profil_quartier', '2026112601', ('French (fr)', 'English (en)'))
>>> form.openrosa_hash == "md5:" + form.md5
True

Version rule: the ``version`` of the settings sheet when it is a plain value.
When it is missing, or is a spreadsheet formula such as ``=NOW()`` (its value
would change at every recalculation, and ODK Collect would keep re-downloading
the form), the version is ``auto-`` followed by the first 12 hex digits of
the SHA-256 of the sheets' content (the version cell left out): the same
content always gives the same version, any change gives a new one. A warning
says so.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyxform.errors import PyXFormError
from pyxform.xls2json_backends import DefinitionData, get_xlsform
from pyxform.xls2xform import convert as _pyxform_convert

from quartier.errors import InvalidInput
from quartier.forms.xform import FormField, read_xform
from quartier.i18n import _

log = logging.getLogger(__name__)

#: Spreadsheet formats accepted (``.xlsm`` is refused: it may carry macros).
SUFFIXES = (".xlsx", ".xls")
#: The example settlement-profiling form shipped with Quartier.
EXAMPLE_FORM = (
    Path(__file__).resolve().parent.parent
    / "demo_data"
    / "forms"
    / "profil_quartier.xlsx"
)

_ROW = re.compile(r"^\s*\[row\s*:\s*(\d+)\]\s*")
_ON_SHEET = re.compile(r"On the '([^']+)' sheet,?\s*")
_NAMED_SHEET = re.compile(
    r"\b(survey|choices|settings|external_choices|entities)\b sheet"
    r"|sheet named '([^']+)'"
)
_DUPLICATE_HEADER = re.compile(r"Duplicate column header: (.+)$")
_UNKNOWN_TYPE = re.compile(r"Unknown question type '([^']+)'")
_UNREADABLE = "was not recognized as a supported type"
#: Sheets of the workbook dict that make up a form's content (for the version).
_CONTENT_SHEETS = ("survey", "choices", "settings", "external_choices", "entities")


@dataclass(frozen=True)
class ConvertedForm:
    """An XLSForm converted to an XForm.

    ``xml`` is served as is, UTF-8 encoded: ``md5`` is the hex digest of
    those bytes (OpenRosa's ``hash`` is :attr:`openrosa_hash`). ``media``
    are the file names the form references (``jr://images/…``,
    ``jr://file-csv/…``…) that must be uploaded next to it; ``itemsets`` is
    the CSV pyxform writes for ``select_one_external`` questions (served as
    ``itemsets.csv``), else ``None``.
    """

    form_id: str
    title: str
    version: str
    xml: str
    md5: str
    fields: tuple[FormField, ...]
    languages: tuple[str, ...]
    media: tuple[str, ...]
    warnings: tuple[str, ...]
    itemsets: str | None = None

    @property
    def openrosa_hash(self) -> str:
        """``md5:<hex>``, the ``hash`` of the OpenRosa form list and manifest."""
        return f"md5:{self.md5}"


class XLSFormError(InvalidInput):
    """A form pyxform refuses; ``sheet`` and ``row`` are ``None`` when unknown.

    ``reason`` is pyxform's own explanation (in English) or ours.
    """

    def __init__(
        self,
        file: str,
        reason: str,
        *,
        sheet: str | None = None,
        row: int | None = None,
    ) -> None:
        self.file, self.reason, self.sheet, self.row = file, reason, sheet, row
        super().__init__(_message(file, reason, sheet, row))


def convert(path: Path, *, form_id: str | None = None) -> ConvertedForm:
    """Convert the XLSForm at ``path`` to an ODK XForm.

    ``form_id`` is used when the settings sheet has no ``form_id``, in place
    of the file name (useful for an upload saved under a temporary name);
    either is made into a valid XML name. The title is ``form_title``, else
    the form id. Raises :class:`XLSFormError` for a missing, unreadable or
    invalid form, or one without a single question.
    """
    path = Path(path)
    _check_file(path)
    workbook: DefinitionData | None = None
    try:
        workbook = get_xlsform(str(path), file_type=path.suffix.lower())
        workbook.fallback_form_name = safe_form_id(form_id or path.stem)
        version, notes = _version(path, workbook)
        _set_setting(workbook, "version", version)
        data = {f.name: getattr(workbook, f.name) for f in dataclasses.fields(workbook)}
        result = _pyxform_convert(data, warnings=[])
    except PyXFormError as e:
        raise _refusal(path, e, workbook) from e
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as e:
        # pyxform is not hardened against every odd spreadsheet; an upload
        # must still get an answer, and we keep the trace for a bug report.
        log.warning("pyxform failed on %s", path.name, exc_info=True)
        reason = _("pyxform n'a pas pu convertir ce formulaire ({error}).")
        raise XLSFormError(path.name, reason.format(error=repr(e))) from None
    info = read_xform(result.xform)
    if all("/meta/" in f.path for f in info.fields):
        reason = _("La feuille ne contient aucune question.")
        raise XLSFormError(path.name, reason, sheet="survey")
    return ConvertedForm(
        form_id=info.form_id,
        title=info.title or info.form_id,
        version=info.version or version,
        xml=result.xform,
        md5=hashlib.md5(result.xform.encode(), usedforsecurity=False).hexdigest(),
        fields=info.fields,
        languages=info.languages,
        media=info.media,
        warnings=(*result.warnings, *notes),
        itemsets=result.itemsets,
    )


def safe_form_id(name: str) -> str:
    """``name`` made into an XML name (letters, digits, ``_ - .``; no accents).

    >>> safe_form_id("Profil quartier (v2)")
    'Profil_quartier_v2'
    >>> safe_form_id("2026 enquête")
    '_2026_enquete'
    >>> safe_form_id("???")
    'formulaire'
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", ascii_name).strip("_.-")
    if not cleaned:
        return "formulaire"
    return cleaned if cleaned[0].isalpha() else f"_{cleaned}"


# -- input checks and settings --------------------------------------------------


def _check_file(path: Path) -> None:
    if path.suffix.lower() not in SUFFIXES:
        reason = _(
            "Extension « {suffix} » non prise en charge : un XLSForm est un "
            "classeur .xlsx ou .xls."
        )
        raise XLSFormError(path.name, reason.format(suffix=path.suffix))
    if not path.is_file():
        raise XLSFormError(path.name, _("Fichier introuvable."))


def _version(path: Path, workbook: DefinitionData) -> tuple[str, list[str]]:
    """The form version and, when it had to be computed, a warning saying so."""
    settings = workbook.settings[0] if workbook.settings else {}
    given = str(settings.get("version") or "").strip()
    formula = _version_formula(path) or (given if given.startswith("=") else None)
    if given and formula is None:
        return given, []
    version = f"auto-{_content_hash(workbook)[:12]}"
    if formula:
        note = _(
            "La version « {formula} » est une formule : la version {version} "
            "est calculée à partir du contenu du formulaire."
        ).format(formula=formula, version=version)
    else:
        note = _(
            "La feuille « settings » ne donne pas de version : la version "
            "{version} est calculée à partir du contenu du formulaire."
        ).format(version=version)
    return version, [note]


def _version_formula(path: Path) -> str | None:
    """The formula in the settings sheet's ``version`` cell (``.xlsx`` only).

    pyxform reads the value Excel cached for a formula, so the formula itself
    is looked up here. ``.xls`` files only keep the value: it is taken as is.
    """
    if path.suffix.lower() != ".xlsx":
        return None
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception:  # pyxform read it; the formula check is best effort
        return None
    try:
        for sheet in book.worksheets:
            if sheet.title.strip().lower() == "settings":
                rows = sheet.iter_rows(max_row=2, values_only=True)
                header, values = next(rows, ()), next(rows, ())
                for key, value in zip(header, values, strict=False):
                    if str(key).strip() == "version" and str(value).startswith("="):
                        return str(value)
    finally:
        book.close()
    return None


def _content_hash(workbook: DefinitionData) -> str:
    content: dict[str, Any] = {}
    for sheet in _CONTENT_SHEETS:
        rows = getattr(workbook, sheet) or []
        if sheet == "settings":
            rows = [{k: v for k, v in r.items() if k != "version"} for r in rows]
        content[sheet] = rows
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _set_setting(workbook: DefinitionData, key: str, value: str) -> None:
    settings = list(workbook.settings or [{}])
    settings[0] = {**settings[0], key: value}
    headers = list(workbook.settings_header or [{}])
    headers[0] = {**headers[0], key: None}
    workbook.settings, workbook.settings_header = settings, headers


# -- errors ---------------------------------------------------------------------


def _refusal(
    path: Path, error: PyXFormError, workbook: DefinitionData | None
) -> XLSFormError:
    """pyxform's error as a sentence naming the sheet and row it is about.

    pyxform gives the row as a ``[row : N]`` prefix (a spreadsheet row,
    header = 1) and the sheet as "On the 'x' sheet" — when it gives them. A
    row without a sheet is a row of the survey sheet (pyxform's convention).
    """
    reason = str(error).strip()
    context = getattr(error, "context", None) or {}
    row: int | None = context.get("row")
    sheet: str | None = context.get("sheet")
    if m := _ROW.match(reason):
        row, reason = row or int(m.group(1)), reason[m.end() :]
    if m := _ON_SHEET.match(reason):
        sheet, reason = sheet or m.group(1), reason[m.end() :]
    if sheet is None and row is not None:
        sheet = "survey"
    if sheet is None and (m := _NAMED_SHEET.search(reason)):
        sheet = m.group(1) or m.group(2)
    if m := _DUPLICATE_HEADER.search(reason):
        sheet, row = _sheet_with_duplicate(path, m.group(1).strip()), 1
    elif (m := _UNKNOWN_TYPE.search(reason)) and workbook is not None:
        sheet, row = "survey", _survey_row(workbook, "type", m.group(1))
    if _UNREADABLE in reason:
        reason = _("Ce fichier n'est pas un classeur {suffix} lisible.").format(
            suffix=path.suffix.lower()
        )
    return XLSFormError(
        path.name, reason[:1].upper() + reason[1:], sheet=sheet, row=row
    )


def _message(file: str, reason: str, sheet: str | None, row: int | None) -> str:
    if sheet and row:
        text = _("Formulaire « {file} » refusé (feuille « {sheet} », ligne {row}) : ")
    elif sheet:
        text = _("Formulaire « {file} » refusé (feuille « {sheet} ») : ")
    else:
        text = _("Formulaire « {file} » refusé : ")
    return text.format(file=file, sheet=sheet, row=row) + reason


def _survey_row(workbook: DefinitionData, column: str, value: str) -> int | None:
    for index, row in enumerate(workbook.survey or []):
        if str(row.get(column, "")).strip() == value:
            return index + 2  # pyxform keeps blank rows; row 1 is the header
    return None


def _sheet_with_duplicate(path: Path, column: str) -> str | None:
    """The first sheet whose header row has ``column`` twice (best effort)."""
    try:
        headers = _header_rows(path)
    except Exception:  # the message still names the column
        return None
    for sheet, header in headers.items():
        names = [str(h).strip() for h in header if h not in (None, "")]
        if names.count(column) > 1:
            return sheet
    return None


def _header_rows(path: Path) -> dict[str, list[Any]]:
    if path.suffix.lower() == ".xls":
        import xlrd  # pyxform's own reader for .xls

        book = xlrd.open_workbook(str(path))
        return {s.name: s.row_values(0) if s.nrows else [] for s in book.sheets()}
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return {
            ws.title: list(next(ws.iter_rows(max_row=1, values_only=True), ()))
            for ws in wb.worksheets
        }
    finally:
        wb.close()

"""Translation of user-facing strings (French first, English second).

Message ids are French; English comes from the gettext catalogue in
``locale/en/LC_MESSAGES/quartier.mo`` when present (``QUARTIER_LANG=en``).
"""

from __future__ import annotations

import gettext
import os
from functools import lru_cache
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"


@lru_cache(maxsize=4)
def _translations(lang: str) -> gettext.NullTranslations:
    return gettext.translation("quartier", LOCALE_DIR, languages=[lang], fallback=True)


def _(message: str) -> str:
    """Translate ``message`` into the language of ``QUARTIER_LANG``."""
    lang = os.environ.get("QUARTIER_LANG", "fr")
    if lang == "fr":
        return message
    return _translations(lang).gettext(message)

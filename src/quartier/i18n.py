"""Translation of user-facing strings (French first, English second).

Message ids are French. English comes from the gettext catalogue
``locale/en/LC_MESSAGES/quartier.po``, compiled in memory on first use (no
build step, so a clone or a ``pip install`` works as is). The CLI follows
``QUARTIER_LANG``; the portal picks a language per request (:func:`pick`).

Numbers and dates are formatted per locale with Babel:

>>> number(12345.5, "fr") == "12\\u202f345,5"
True
>>> number(12345.5, "en")
'12,345.5'
>>> Translator("en").gettext("Catalogue des données")
'Data catalogue'
>>> Translator("fr").gettext("Catalogue des données")
'Catalogue des données'
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from babel import Locale, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "quartier"
#: Languages of the interface, the first is the default.
LANGUAGES = ("fr", "en")


@lru_cache(maxsize=4)
def _translations(lang: str) -> gettext.NullTranslations:
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if lang == LANGUAGES[0] or not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as src:
        catalog = read_po(src, locale=lang)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def N_(message: str) -> str:
    """Mark ``message`` for extraction only; it is translated where shown."""
    return message


def _(message: str) -> str:
    """Translate ``message`` into the language of ``QUARTIER_LANG`` (CLI)."""
    lang = os.environ.get("QUARTIER_LANG", "fr")
    if lang == LANGUAGES[0]:
        return message
    return _translations(lang).gettext(message)


def pick(*candidates: str | None) -> str:
    """The first supported language among ``candidates``, else French.

    >>> pick("de", None, "en")
    'en'
    >>> pick("EN-gb")
    'en'
    >>> pick()
    'fr'
    """
    for value in candidates:
        code = (value or "").strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return LANGUAGES[0]


class Translator:
    """The strings, numbers and dates of one language (used by the portal)."""

    def __init__(self, lang: str) -> None:
        self.lang = pick(lang)
        self._t = _translations(self.lang)
        self.locale = Locale.parse(self.lang)

    def gettext(self, message: str, **values: object) -> str:
        text = self._t.gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: object) -> str:
        text = self._t.ngettext(singular, plural, n)
        return text % {"num": self.number(n), **values}

    def number(self, value: float | int | None) -> str:
        return "" if value is None else number(value, self.lang)

    def date(self, value: str | dt.date | None, *, time: bool = False) -> str:
        return date(value, self.lang, time=time)

    def pick(self, fr: str, en: str) -> str:
        """The French or English variant of a bilingual field (French as fallback)."""
        return en if self.lang == "en" and en else fr

    def strings(self, messages: Mapping[str, str]) -> dict[str, str]:
        """Translate a key → message table (for the portal's scripts)."""
        return {key: self.gettext(msg) for key, msg in messages.items()}


def number(value: float | int, lang: str) -> str:
    return numbers.format_decimal(value, locale=pick(lang))


def date(value: str | dt.date | None, lang: str, *, time: bool = False) -> str:
    """A stored ISO date/time for people: ``25 nov. 2026`` / ``Nov 25, 2026``."""
    if value is None or value == "":
        return ""
    moment: dt.date
    if isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    else:
        moment = value
    if time and isinstance(moment, dt.datetime):
        # stored times are UTC: say so (a city's staff may sit in several zones)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        shown = dates.format_datetime(
            moment, "medium", tzinfo=dt.UTC, locale=pick(lang)
        )
        return f"{shown} UTC"
    return dates.format_date(moment, "medium", locale=pick(lang))

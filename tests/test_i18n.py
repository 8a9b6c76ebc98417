"""Every user-facing string is translatable and translated (French → English).

The catalogue is checked against a fresh extraction with the project's own
``babel.cfg``: a string added to a template or a module without its English
translation fails here (run ``make messages``, then translate the new entries).
"""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from quartier.i18n import LOCALE_DIR, Translator, date, number, pick

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = re.compile(r"%\((\w+)\)s|\{(\w+)[^}]*\}")


def _extracted() -> dict[str, list[str]]:
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _ctx in extract_from_dir(
        str(ROOT), method_map, options_map
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


def _catalogue():  # type: ignore[no-untyped-def]
    with (LOCALE_DIR / "en" / "LC_MESSAGES" / "quartier.po").open("rb") as po:
        return read_po(po, locale="en")


def test_every_string_has_an_english_translation() -> None:
    catalogue = _catalogue()
    missing = []
    for msgid, where in sorted(_extracted().items()):
        entry = catalogue.get(msgid)
        if entry is None or not entry.string or entry.fuzzy:
            missing.append(f"{msgid!r} ({where[0]})")
        elif isinstance(entry.string, tuple) and not all(entry.string):
            missing.append(f"{msgid!r} (plural, {where[0]})")
    assert not missing, "untranslated (make messages, then translate):\n" + "\n".join(
        missing
    )


def test_translations_keep_their_placeholders() -> None:
    for entry in _catalogue():
        if not entry.id or not entry.string:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) == wanted, (entry.id, text)


def test_language_choice_and_formats() -> None:
    assert pick("en-US") == "en" and pick("xx", None) == "fr"
    en, fr = Translator("en"), Translator("fr")
    assert en.gettext("Catalogue des données") == "Data catalogue"
    assert fr.ngettext("%(num)s jeu de données", "%(num)s jeux de données", 2) == (
        "2 jeux de données"
    )
    assert en.ngettext("%(num)s jeu de données", "%(num)s jeux de données", 1) == (
        "1 dataset"
    )
    assert number(1234567, "en") == "1,234,567"
    # the count in a plural is formatted too
    assert fr.ngettext("%(num)s objet", "%(num)s objets", 12345) == "12\u202f345 objets"
    assert date("2026-11-25T10:00:00", "fr") == "25 nov. 2026"
    assert date("2026-11-25", "en") == "Nov 25, 2026"
    assert date("2026-11-25T10:00:00Z", "fr", time=True) == "25 nov. 2026, 10:00:00 UTC"

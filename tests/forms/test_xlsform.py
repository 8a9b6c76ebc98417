"""XLSForm conversion: broken forms, reference forms, versions, fields, media.

Files under /work/shared are read in place (never copied into the project):
the pyxform corpus is BSD-2-Clause, the HOT/FMTM forms are AGPL-3.0.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import defusedxml.ElementTree as SafeET
import openpyxl
import pytest

from quartier.errors import InvalidInput
from quartier.forms import XLSFormError, convert, read_xform
from quartier.forms.xlsform import _version_formula

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
BROKEN = SHARED / "corpus" / "xlsform_broken"
FORMS = SHARED / "demo" / "forms"
needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"{SHARED} absent: the shared test corpus is needed"
)
XF = "{http://www.w3.org/2002/xforms}"
NO_VERSION = "La feuille « settings » ne donne pas de version : la version auto-"
FORMULA = "La version « =NOW() » est une formule : la version auto-"
NO_LANG_CODE = "do not contain valid machine-readable codes: English."


@pytest.fixture(autouse=True)
def _french(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUARTIER_LANG", "fr")


def _xlsx(path: Path, sheets: dict[str, Iterable[Iterable[object]]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.worksheets[0])
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
    book.save(path)
    return path


SIMPLE = [["type", "name", "label"], ["text", "nom", "Nom"]]


# -- pyxform's broken-forms corpus, file by file --------------------------------

# file: ("refused", sheet, row, reason) or ("accepted", n fields, warnings — each
# a substring of the warning at that position, pyxform's first, then ours).
BROKEN_TABLE: dict[str, tuple[object, ...]] = {
    "ODKValidateWarnings.xlsx": (
        "accepted",
        4,
        [
            "[row : 2] On the 'choices' sheet, the 'label' value is invalid. "
            "Choices should have a label.",
            NO_LANG_CODE,
            NO_VERSION,
        ],
    ),
    "UCL_Biomass_Plot_Form.xlsx": ("accepted", 66, [FORMULA]),
    "bad_calc.xlsx": ("accepted", 2, [NO_VERSION]),
    "badly_named_choices_sheet.xls": ("accepted", 4, [NO_VERSION]),
    "blank_second_row.xls": ("accepted", 2, []),
    "calculate_without_calculation.xls": (
        "refused",
        "survey",
        34,
        "Missing calculation.",
    ),
    "duplicate_columns.xlsx": (
        "refused",
        "survey",
        1,
        "Duplicate column header: label",
    ),
    "extra_columns.xls": ("accepted", 3, [NO_VERSION]),
    "group_name_test.xls": (
        "refused",
        "survey",
        3,
        "Question or group with no name.",
    ),
    "ict_survey_fails.xls": ("accepted", 2, [NO_VERSION]),
    "spaces_in_choices_header.xls": (
        "accepted",
        3,
        [
            "[row : 1] On the 'choices' sheet, the 'header with spaces' value is "
            "invalid. Column headers must not be empty and must not contain spaces.",
            NO_VERSION,
        ],
    ),
    "xl_date_ambiguous.xlsx": ("accepted", 6, [NO_LANG_CODE, NO_VERSION]),
    "xl_date_ambiguous_v1.xlsx": ("accepted", 7, [NO_LANG_CODE, NO_VERSION]),
}


@needs_shared
def test_broken_table_covers_every_file() -> None:
    assert sorted(p.name for p in BROKEN.iterdir()) == sorted(BROKEN_TABLE)


@needs_shared
@pytest.mark.parametrize("name", sorted(BROKEN_TABLE))
def test_broken_corpus(name: str) -> None:
    expected = BROKEN_TABLE[name]
    if expected[0] == "refused":
        _, sheet, row, reason = expected
        with pytest.raises(XLSFormError) as caught:
            convert(BROKEN / name)
        error = caught.value
        assert (error.file, error.sheet, error.row, error.reason) == (
            name,
            sheet,
            row,
            reason,
        )
        assert str(error) == (
            f"Formulaire « {name} » refusé (feuille « {sheet} », ligne {row}) : "
            f"{reason}"
        )
        assert isinstance(error, InvalidInput)
    else:
        _, n_fields, warnings = expected
        form = convert(BROKEN / name)
        assert len(form.fields) == n_fields
        assert len(form.warnings) == len(warnings), form.warnings  # type: ignore[arg-type]
        for got, part in zip(form.warnings, warnings, strict=True):  # type: ignore[call-overload]
            assert part in got


# -- reference forms --------------------------------------------------------------

PYXFORM = FORMS / "pyxform"
# file: (form_id, title, number of fields)
REFERENCE = {
    "choice_filter_test.xlsx": ("cascading_selects1", "cascading selects", 4),
    "loop.xlsx": ("loop", "loop", 7),
    "tutorial.xls": ("tutorial", "tutorial", 11),
    "widgets.xls": ("widgets", "widgets", 37),
    "xlsform_spec_test.xlsx": ("Spec test", "Spec test", 50),
}


@needs_shared
@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_pyxform_reference_forms_convert(name: str) -> None:
    form = convert(PYXFORM / name)
    assert (form.form_id, form.title, len(form.fields)) == REFERENCE[name]
    assert form.version.startswith("auto-")  # none of them has a version


def _relative(path: str | None) -> str:
    """``/root/a/b`` → ``a/b``: the expected XML names its root after the file."""
    return (path or "").split("/", 2)[2]


@needs_shared
@pytest.mark.parametrize("stem", ["widgets", "xlsform_spec_test"])
def test_same_structure_as_pyxform_expected_xml(stem: str) -> None:
    source = next(PYXFORM.glob(f"{stem}.xls*"))
    expected_xml = (PYXFORM / f"{stem}.xml").read_text(encoding="utf-8")
    got, expected = read_xform(convert(source).xml), read_xform(expected_xml)

    def shape(fields: Iterable) -> list[tuple]:
        return [(_relative(f.path), f.type, f.label, f.in_repeat) for f in fields]

    def binds(xml: str) -> set[tuple]:
        return {
            (_relative(b.get("nodeset")), b.get("type"), b.get("relevant"))
            for b in SafeET.fromstring(xml).iter(f"{XF}bind")
        }

    assert shape(got.fields) == shape(expected.fields)
    assert got.languages == expected.languages
    assert got.media == expected.media
    assert {(p, t) for p, t, _ in binds(convert(source).xml)} == {
        (p, t) for p, t, _ in binds(expected_xml)
    }


@needs_shared
def test_xlsform_spec_test_media_and_languages() -> None:
    form = convert(PYXFORM / "xlsform_spec_test.xlsx")
    assert form.languages == ("default", "chinese", "english")
    assert form.media == (
        "a.jpg",
        "audio_test.wav",
        "b.jpg",
        "chinese_audio.wav",
        "img_test.jpg",
        "img_test_2.jpg",
        "test.mov",
    )


@needs_shared
def test_slum_assessment_fields_hand_checked() -> None:
    """AGPL form (hotosm/fmtm): counts match data/README (128 select_one, 15
    select_multiple); rows checked by hand against its survey sheet."""
    form = convert(FORMS / "slum_assessment_survey.xlsx")
    assert form.form_id == "liberia_urban_resilience"
    assert form.title == "LURP- Liberia Urban Resilience Programme"
    assert form.version.startswith("auto-")
    assert form.languages == ("English", "English(en)")
    assert len(form.fields) == 239
    assert Counter(f.type for f in form.fields) == {
        "select1": 128,
        "string": 51,
        "decimal": 33,
        "select": 15,
        "date": 7,
        "dateTime": 2,
        "geopoint": 1,
        "int": 1,
        "binary": 1,
    }
    by_path = {f.path: f for f in form.fields}
    checks = {
        # survey row 3: end → dateTime, no label
        "/data/end": ("dateTime", None, False),
        # row 11: start-geopoint warmup
        "/data/warmup": ("geopoint", None, False),
        # row 14, inside group "enumerator"
        "/data/enumerator/a1_enumeration_date": (
            "date",
            "A1A. Date of enumeration",
            False,
        ),
        # row 15: select_one, trailing space of the label trimmed
        "/data/enumerator/a2_enumerator_code": ("select1", "A2. Enumerator", False),
        # row 29: integer
        "/data/respondent/a9_respondent_age": (
            "int",
            "A9. What is the age of the respondent?",
            False,
        ),
        # row 37: image
        "/data/respondent/a15_family_photo": ("binary", None, False),
        # row 57: in repeat hhmemb_repeat (row 54), group hh_memb1_adult
        "/data/section_b/hhmemb_repeat/hh_memb1_adult/b2_name": (
            "string",
            "B2. Please provide the FULL NAME of the individual in the house.",
            True,
        ),
    }
    for path, (kind, label, in_repeat) in checks.items():
        field = by_path[path]
        assert (field.type, field.in_repeat) == (kind, in_repeat), path
        if label is not None:
            assert field.label == label, path
    # row 9: a note whose label references ${username}
    assert by_path["/data/Disclaimer"].label.startswith(  # type: ignore[union-attr]
        "Good morning, my name is ${username} and I am working"
    )
    assert by_path["/data/meta/instanceID"].type == "string"
    assert sum(f.in_repeat for f in form.fields) == 18


@needs_shared
def test_wildfires_form_is_refused_and_its_version_is_a_formula() -> None:
    """AGPL form (hotosm/fmtm), French labels, ``version`` = ``=NOW()``. FMTM
    adds a field named ``existing`` at run time; the form as published
    references it, and pyxform 4 refuses the dangling reference."""
    path = FORMS / "simple_building_survey_wildfires.xlsx"
    with pytest.raises(XLSFormError) as caught:
        convert(path)
    error = caught.value
    assert (error.sheet, error.row) == ("survey", 23)
    assert error.reason.startswith("The 'trigger' value is invalid.")
    assert "Could not find the name 'existing'." in error.reason
    assert _version_formula(path) == "=NOW()"


@needs_shared
def test_external_file_is_listed_as_media() -> None:
    form = convert(FORMS / "building_natural_risks_survey.xlsx")
    assert form.version == "2024032701"  # a number cell, read as text
    assert form.media == ("features.csv",)  # select_one_from_file
    assert form.languages == ("default", "Indonesian(id)")


# -- our own rules, on tiny forms written here -------------------------------------


def test_identity_defaults_and_hash(tmp_path: Path) -> None:
    form = convert(_xlsx(tmp_path / "Enquête rapide (v2).xlsx", {"survey": SIMPLE}))
    assert form.form_id == form.title == "Enquete_rapide_v2"
    assert [(f.path, f.type, f.label) for f in form.fields] == [
        ("/data/nom", "string", "Nom"),
        ("/data/meta/instanceID", "string", None),
    ]
    assert form.languages == form.media == ()
    root = next(SafeET.fromstring(form.xml).iter(f"{XF}instance"))[0]
    assert (root.get("id"), root.get("version")) == (form.form_id, form.version)
    import hashlib

    assert form.md5 == hashlib.md5(form.xml.encode("utf-8")).hexdigest()
    assert form.openrosa_hash == f"md5:{form.md5}"


def test_form_id_argument_and_settings(tmp_path: Path) -> None:
    upload = _xlsx(tmp_path / "tmp8f3k.xlsx", {"survey": SIMPLE})
    assert convert(upload, form_id="écoles 2026").form_id == "ecoles_2026"
    settings = [["form_id", "form_title", "version"], ["enquete", "Enquête", "7"]]
    named = _xlsx(tmp_path / "x.xlsx", {"survey": SIMPLE, "settings": settings})
    form = convert(named, form_id="ignored")
    assert (form.form_id, form.title, form.version, form.warnings) == (
        "enquete",
        "Enquête",
        "7",
        (),
    )


def test_version_is_computed_from_content(tmp_path: Path) -> None:
    settings = [["form_id", "version"], ["f", "=NOW()"]]
    a = convert(_xlsx(tmp_path / "a.xlsx", {"survey": SIMPLE, "settings": settings}))
    b = convert(_xlsx(tmp_path / "b.xlsx", {"survey": SIMPLE, "settings": settings}))
    other = [*SIMPLE, ["integer", "age", "Âge"]]
    c = convert(_xlsx(tmp_path / "c.xlsx", {"survey": other, "settings": settings}))
    assert a.version == b.version != c.version
    assert a.version.startswith("auto-") and len(a.version) == 17
    assert a.warnings == (
        f"La version « =NOW() » est une formule : la version {a.version} est "
        "calculée à partir du contenu du formulaire.",
    )
    assert f'version="{a.version}"' in a.xml


def test_media_from_labels_and_choices(tmp_path: Path) -> None:
    survey = [
        ["type", "name", "label", "image"],
        ["select_one couleurs", "couleur", "Couleur", "palette.png"],
    ]
    choices = [
        ["list_name", "name", "label", "image", "audio"],
        ["couleurs", "rouge", "Rouge", "rouge.jpg", "rouge.mp3"],
    ]
    form = convert(_xlsx(tmp_path / "m.xlsx", {"survey": survey, "choices": choices}))
    assert form.media == ("palette.png", "rouge.jpg", "rouge.mp3")
    assert form.fields[0].type == "select1"


def _refusal(path: Path) -> XLSFormError:
    with pytest.raises(XLSFormError) as caught:
        convert(path)
    return caught.value


@pytest.mark.parametrize(
    ("sheets", "sheet", "row", "reason"),
    [
        (
            {"choices": [["list_name", "name", "label"]]},
            "survey",
            None,
            "You must have a sheet named 'survey'.",
        ),
        (
            {"survey": [["type", "name", "label"]]},
            "survey",
            None,
            "La feuille ne contient aucune question.",
        ),
        (
            {"survey": [*SIMPLE, ["txet", "age", "Âge"]]},
            "survey",
            3,
            "Unknown question type 'txet'.",
        ),
        (
            {"survey": [*SIMPLE, ["text", "nom", "Encore"]]},
            "survey",
            3,
            "The 'name' value 'nom' is invalid. Questions, groups, and repeats must "
            "be unique within their nearest parent group or repeat, or the survey "
            "if not inside a group or repeat.",
        ),
        (
            {"survey": [*SIMPLE, ["begin_group", "g", "G"]]},
            "survey",
            3,
            "Unmatched 'begin_group'. No matching 'end_group' was found for the "
            "name 'g'.",
        ),
        (
            {
                "survey": [["type", "name", "label"], ["select_one o", "q", "Q"]],
                "choices": [["list_name", "name", "label", "label"], ["o", "a", "A"]],
            },
            "choices",
            1,
            "Duplicate column header: label",
        ),
        (
            {
                "survey": [["type", "name", "label"], ["select_one o", "q", "Q"]],
                "choices": [["list_name", "name", "label"], ["o", "a", "A"]]
                + [["o", "a", "A bis"]],
            },
            "choices",
            3,
            "The 'name' value is invalid. Choice names must be unique for each "
            "choice list. If this is intentional, use the setting "
            "'allow_choice_duplicates'. Learn more: https://xlsform.org/#choice-names.",
        ),
    ],
)
def test_refusals_name_sheet_and_row(
    tmp_path: Path, sheets: dict, sheet: str, row: int | None, reason: str
) -> None:
    error = _refusal(_xlsx(tmp_path / "f.xlsx", sheets))
    assert (error.file, error.sheet, error.row, error.reason) == (
        "f.xlsx",
        sheet,
        row,
        reason,
    )
    where = f"feuille « {sheet} », ligne {row}" if row else f"feuille « {sheet} »"
    assert str(error) == f"Formulaire « f.xlsx » refusé ({where}) : {reason}"


def test_refuses_files_that_are_not_xlsforms(tmp_path: Path) -> None:
    missing = _refusal(tmp_path / "absent.xlsx")
    assert str(missing) == "Formulaire « absent.xlsx » refusé : Fichier introuvable."
    (tmp_path / "f.csv").write_text("type,name\ntext,a\n")
    assert "Extension « .csv » non prise en charge" in str(_refusal(tmp_path / "f.csv"))
    (tmp_path / "macros.xlsm").write_bytes(b"PK")
    assert _refusal(tmp_path / "macros.xlsm").sheet is None
    for name in ("garbage.xlsx", "garbage.xls"):
        (tmp_path / name).write_bytes(b"not a spreadsheet")
        error = _refusal(tmp_path / name)
        assert (error.sheet, error.row) == (None, None)
        suffix = name.rsplit(".", 1)[1]
        assert error.reason == f"Ce fichier n'est pas un classeur .{suffix} lisible."


def test_message_is_translated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUARTIER_LANG", "en")
    error = _refusal(_xlsx(tmp_path / "f.xlsx", {"survey": [*SIMPLE, ["txet", "a"]]}))
    # English once the catalogue has the string; French until then.
    assert str(error).endswith("Unknown question type 'txet'.")
    assert "f.xlsx" in str(error) and "survey" in str(error) and "3" in str(error)


def test_field_types(tmp_path: Path) -> None:
    survey = [
        ["type", "name", "label", "parameters"],
        ["geotrace", "trace", "Trace"],
        ["geoshape", "zone", "Zone"],
        ["rank o", "ordre", "Ordre"],
        ["range", "note", "Note", "start=0 end=10 step=1"],
        ["time", "heure", "Heure"],
        ["select_one_from_file lieux.geojson", "lieu", "Lieu"],
        ["file", "piece", "Pièce jointe"],
    ]
    choices = [["list_name", "name", "label"], ["o", "a", "A"], ["o", "b", "B"]]
    form = convert(_xlsx(tmp_path / "t.xlsx", {"survey": survey, "choices": choices}))
    assert [(f.name, f.type) for f in form.fields] == [
        ("trace", "geotrace"),
        ("zone", "geoshape"),
        ("ordre", "odk:rank"),
        ("note", "int"),
        ("heure", "time"),
        ("lieu", "select1"),
        ("piece", "binary"),
        ("instanceID", "string"),
    ]
    assert form.media == ("lieux.geojson",)


def test_unexpected_pyxform_failure_is_a_refusal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pyxform 4.5 raises a bare KeyError for some forms (select_one_external
    without a choices entry): the upload still gets an answer."""

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("e")

    monkeypatch.setattr("quartier.forms.xlsform._pyxform_convert", broken)
    error = _refusal(_xlsx(tmp_path / "f.xlsx", {"survey": SIMPLE}))
    assert error.reason == "pyxform n'a pas pu convertir ce formulaire (KeyError('e'))."

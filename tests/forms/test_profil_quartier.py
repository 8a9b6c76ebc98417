"""The example settlement-profiling form shipped with Quartier."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import defusedxml.ElementTree as SafeET
import openpyxl
import pytest

from quartier.forms import EXAMPLE_FORM, convert

XF = "{http://www.w3.org/2002/xforms}"
QUARTIERS = EXAMPLE_FORM.parent.parent / "kinshasa" / "kisenso_quartiers_osm.geojson"


def _script() -> ModuleType:
    path = EXAMPLE_FORM.parent / "make_profil_quartier.py"
    spec = importlib.util.spec_from_file_location("make_profil_quartier", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_identity_and_languages() -> None:
    form = convert(EXAMPLE_FORM)
    assert (form.form_id, form.title, form.version) == (
        "profil_quartier",
        "Profil de quartier (Kisenso)",
        "2026112601",
    )
    assert form.languages == ("French (fr)", "English (en)")
    assert form.warnings == form.media == ()
    assert form.itemsets is None


def test_fields() -> None:
    fields = [(f.path, f.type, f.in_repeat) for f in convert(EXAMPLE_FORM).fields]
    assert fields == [
        ("/data/debut", "dateTime", False),
        ("/data/fin", "dateTime", False),
        ("/data/date_visite", "date", False),
        ("/data/intro", "string", False),
        ("/data/quartier", "select1", False),
        ("/data/position", "geopoint", False),
        ("/data/type_habitat", "select1", False),
        ("/data/nb_menages", "int", False),
        ("/data/annee_installation", "int", False),
        ("/data/acces_eau", "select", False),
        ("/data/distance_sante", "decimal", False),
        ("/data/risque", "select1", False),
        ("/data/risque_details", "string", False),
        ("/data/photo", "binary", False),
        ("/data/points_eau/point_eau_position", "geopoint", True),
        ("/data/points_eau/point_eau_type", "select1", True),
        ("/data/nb_points_eau", "string", False),
        ("/data/remarques", "string", False),
        ("/data/meta/instanceID", "string", False),
        ("/data/meta/instanceName", "string", False),
    ]


def test_labels_are_french_by_default_and_english_too() -> None:
    form = convert(EXAMPLE_FORM)
    labels = {f.name: f.label for f in form.fields}
    assert labels["nb_menages"] == "Nombre de ménages (estimation)"
    assert labels["risque"] == "Risque d'inondation ou d'érosion"
    assert labels["nb_points_eau"] is None  # a calculation
    english = next(
        t
        for t in SafeET.fromstring(form.xml).iter(f"{XF}translation")
        if t.get("lang") == "English (en)"
    )
    texts = {t.get("id"): t.findtext(f"{XF}value") for t in english}
    assert texts["/data/nb_menages:label"] == "Number of households (estimate)"
    assert texts["niveaux_risque-2"] == "High"


def test_rules_reach_the_xform() -> None:
    binds = {
        b.get("nodeset"): b
        for b in SafeET.fromstring(convert(EXAMPLE_FORM).xml).iter(f"{XF}bind")
    }
    assert binds["/data/nb_menages"].get("constraint") == ". > 0 and . < 5000"
    assert binds["/data/quartier"].get("required") == "true()"
    assert binds["/data/risque_details"].get("relevant") == " /data/risque  = 'eleve'"
    assert binds["/data/nb_points_eau"].get("calculate") == "count( /data/points_eau )"
    assert binds["/data/photo"].get("{http://openrosa.org/xforms}max-pixels") == "1280"


def test_every_kisenso_quartier_is_a_choice() -> None:
    features = json.loads(QUARTIERS.read_text(encoding="utf-8"))["features"]
    names = {f["properties"]["name"] for f in features}
    book = openpyxl.load_workbook(EXAMPLE_FORM, read_only=True)
    rows = list(book["choices"].iter_rows(min_row=2, values_only=True))
    book.close()
    labels = {label for list_name, _, label, _ in rows if list_name == "quartiers"}
    assert labels == names and len(names) == 17
    assert ("quartiers", "17_mai", "17 Mai", "17 Mai") in rows


def test_script_rebuilds_the_same_form(tmp_path: Path) -> None:
    rebuilt = _script().build(tmp_path / "profil_quartier.xlsx")
    assert convert(rebuilt).md5 == convert(EXAMPLE_FORM).md5


@pytest.mark.parametrize("sheet", ["survey", "choices", "settings"])
def test_shipped_file_matches_the_script(tmp_path: Path, sheet: str) -> None:
    rebuilt = _script().build(tmp_path / "profil_quartier.xlsx")

    def cells(path: Path) -> list[tuple]:
        book = openpyxl.load_workbook(path, read_only=True)
        try:
            return list(book[sheet].iter_rows(values_only=True))
        finally:
            book.close()

    assert cells(rebuilt) == cells(EXAMPLE_FORM)

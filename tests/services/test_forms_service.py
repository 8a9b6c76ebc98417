"""Adding forms from XLSForms, on both stores: stored versions, mapping to a
dataset, media, refusals that change nothing."""

from __future__ import annotations

import shutil

import openpyxl
import pytest

from quartier.access import ANONYMOUS, LOCAL, Principal
from quartier.domain import ActorKind, Organisation
from quartier.errors import Conflict, InvalidInput, PermissionDenied
from quartier.forms import EXAMPLE_FORM
from quartier.services.forms import add_form
from quartier.storage.base import SqlStore


@pytest.fixture
def ong(city: SqlStore) -> SqlStore:
    city.add_organisation(Organisation("ong", "ONG", ActorKind.NGO))
    return city


def test_the_example_form_creates_its_dataset(ong: SqlStore, tmp_path):
    form, new, warnings = add_form(
        ong, EXAMPLE_FORM, organisation="ong", actor=LOCAL, dataset="profils_terrain"
    )
    assert new and form.form_id == "profil_quartier"
    # a new dataset for the answers: restricted, the NGO's, points (geopoint)
    made = ong.get_dataset("profils_terrain")
    assert (made.producer, made.steward, made.access.value) == (
        "ong",
        "ong",
        "restricted",
    )
    assert (made.kind, made.geometry_type, made.current_version) == (
        "features",
        "POINT",
        0,
    )
    # default mapping: the questions (no metadata, no calculation), and the
    # first location question gives the geometry
    assert form.mapping["/data/position"] == "geometry"
    assert form.mapping["/data/nb_menages"] == "nb_menages"
    assert not any("/meta/" in p for p in form.mapping)
    assert "/data/points_eau/point_eau_type" not in form.mapping  # in a repeat
    assert ong.get_form("profil_quartier").md5 == form.md5
    again = add_form(ong, EXAMPLE_FORM, organisation="ong", actor=LOCAL)
    assert again[1] is False  # same version, same content: nothing new
    assert any(e["action"] == "form.add" for e in ong.list_audit(limit=None))


def test_refusals_change_nothing(ong: SqlStore, tmp_path):
    with pytest.raises(InvalidInput, match="no organisation 'inconnue'"):
        add_form(ong, EXAMPLE_FORM, organisation="inconnue", actor=LOCAL)
    with pytest.raises(PermissionDenied):
        add_form(ong, EXAMPLE_FORM, organisation="ong", actor=ANONYMOUS)
    contributor = Principal(username="awa", roles={"ong": "contributor"})  # type: ignore[dict-item]
    with pytest.raises(PermissionDenied):
        add_form(ong, EXAMPLE_FORM, organisation="ong", actor=contributor)
    # a geopoint cannot feed polygons: refused at publication, not at approval
    with pytest.raises(InvalidInput, match="'position' is a geopoint.*batiments"):
        add_form(
            ong, EXAMPLE_FORM, organisation="ong", actor=LOCAL, dataset="batiments"
        )
    with pytest.raises(InvalidInput, match="not a geopoint, geotrace or geoshape"):
        add_form(
            ong,
            EXAMPLE_FORM,
            organisation="ong",
            actor=LOCAL,
            dataset="nouveau_jeu",
            mapping={"/data/quartier": "geometry"},
        )
    with pytest.raises(InvalidInput, match="invalid"):
        add_form(ong, EXAMPLE_FORM, organisation="ong", actor=LOCAL, dataset="Pas Bon!")
    assert "nouveau_jeu" not in {d.slug for d in ong.list_datasets()}
    with pytest.raises(InvalidInput, match="the form has no field '/nope'"):
        add_form(
            ong,
            EXAMPLE_FORM,
            organisation="ong",
            actor=LOCAL,
            dataset="batiments",
            mapping={"/nope": "name"},
        )
    broken = tmp_path / "casse.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "survey"
    book.active.append(("type", "name", "label"))
    book.active.append(("text", "a", "A"))
    book.active.append(("text", "a", "Encore A"))  # the same name twice
    book.save(broken)
    with pytest.raises(InvalidInput, match="casse.xlsx.*survey"):
        add_form(ong, broken, organisation="ong", actor=LOCAL)
    assert ong.list_forms() == []
    # another content under the same version is refused, naming the fix
    add_form(ong, EXAMPLE_FORM, organisation="ong", actor=LOCAL)
    copy = tmp_path / "profil.xlsx"
    shutil.copy(EXAMPLE_FORM, copy)
    book = openpyxl.load_workbook(copy)
    book["survey"].append(("note", "note_ajoutee_test", "Merci"))
    book.save(copy)
    with pytest.raises(Conflict, match="new version"):
        add_form(ong, copy, organisation="ong", actor=LOCAL)

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


def test_the_example_form_targets_the_buildings(ong: SqlStore, tmp_path):
    form, new, warnings = add_form(
        ong, EXAMPLE_FORM, organisation="ong", actor=LOCAL, dataset="batiments"
    )
    assert new and form.form_id == "profil_quartier" and form.dataset == "batiments"
    # default mapping: fields of the same name, and the first geometry question
    assert "geometry" in form.mapping.values()
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

"""The city edits its reference list: a change copies the shipped list
first, is checked on the whole list, is atomic, audited, and the diagnostic
follows it."""

from __future__ import annotations

import json

import pytest

from quartier.access import LOCAL, Principal
from quartier.domain import Workspace
from quartier.domain.diagnostic import load_reference, shipped_documents
from quartier.errors import InvalidInput, NotFound, PermissionDenied
from quartier.services import diagnostic, reference
from quartier.services.importer import ImportOptions, import_path

SHIPPED = len(shipped_documents())


def water_point() -> dict:
    return {
        "key": "bornes_fontaines",
        "title": {"fr": "Bornes-fontaines", "en": "Standpipes"},
        "why": {"fr": "Accès à l'eau", "en": "Access to water"},
        "geometry": "point",
        "frequency_days": 365,
        "keywords": ["borne"],
        "attributes": [["etat", "state"]],
    }


def test_the_shipped_list_until_the_city_changes_it(store):
    store.ensure_schema()
    custom, docs = reference.documents(store)
    assert not custom and len(docs) == SHIPPED
    assert [e.key for e in reference.entries(store)] == [
        e.key for e in load_reference()
    ]
    added = reference.save_entry(store, LOCAL, water_point())
    assert added.title_en == "Standpipes"
    custom, docs = reference.documents(store)
    assert custom and len(docs) == SHIPPED + 1 and docs[-1]["key"] == "bornes_fontaines"
    assert [a["action"] for a in store.list_audit(limit=5)][0] == "reference.save"


def test_an_entry_changes_keeps_its_place_and_may_be_renamed(store):
    store.ensure_schema()
    first = shipped_documents()[0]
    renamed = first | {"key": "unites", "frequency_days": 30}
    reference.save_entry(store, LOCAL, renamed, key=first["key"])
    entries = reference.entries(store)
    assert entries[0].key == "unites" and entries[0].frequency_days == 30
    assert len(entries) == SHIPPED
    with pytest.raises(NotFound):
        reference.save_entry(store, LOCAL, renamed, key="nowhere")


def test_bad_changes_are_refused_and_change_nothing(store):
    store.ensure_schema()
    reference.save_entry(store, LOCAL, water_point())
    before = store.reference_documents()
    with pytest.raises(InvalidInput, match="bornes_fontaines"):  # key taken
        reference.save_entry(store, LOCAL, water_point())
    with pytest.raises(InvalidInput, match="geometry"):
        reference.save_entry(
            store, LOCAL, water_point() | {"key": "x", "geometry": "blob"}
        )
    with pytest.raises(InvalidInput, match="used twice"):  # renamed onto another
        reference.save_entry(
            store, LOCAL, water_point(), key=shipped_documents()[0]["key"]
        )
    with pytest.raises(InvalidInput, match="entry 2"):
        reference.replace_all(store, LOCAL, {"entries": [water_point(), {}]}, "f.json")
    visitor = Principal()
    with pytest.raises(PermissionDenied):
        reference.save_entry(store, visitor, water_point() | {"key": "y"})
    assert store.reference_documents() == before


def test_the_list_keeps_one_entry_and_resets(store):
    store.ensure_schema()
    reference.replace_all(store, LOCAL, {"entries": [water_point()]}, "f.json")
    with pytest.raises(InvalidInput, match="at least one"):
        reference.remove_entry(store, LOCAL, "bornes_fontaines")
    reference.reset(store, LOCAL)
    assert reference.documents(store) == (False, shipped_documents())


def test_the_diagnostic_follows_the_city_list(store, tmp_path):
    store.ensure_schema()
    path = tmp_path / "bornes.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"etat": "ok"},
                        "geometry": {"type": "Point", "coordinates": [15.3, -4.4]},
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    store.set_workspace(Workspace("Ville", 32733))
    import_path(store, path, ImportOptions(dataset="bornes", title="Bornes"))
    reference.replace_all(store, LOCAL, {"entries": [water_point()]}, "f.json")
    found = diagnostic.cached_diagnostic(store, Principal())
    assert [(r.entry.key, r.datasets) for r in found.entries] == [
        ("bornes_fontaines", ["bornes"])
    ]
    assert found.entries[0].facts.completeness == 1.0
    # the page cache follows the list
    reference.save_entry(
        store, LOCAL, water_point() | {"frequency_days": 1}, key="bornes_fontaines"
    )
    again = diagnostic.cached_diagnostic(store, Principal())
    assert again.entries[0].entry.frequency_days == 1


def test_the_diagnostic_follows_a_dataset_metadata_change(store, tmp_path):
    """A retitled dataset may answer another entry: the page cache knows."""
    store.ensure_schema()
    store.set_workspace(Workspace("Ville", 32733))
    path = tmp_path / "points.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"etat": "ok"},
                        "geometry": {"type": "Point", "coordinates": [15.3, -4.4]},
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    import_path(store, path, ImportOptions(dataset="points", title="Points"))
    reference.replace_all(store, LOCAL, {"entries": [water_point()]}, "f.json")
    before = diagnostic.cached_diagnostic(store, Principal())
    assert before.entries[0].datasets == []
    store.update_dataset("points", title="Bornes du quartier")
    after = diagnostic.cached_diagnostic(store, Principal())
    assert after.entries[0].datasets == ["points"]

"""Statistics tables joined to the workspace's admin units, on both stores."""

from __future__ import annotations

from pathlib import Path

import pytest
import shapely

from quartier.errors import InvalidInput
from quartier.services.demo import data_dir
from quartier.services.importer import ImportOptions, import_path
from quartier.services.workspace import AdminLayer, init_workspace
from quartier.storage.base import SqlStore


@pytest.fixture
def kisenso(store: SqlStore) -> SqlStore:
    d = data_dir()
    init_workspace(
        store,
        name="Kisenso",
        boundary=d / "kisenso_limite_commune_osm.geojson",
        admin=AdminLayer(
            d / "kisenso_quartiers_osm.geojson", "quartier", "osm_id", "name"
        ),
    )
    return store


def _csv(tmp_path: Path, text: str, encoding: str = "cp1252") -> Path:
    path = tmp_path / "population.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_join_by_name_ignores_accents_case_and_spaces(
    kisenso: SqlStore, tmp_path: Path
) -> None:
    path = _csv(
        tmp_path,
        "Quartier;Population;Ménages\n"
        "KABILA;12500;2100,5\n"
        "  révolution ;8000;1500\n"
        "Kabilla;100;10\n",
    )
    (report,) = import_path(kisenso, path)
    assert report.fields[0] == {"name": "unit_code", "type": "text"}
    rows = [r for b in kisenso.read_batches("population") for r in b.to_pylist()]
    codes = {r["Quartier"].strip(): r["unit_code"] for r in rows}
    assert codes == {"KABILA": "8432849", "révolution": "8432843", "Kabilla": None}
    assert rows[0]["Ménages"] == 2100.5
    assert any("2 of 3 rows matched" in n for n in report.notes)
    assert any("row 4" in n and "'Kabila'" in n for n in report.notes)


def test_join_by_code(kisenso: SqlStore, tmp_path: Path) -> None:
    path = _csv(tmp_path, "code,menages\n8432841,10\n8432842,20\n")
    (report,) = import_path(kisenso, path, ImportOptions(join_by="code"))
    rows = [r for b in kisenso.read_batches("population") for r in b.to_pylist()]
    assert [r["unit_code"] for r in rows] == ["8432841", "8432842"]
    assert report.notes[0].startswith("joined to admin units by code")


def test_explicit_join_without_a_match_is_refused(
    kisenso: SqlStore, tmp_path: Path
) -> None:
    path = _csv(tmp_path, "a,b\nx,1\ny,2\n")
    with pytest.raises(InvalidInput, match="population.csv"):
        import_path(kisenso, path, ImportOptions(join_by="name"))
    assert kisenso.list_datasets()[0].slug == "unites_admin"
    assert len(kisenso.list_datasets()) == 1


def test_without_admin_units_a_table_imports_as_is(
    store: SqlStore, tmp_path: Path
) -> None:
    path = _csv(tmp_path, "Quartier;Population\nKabila;1\n")
    (report,) = import_path(store, path)
    assert [f["name"] for f in report.fields] == ["Quartier", "Population"]
    assert store.get_dataset("population").kind == "attributes"


def test_workspace_has_metric_crs_and_hierarchy(kisenso: SqlStore) -> None:
    ws = kisenso.get_workspace()
    assert ws.working_crs == 32733  # UTM 33S for Kinshasa
    rows = [r for b in kisenso.read_batches("unites_admin") for r in b.to_pylist()]
    levels = [r["level"] for r in rows]
    assert levels.count("commune") == 1 and levels.count("quartier") == 17
    commune = next(r for r in rows if r["level"] == "commune")
    assert {r["parent_code"] for r in rows if r["level"] == "quartier"} == {
        commune["code"]
    }


def _hierarchy_file(tmp_path: Path, rows: list[tuple]) -> Path:
    import geopandas as gpd

    frame = gpd.GeoDataFrame(
        {
            "code": [r[0] for r in rows],
            "nom": [r[1] for r in rows],
            "niveau": [r[2] for r in rows],
            "parent": [r[3] for r in rows],
        },
        geometry=[shapely.box(i, 0, i + 1, 1) for i in range(len(rows))],
        crs="EPSG:4326",
    )
    path = tmp_path / "unites.geojson"
    frame.to_file(path, driver="GeoJSON")
    return path


def test_three_level_hierarchy_from_one_layer(store: SqlStore, tmp_path: Path) -> None:
    path = _hierarchy_file(
        tmp_path,
        [
            ("C1", "Ville", "commune", None),
            ("A1", "Arrondissement 1", "arrondissement", "C1"),
            ("Q1", "Quartier 1", "quartier", "A1"),
            ("Q2", "Quartier 2", "quartier", "A1"),
        ],
    )
    init_workspace(
        store,
        name="Ville",
        admin=AdminLayer(
            path,
            code_field="code",
            name_field="nom",
            level_field="niveau",
            parent_field="parent",
        ),
    )
    rows = [r for b in store.read_batches("unites_admin") for r in b.to_pylist()]
    assert [(r["code"], r["level"], r["parent_code"]) for r in rows] == [
        ("C1", "commune", None),
        ("A1", "arrondissement", "C1"),
        ("Q1", "quartier", "A1"),
        ("Q2", "quartier", "A1"),
    ]


@pytest.mark.parametrize(
    "rows, message",
    [
        ([("A1", "a", "district", None)], "not one of"),
        ([("Q1", "q", "quartier", "X9")], "unknown parent 'X9'"),
        ([("Q1", "q", "quartier", None), ("Q1", "r", "quartier", None)], "twice"),
        (
            [("Q1", "q", "quartier", None), ("A1", "a", "arrondissement", "Q1")],
            "cannot belong",
        ),
    ],
)
def test_bad_hierarchy_is_refused_and_changes_nothing(
    store: SqlStore, tmp_path: Path, rows: list[tuple], message: str
) -> None:
    path = _hierarchy_file(tmp_path, rows)
    layer = AdminLayer(
        path,
        code_field="code",
        name_field="nom",
        level_field="niveau",
        parent_field="parent",
    )
    with pytest.raises(InvalidInput, match=message):
        init_workspace(store, name="Ville", admin=layer)
    assert store.list_datasets() == []

"""The demo city against what README measured on the real files."""

from __future__ import annotations

from pathlib import Path

import pytest

from quartier.services.demo import build_demo
from quartier.storage import open_store

# shared/data/README.md, "Notes for the demo city"
EXPECTED = {
    "unites_admin": 18,  # the commune and its 17 quartiers
    "batiments": 608,  # 324 + 284
    "routes": 92,
    "erosions": 58,
    "sante": 42,
    "ecoles": 209,
    "marches": 7,
    "population_estimee": 17,
    "batiments_annees_illustratives": 608,
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("demo") / "kisenso.gpkg"
    with open_store(str(path)) as store:
        summary = build_demo(store)
        yield store, summary


def test_demo_counts_match_the_readme(demo) -> None:
    store, summary = demo
    assert {d["slug"]: d["feature_count"] for d in summary["datasets"]} == EXPECTED
    assert summary["working_crs"] == 32733  # UTM 33S (Kinshasa)


def test_demo_fields_hold_no_pandas_index(demo) -> None:
    """Filtered GeoDataFrames must not leak their index as a field."""
    store, _ = demo
    leaked = {
        d.slug: [
            f.name
            for f in store.get_version(d.slug, 1).fields
            if f.name.startswith("__index_level")
        ]
        for d in store.list_datasets()
    }
    assert {k: v for k, v in leaked.items() if v} == {}


def test_illustrative_tables_are_flagged(demo) -> None:
    store, _ = demo
    flagged = {d.slug for d in store.list_datasets() if d.illustrative}
    assert flagged == {"population_estimee", "batiments_annees_illustratives"}
    assert all(store.get_dataset(s).kind == "attributes" for s in flagged)


def test_shared_data_present(shared_data: Path) -> None:
    assert (shared_data / "demo" / "kinshasa").is_dir()

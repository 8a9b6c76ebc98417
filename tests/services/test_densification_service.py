"""``quartier analyze densification`` on the demo city, on both stores."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
from shapely.geometry import box

from quartier.errors import InvalidInput
from quartier.services.densification import DensificationParams, run_densification
from quartier.services.importer import ImportOptions, import_path
from quartier.storage.base import SqlStore


def rows(store: SqlStore, slug: str) -> list[dict]:
    return [r for b in store.read_batches(slug) for r in b.to_pylist()]


def test_demo_falls_back_to_a_grid_and_says_why(city: SqlStore):
    # the demo's roads are an incomplete extract: they enclose few blocks
    run = run_densification(city, DensificationParams(cell_m=200, top=5))
    s = run.summary
    assert s["plots"] == "grid" and "grid of 200 m" in s["note"]
    assert s["exclusions"] and s["excluded_m2"] > 0  # erosion gullies
    assert s["floors"].startswith("unknown")
    assert len(s["top"]) == 5
    extra = [t["extra_floor_m2"] for t in s["top"]]
    assert extra == sorted(extra, reverse=True)
    got = rows(city, "densification")
    assert len(got) == s["plots_count"]
    assert {r["plot_kind"] for r in got} == {"grille"}
    assert all(r["extra_floor_m2"] == 0 for r in got if r["excluded"])
    assert sum(r["built_m2"] for r in got) == pytest.approx(s["built_m2"], abs=1)
    lineage = json.loads(city.get_dataset("densification").lineage)
    assert lineage["inputs"]["buildings"]["dataset"] == "batiments"
    assert lineage["inputs"]["hazard"]["dataset"] == "erosions"
    assert lineage["parameters"]["max_far"] == 1.8


def test_blocks_when_asked(city: SqlStore):
    run = run_densification(city, DensificationParams(plots="blocks"))
    assert run.summary["plots"] == "blocks" and run.summary["plots_count"] > 5
    assert {r["plot_kind"] for r in rows(city, "densification")} == {"îlots"}


def test_parcels_are_used_when_there_are_some(city: SqlStore, tmp_path):
    ws = city.get_workspace()
    homes = gpd.GeoDataFrame(
        geometry=gpd.GeoSeries.from_wkt([ws.boundary_wkt], crs=4326).to_crs(
            ws.working_crs
        )
    )
    x0, y0, _, _ = homes.total_bounds
    parcels = gpd.GeoDataFrame(
        {"ref": ["P1", "P2"]},
        geometry=[
            box(x0, y0, x0 + 500, y0 + 500),
            box(x0 + 500, y0, x0 + 1000, y0 + 500),
        ],
        crs=ws.working_crs,
    ).to_crs(4326)
    path = tmp_path / "parcelles.geojson"
    parcels.to_file(path)
    import_path(
        city,
        path,
        ImportOptions(dataset="parcelles", title="Parcelles", theme="foncier"),
    )
    run = run_densification(city, DensificationParams())
    assert run.summary["plots"] == "parcels" and run.summary["plots_count"] == 2
    lineage = json.loads(city.get_dataset("densification").lineage)
    assert lineage["inputs"]["parcels"]["dataset"] == "parcelles"


def test_bad_parameters_are_named(city: SqlStore):
    with pytest.raises(InvalidInput, match="max_coverage"):
        run_densification(city, DensificationParams(max_coverage=2))
    with pytest.raises(InvalidInput, match="plots: expected"):
        run_densification(city, DensificationParams(plots="hexagons"))
    with pytest.raises(InvalidInput, match="no parcels dataset"):
        run_densification(city, DensificationParams(plots="parcels"))
    with pytest.raises(InvalidInput, match="floors field 'etages'"):
        run_densification(city, DensificationParams(floors_field="etages"))

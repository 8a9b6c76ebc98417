"""``quartier analyze suitability`` on the demo city, on both stores."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from quartier.errors import InvalidInput
from quartier.services.importer import ImportOptions, import_path
from quartier.services.suitability import SuitabilityParams, run_suitability
from quartier.storage.base import SqlStore


def test_cells_scored_ranked_and_kept(city: SqlStore):
    run = run_suitability(city, SuitabilityParams(cell_m=500, top=5))
    s = run.summary
    assert s["people"] == "dasymetric" and s["cells"] > 10
    assert len(s["top"]) == 5
    scores = [t["score"] for t in s["top"]]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
    rows = [r for b in city.read_batches("aptitude_sites") for r in b.to_pylist()]
    assert len(rows) == s["cells"]
    assert all(0 <= r["score"] <= 100 and 0 <= r["hazard_free"] <= 1 for r in rows)
    lineage = json.loads(city.get_dataset("aptitude_sites").lineage)
    assert lineage["inputs"]["competitors"]["dataset"] == "marches"
    assert lineage["parameters"]["cell_m"] == 500


def test_bad_parameters_are_named(city: SqlStore):
    with pytest.raises(InvalidInput, match="unknown criteria: loyer"):
        run_suitability(city, SuitabilityParams(cell_m=500, weights={"loyer": 1}))
    with pytest.raises(InvalidInput, match="larger cells"):
        run_suitability(city, SuitabilityParams(cell_m=5))
    with pytest.raises(InvalidInput, match="'triangle' is not one of hexagon, square"):
        run_suitability(city, SuitabilityParams(cell_m=500, grid="triangle"))


def test_hexagons_and_zoning(city: SqlStore, tmp_path: Path):
    # commerce allowed west of Kisenso's middle meridian, forbidden east of it
    west, south, east, north = shapely.from_wkt(
        city.get_workspace().boundary_wkt
    ).bounds
    middle = (west + east) / 2
    zones = gpd.GeoDataFrame(
        {"commerce": ["oui", "non"]},
        geometry=[
            shapely.box(west - 1, south - 1, middle, north + 1),
            shapely.box(middle, south - 1, east + 1, north + 1),
        ],
        crs=4326,
    )
    zones.to_file(tmp_path / "zonage.geojson")
    import_path(
        city,
        tmp_path / "zonage.geojson",
        ImportOptions(dataset="zonage", theme="urbanisme"),
    )
    params = SuitabilityParams(
        cell_m=500, grid="hexagon", zoning="zonage", zoning_field="commerce", top=50
    )
    run = run_suitability(city, params)
    s = run.summary
    assert s["grid"] == "hexagon" and 0 < s["excluded"] < s["cells"]
    rows = [r for b in city.read_batches("aptitude_sites") for r in b.to_pylist()]
    assert len(rows) == s["cells"]
    excluded = [r for r in rows if r["excluded"]]
    assert len(excluded) == s["excluded"]
    assert all(r["score"] == 0 and r["zone_allowed"] == 0 for r in excluded)
    assert all(r["rank"] == s["cells"] - s["excluded"] + 1 for r in excluded)
    # the best cells are all where commerce is allowed
    kept = {r["cell"] for r in rows if not r["excluded"]}
    assert {t["cell"] for t in s["top"]} <= kept
    assert all(t["lon"] < middle + 0.01 for t in s["top"])
    lineage = json.loads(city.get_dataset("aptitude_sites").lineage)
    assert lineage["inputs"]["zoning"]["dataset"] == "zonage"
    assert lineage["parameters"]["grid"] == "hexagon"

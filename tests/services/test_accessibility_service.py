"""``quartier analyze accessibility`` on the demo city, on both stores."""

from __future__ import annotations

import json
import math

import pytest

from quartier.errors import InvalidInput
from quartier.services.accessibility import AccessibilityParams, run_accessibility
from quartier.storage.base import SqlStore


def test_travel_times_to_health_facilities_are_kept_as_datasets(city: SqlStore):
    run = run_accessibility(city, AccessibilityParams(), author="test")
    s = run.summary
    assert s["facilities"] == "sante" and s["profile"] == "walk"
    # every building with a geometry (one of the demo's 608 has none)
    assert s["buildings_total"] == city.get_dataset("batiments").feature_count - 1
    assert 0 < s["buildings_beyond"] < s["buildings_total"]
    assert 0 < s["people_beyond"] < s["people_total"]
    assert set(run.datasets) == {
        "acces_sante",
        "isochrones_sante",
        "acces_sante_synthese",
    }

    rows = [r for b in city.read_batches("acces_sante") for r in b.to_pylist()]
    minutes = [r["minutes"] for r in rows]
    assert all(m is None or (m >= 0 and math.isfinite(m)) for m in minutes)
    beyond = sum(1 for m in minutes if m is None or m > 15)
    assert beyond == s["buildings_beyond"]
    assert all(r["facility_name"] is not None for r in rows if r["minutes"] is not None)

    # isochrones: one polygon per threshold, each containing the smaller ones
    iso = city.get_dataset("isochrones_sante")
    assert iso.feature_count == 4
    lineage = json.loads(iso.lineage)
    assert lineage["analysis"] == "accessibility"
    assert lineage["parameters"]["thresholds_min"] == [5, 10, 15, 30]
    assert lineage["inputs"]["roads"]["dataset"] == "routes"

    # driving is faster: never more buildings beyond the limit
    drive = run_accessibility(city, AccessibilityParams(profile="drive"))
    assert drive.summary["buildings_beyond"] <= s["buildings_beyond"]
    assert drive.datasets["acces_sante"] == 2


def test_unknown_facilities_are_named(city: SqlStore):
    with pytest.raises(InvalidInput, match="facilities: no dataset 'pompiers'"):
        run_accessibility(city, AccessibilityParams(facilities="pompiers"))


def test_shelter_capacity_against_people_exposed(city: SqlStore, tmp_path):
    """Three shelters with a capacity, imported beside the demo: the people in
    buildings near the erosion gullies go to their nearest shelter."""
    import geopandas as gpd

    from quartier.services.analyses import read_frame
    from quartier.services.importer import ImportOptions, import_path

    ws = city.get_workspace()
    homes = read_frame(city, city.get_dataset("batiments"), ws.working_crs)
    spots = homes.geometry.iloc[[0, 200, 400]].centroid
    shelters = gpd.GeoDataFrame(
        {"nom": ["École A", "Église B", "Stade C"], "capacite": [50, 10, 5000]},
        geometry=spots.values,
        crs=ws.working_crs,
    ).to_crs(4326)
    path = tmp_path / "abris.geojson"
    shelters.to_file(path)
    import_path(city, path, ImportOptions(dataset="abris", theme="secours"))
    run = run_accessibility(city, AccessibilityParams(facilities="abris", buffer_m=30))
    s = run.summary["shelters"]
    assert s["counted"] == "people" and s["shelters"] == 3
    assert s["capacity_total"] == 5060 and s["exposed"] > 0
    rows = [r for b in city.read_batches("abris_abris") for r in b.to_pylist()]
    assert [r["name"] for r in rows] == ["École A", "Église B", "Stade C"]
    demand = sum(r["demand"] for r in rows)
    assert demand + s["unserved"] == pytest.approx(s["exposed"], abs=0.5)
    for r in rows:
        assert r["shortfall"] == pytest.approx(
            max(r["demand"] - r["capacity"], 0), abs=0.1
        )
    assert s["shortfall_total"] == pytest.approx(sum(r["shortfall"] for r in rows))
    lineage = json.loads(city.get_dataset("abris_abris").lineage)
    assert lineage["inputs"]["hazard"]["dataset"] == "erosions"
    with pytest.raises(InvalidInput, match="no capacity field 'lits'"):
        run_accessibility(
            city, AccessibilityParams(facilities="abris", capacity_field="lits")
        )

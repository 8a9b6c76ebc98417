"""Hazard exposure on tiny hand-computed cases (metres, EPSG:32733)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, box

from quartier.analysis.exposure import (
    MINIMUM_NEEDS,
    UNIT_OUTSIDE,
    exclusive_zones,
    exposure,
    minimum_needs,
)

CRS = 32733


def gdf(geoms, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=list(geoms), crs=CRS)


# Two hazard classes: "fort" covers x 0–10, "faible" x 0–20 (under "fort").
HAZARD = gdf([box(0, 0, 10, 10), box(0, 0, 20, 10)], classe=["fort", "faible"])
# Two units side by side: A is x 0–15, B is x 15–40.
UNITS = gdf([box(0, 0, 15, 10), box(15, 0, 40, 10)], name=["A", "B"])
# Buildings: 1 m² in "fort" (A), 3 m² in "faible" (A), 4 m² in "faible" (B,
# straddling the class edge at x=20), 4 m² outside (B).
BUILDINGS = gdf(
    [box(1, 1, 2, 2), box(11, 1, 14, 2), box(19, 1, 21, 3), box(30, 1, 32, 3)]
)


def test_classes_are_exclusive_and_ordered():
    zones = exclusive_zones(HAZARD, "classe", ["fort", "faible"])
    assert zones["hazard_class"].tolist() == ["fort", "faible"]
    assert zones.area.tolist() == [100.0, 100.0]  # "faible" lost what "fort" has
    # unranked classes come after the ranked ones: here "fort" lies wholly
    # under "faible", so nothing is left of it; no class field: one class
    assert exclusive_zones(HAZARD, "classe", ["faible"])["hazard_class"].tolist() == [
        "faible"
    ]
    assert exclusive_zones(HAZARD, "classe", ["faible"]).area.sum() == 200.0
    assert exclusive_zones(HAZARD).area.tolist() == [200.0]


def test_buildings_people_facilities_and_roads_per_unit_and_class():
    result = exposure(
        HAZARD,
        class_field="classe",
        class_order=["fort", "faible"],
        buildings=BUILDINGS,
        units=UNITS,
        population=pd.Series({"A": 40.0, "B": 80.0}),
        facilities={"ecoles": gdf([Point(5, 5), Point(12, 5), Point(35, 5)])},
        roads=gdf([LineString([(0, 5), (40, 5)])]),
    )
    b = result.buildings
    assert b["hazard_class"].fillna("-").tolist() == ["fort", "faible", "faible", "-"]
    assert b["unit"].tolist() == ["A", "A", "B", "B"]
    # A's 40 people over 1 + 3 m²; B's 80 over 4 + 4 m²
    assert b["people"].tolist() == pytest.approx([10, 30, 40, 40])
    s = result.summary
    assert (s["buildings_exposed"], s["buildings_total"]) == (3, 4)
    assert (s["people_exposed"], s["people_total"]) == (80.0, 120.0)
    assert s["ecoles_exposed"] == 2 and s["road_m_exposed"] == 20.0
    table = result.table.set_index(["unit", "hazard_class"])
    assert table.loc[("A", "fort"), "buildings"] == 1
    assert table.loc[("A", "faible"), "people"] == 30
    assert table.loc[("B", "faible"), "people"] == 40
    assert table.loc[("A", "fort"), "road_m"] == 10
    assert table.loc[("A", "faible"), "road_m"] == 5  # x 10–15
    assert table.loc[("B", "faible"), "road_m"] == 5  # x 15–20
    assert table.loc[("A", "faible"), "ecoles"] == 1
    assert s["needs"]["riz_kg"] == 80 * MINIMUM_NEEDS["riz_kg"]


def test_buffer_widens_the_hazard_and_parts_outside_units_still_count():
    result = exposure(
        gdf([box(0, 0, 10, 10)]),
        buildings=gdf([box(12, 0, 13, 1)]),
        roads=gdf([LineString([(-5, 5), (20, 5)])]),
        buffer_m=3,
    )
    assert result.summary["buildings_exposed"] == 1
    assert result.table["unit"].unique().tolist() == [UNIT_OUTSIDE]
    assert result.summary["road_m_exposed"] == pytest.approx(16.0)


def test_people_estimate_is_labelled():
    result = exposure(HAZARD, buildings=BUILDINGS, people_per_building=5)
    assert result.summary["people_method"] == "estimate"
    assert result.summary["people_exposed"] == 15
    without = exposure(HAZARD, buildings=BUILDINGS)
    assert without.summary["people_method"] == "none"
    assert "people_exposed" not in without.summary


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="hazard: expected a projected"):
        exposure(HAZARD.set_crs(4326, allow_override=True))
    with pytest.raises(ValueError, match="no class field 'niveau'"):
        exposure(HAZARD, class_field="niveau")


def test_minimum_needs_round_up():
    assert minimum_needs(3, {"kits": 0.2}) == {"kits": 1.0}


boxes = st.tuples(
    st.integers(0, 50), st.integers(0, 50), st.integers(1, 20), st.integers(1, 20)
).map(lambda t: box(t[0], t[1], t[0] + t[2], t[1] + t[3]))


@settings(max_examples=40, deadline=None)
@given(
    hazards=st.lists(boxes, min_size=1, max_size=4),
    classes=st.lists(st.sampled_from(["a", "b", "c"]), min_size=4, max_size=4),
    buildings=st.lists(boxes, min_size=1, max_size=12),
    people=st.floats(0, 10_000),
)
def test_exposure_never_exceeds_totals(hazards, classes, buildings, people):
    result = exposure(
        gdf(hazards, c=classes[: len(hazards)]),
        class_field="c",
        buildings=gdf(buildings),
        units=gdf([box(0, 0, 100, 100)], name=["U"]),
        population=pd.Series({"U": people}),
        roads=gdf([LineString([(0, 0), (70, 70)])]),
    )
    s = result.summary
    assert 0 <= s["buildings_exposed"] <= s["buildings_total"] == len(buildings)
    assert 0 <= s["people_exposed"] <= s["people_total"] + 1e-6
    assert s["people_total"] == pytest.approx(people, abs=0.05)  # rounded to 0.1
    assert result.table["buildings"].sum() == s["buildings_exposed"]
    assert 0 <= s["road_m_exposed"] <= LineString([(0, 0), (70, 70)]).length + 1e-6


def test_census_groups_are_spread_and_counted_like_the_total():
    # A (40 people) shares over 1 + 3 m², B (80) over 4 + 4 m²: ¼ ¾ ½ ½.
    # femmes + hommes partition the total; age_0_14 overlaps both.
    groups = pd.DataFrame(
        {"femmes": [24.0, 40.0], "hommes": [16.0, 40.0], "age_0_14": [20.0, 8.0]},
        index=["A", "B"],
    )
    result = exposure(
        HAZARD,
        class_field="classe",
        class_order=["fort", "faible"],
        buildings=BUILDINGS,
        units=UNITS,
        population=pd.Series({"A": 40.0, "B": 80.0}),
        groups=groups,
    )
    b = result.buildings
    assert b["people_femmes"].tolist() == pytest.approx([6, 18, 20, 20])
    assert b["people_age_0_14"].tolist() == pytest.approx([5, 15, 4, 4])
    s = result.summary
    assert s["people_exposed_by_group"] == {
        "femmes": 44.0,  # 6 + 18 + 20; the last building is outside
        "hommes": 36.0,  # 4 + 12 + 20
        "age_0_14": 24.0,  # 5 + 15 + 4
    }
    assert s["people_total_by_group"] == {
        "femmes": 64.0,
        "hommes": 56.0,
        "age_0_14": 28.0,
    }
    table = result.table.set_index(["unit", "hazard_class"])
    cols = ["people", "people_femmes", "people_hommes", "people_age_0_14"]
    assert table.loc[("A", "fort"), cols].tolist() == [10, 6, 4, 5]
    assert table.loc[("A", "faible"), cols].tolist() == [30, 18, 12, 15]
    assert table.loc[("B", "faible"), cols].tolist() == [40, 20, 20, 4]


def test_groups_need_the_population():
    with pytest.raises(ValueError, match="groups: census groups need"):
        exposure(HAZARD, buildings=BUILDINGS, groups=pd.DataFrame({"f": [1.0]}, ["A"]))


@settings(max_examples=40, deadline=None)
@given(
    hazards=st.lists(boxes, min_size=1, max_size=3),
    buildings=st.lists(boxes, min_size=1, max_size=12),
    people=st.lists(st.floats(0, 10_000), min_size=2, max_size=2),
    women=st.floats(0, 1),
    young=st.floats(0, 1),
)
def test_exposed_groups_never_exceed_their_totals(
    hazards, buildings, people, women, young
):
    population = pd.Series({"W": people[0], "E": people[1]})
    groups = pd.DataFrame(
        {
            "femmes": population * women,
            "hommes": population * (1 - women),  # with femmes: the total
            "moins_15_ans": population * young,  # overlaps both
        }
    )
    result = exposure(
        gdf(hazards),
        buildings=gdf(buildings),
        units=gdf([box(0, 0, 35, 80), box(35, 0, 80, 80)], name=["W", "E"]),
        population=population,
        groups=groups,
    )
    s = result.summary
    exposed, total = s["people_exposed_by_group"], s["people_total_by_group"]
    for group in groups.columns:
        assert 0 <= exposed[group] <= total[group] + 1e-6
        counted = result.table.get(f"people_{group}", pd.Series(dtype=float))
        assert counted.sum() == pytest.approx(
            exposed[group], abs=0.05 * len(result.table) + 0.05
        )
    # groups that partition the total sum to the people exposed (rounding: 0.1)
    assert exposed["femmes"] + exposed["hommes"] == pytest.approx(
        s["people_exposed"], abs=0.15
    )

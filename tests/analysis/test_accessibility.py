"""Travel times on tiny hand-computed networks (metres, EPSG:32733)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, box

from quartier.analysis.accessibility import (
    accessibility,
    isochrones,
    road_graph,
    travel_times,
)

CRS = 32733
WALK = 5 / 3.6  # m/s


def gdf(geoms, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=list(geoms), crs=CRS)


# A "T": a 1 km primary road along x, a 1 km footway up from its middle, and a
# separate 100 m residential street far away (not connected).
ROADS = gdf(
    [
        LineString([(0, 0), (500, 0), (1000, 0)]),
        LineString([(500, 0), (500, 1000)]),
        LineString([(5000, 0), (5100, 0)]),
    ],
    highway=["primary", "footway", "residential"],
)


def node_time(times, x, y) -> float:
    i = int(np.argmin(np.hypot(*(times.graph.nodes - (x, y)).T)))
    return float(times.seconds[i])


def test_walking_times_from_one_and_from_two_sources():
    g = road_graph(ROADS, profile="walk")
    one = travel_times(g, gdf([Point(0, 0)]))
    assert node_time(one, 1000, 0) == pytest.approx(1000 / WALK)
    assert node_time(one, 500, 1000) == pytest.approx(1500 / WALK)
    assert np.isinf(node_time(one, 5100, 0))  # another component
    two = travel_times(g, gdf([Point(0, 0), Point(1000, 0)]))
    assert node_time(two, 1000, 0) == pytest.approx(0, abs=1e-3)
    assert node_time(two, 500, 1000) == pytest.approx(1500 / WALK)
    # the nearest source is known for every reached node
    i = int(np.argmin(np.hypot(*(g.nodes - (1000, 0)).T)))
    assert two.source[i] == 1


def test_driving_uses_road_classes_and_leaves_footways_out():
    g = road_graph(ROADS, profile="drive")
    t = travel_times(g, gdf([Point(0, 0)]))
    assert node_time(t, 1000, 0) == pytest.approx(1000 / (50 / 3.6))
    assert len(g.nodes) == 5  # no footway nodes (500,1000)
    slow = road_graph(ROADS, profile="drive", speeds_kmh={"primary": 25})
    assert node_time(travel_times(slow, gdf([Point(0, 0)])), 1000, 0) == (
        pytest.approx(1000 / (25 / 3.6))
    )


def test_buildings_reach_their_nearest_facility_and_people_beyond_a_limit():
    g = road_graph(ROADS, profile="walk")
    # a facility 100 m off the road: its walk to the network counts too
    times = travel_times(g, gdf([Point(0, 100)]))
    buildings = gdf(
        [box(999, 9, 1001, 11), box(499, 999, 501, 1001), box(4999, 0, 5001, 2)]
    )
    out, table = accessibility(
        times,
        buildings,
        limit_min=15,
        people=pd.Series([10.0, 20.0, 30.0]),
        units=pd.Series(["A", "A", "B"]),
    )
    assert out["minutes"].tolist()[:2] == pytest.approx(
        [(100 + 1000 + 10) / WALK / 60, (100 + 1500) / WALK / 60]
    )
    # off a stray street, people walk to the nearest point the facility reaches
    assert out["minutes"].iloc[2] == pytest.approx(
        (100 + 1000 + 4000) / WALK / 60, 1e-3
    )
    assert out["facility"].tolist() == [0, 0, 0]
    rows = table.set_index("unit")
    # 13.3 min and 19.2 min: one of A's buildings is beyond 15 minutes
    assert (
        rows.loc["A", "buildings_beyond"] == 1 and rows.loc["A", "people_beyond"] == 20
    )
    assert rows.loc["B", "people_beyond"] == 30


def test_isochrones_grow_with_time():
    g = road_graph(ROADS, profile="walk")
    areas = isochrones(travel_times(g, gdf([Point(0, 0)])), [5, 10, 20], width_m=20)
    assert areas["minutes"].tolist() == [5, 10, 20]
    sizes = areas.area.tolist()
    assert sizes[0] < sizes[1] < sizes[2]
    assert areas.geometry.iloc[2].contains(areas.geometry.iloc[1].buffer(-1e-6))
    assert areas.crs == ROADS.crs


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="unknown profile 'bike'"):
        road_graph(ROADS, profile="bike")
    with pytest.raises(ValueError, match="no class field 'type'"):
        road_graph(ROADS, profile="drive", class_field="type")
    with pytest.raises(ValueError, match="roads: expected a projected"):
        road_graph(ROADS.set_crs(4326, allow_override=True))


coords = st.tuples(st.integers(0, 1000), st.integers(0, 1000))


@settings(max_examples=40, deadline=None)
@given(sources=st.lists(coords, min_size=1, max_size=4), extra=coords)
def test_more_sources_never_take_longer(sources, extra):
    g = road_graph(ROADS, profile="walk")
    base = travel_times(g, gdf([Point(*p) for p in sources]))
    more = travel_times(g, gdf([Point(*p) for p in [*sources, extra]]))
    reached = np.isfinite(base.seconds)
    assert (more.seconds[reached] <= base.seconds[reached] + 1e-6).all()
    assert (base.seconds >= 0).all()

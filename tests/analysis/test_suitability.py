"""Site suitability on a hand-computed strip of cells (metres, EPSG:32733)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, box

from quartier.analysis.accessibility import road_graph
from quartier.analysis.suitability import people_within, square_grid, suitability

CRS = 32733
WALK = 5 / 3.6


def gdf(geoms, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=list(geoms), crs=CRS)


# three 100 m cells along a 300 m street
CELLS = square_grid(box(0, -50, 300, 50), 100, crs=CRS)
ROAD = gdf([LineString([(x, 0) for x in range(0, 310, 10)])], highway=["residential"])


def test_grid_covers_the_area():
    assert len(CELLS) == 3
    assert CELLS.total_bounds.tolist() == [0, -50, 300, 50]
    with pytest.raises(ValueError, match="larger cells"):
        square_grid(box(0, 0, 100_000, 100_000), 10, crs=CRS)


def test_people_within_reach_on_the_network():
    graph = road_graph(ROAD, profile="walk")
    homes = np.array([[10.0, 0.0], [290.0, 0.0]])
    # 2 minutes on foot ≈ 167 m: the first cell (centre x=50) reaches the first
    # home only, the middle one (x=150) both, the last (x=250) the second only
    reach = people_within(graph, CELLS, homes, np.array([100.0, 10.0]), 2.0)
    assert reach.tolist() == [100.0, 110.0, 10.0]


def test_scores_weights_and_ranks():
    result = suitability(
        CELLS,
        population=np.array([100.0, 110.0, 10.0]),
        competitors=gdf([Point(250, 0), Point(260, 0)]),
        radius_m=60,
        hazard=gdf([box(0, -50, 50, 50)]),
        weights={"population": 2, "competition": 1, "hazard_free": 1},
    )
    c = result.cells
    assert result.weights == {
        "population": 0.5,
        "competition": 0.25,
        "hazard_free": 0.25,
    }
    assert c["competition"].tolist() == [0, 0, 2]
    assert c["hazard_free"].tolist() == [0.5, 1.0, 1.0]
    assert c["population_score"].tolist() == pytest.approx([0.9, 1.0, 0.0])
    assert c["competition_score"].tolist() == [1.0, 1.0, 0.0]  # fewer is better
    assert c["score"].tolist() == pytest.approx([70.0, 100.0, 25.0])
    assert c["rank"].tolist() == [2, 1, 3]


def test_bad_weights_are_named():
    with pytest.raises(ValueError, match="unknown criteria: loyer"):
        suitability(CELLS, population=np.zeros(3), weights={"loyer": 1})


@settings(max_examples=40, deadline=None)
@given(
    people=st.lists(st.floats(0, 1e5), min_size=3, max_size=3),
    w=st.tuples(st.floats(0.01, 5), st.floats(0.01, 5), st.floats(0.01, 5)),
)
def test_scores_are_bounded_and_the_best_ranks_first(people, w):
    c = suitability(
        CELLS,
        population=np.array(people),
        weights=dict(zip(["population", "competition", "hazard_free"], w, strict=True)),
    ).cells
    assert c["score"].between(0, 100).all()
    assert (c.loc[c["rank"] == 1, "score"] == c["score"].max()).all()

"""Site suitability on a hand-computed strip of cells (metres, EPSG:32733)."""

from __future__ import annotations

import math
from itertools import combinations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, Polygon, box

from quartier.analysis.accessibility import road_graph
from quartier.analysis.suitability import (
    hexagon_grid,
    people_within,
    square_grid,
    suitability,
)

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


# ------------------------------------------------------------------ hexagons


def test_hexagon_count_and_shape_by_hand():
    # 100 m across: side 57.7 m, columns 86.6 m apart; over 300 × 200 m the
    # columns at x = 0, 86.6, 173.2, 259.8, 346.4 hold 3, 2, 3, 2, 3 cells
    # (the odd ones, half a cell higher, only touch the bottom and top edges)
    cells = hexagon_grid(box(0, 0, 300, 200), 100, crs=CRS)
    assert len(cells) == 13
    assert cells["cell"].tolist() == list(range(13))
    side = 100 / math.sqrt(3)
    assert cells.area.tolist() == pytest.approx([3 * math.sqrt(3) / 2 * side**2] * 13)
    first = cells.geometry.iloc[0]
    assert first.bounds == pytest.approx((-side, -50, side, 50))  # flat-topped
    with pytest.raises(ValueError, match="larger cells"):
        hexagon_grid(box(0, 0, 100_000, 100_000), 10, crs=CRS)
    with pytest.raises(ValueError, match="> 0 m"):
        hexagon_grid(box(0, 0, 100, 100), 0, crs=CRS)


@pytest.mark.parametrize(
    "area",
    [
        box(0, 0, 300, 200),
        Polygon([(0, 0), (420, 35), (390, 260), (120, 330), (-40, 150)]),
    ],
)
def test_hexagons_tile_the_area_without_overlap(area):
    cells = hexagon_grid(area, 70, crs=CRS)
    shapes = list(cells.geometry)
    union = shapely.union_all(shapes)
    # total area == covered area: no overlap; the area is fully covered
    assert sum(s.area for s in shapes) == pytest.approx(union.area, rel=1e-9)
    assert area.difference(union).area == pytest.approx(0, abs=1e-6)
    for a, b in combinations(shapes, 2):
        assert a.intersection(b).area == pytest.approx(0, abs=1e-6)
    # and every cell overlaps the area
    assert all(s.intersection(area).area > 0 for s in shapes)


def test_hexagons_score_like_squares():
    cells = hexagon_grid(box(0, -50, 300, 50), 100, crs=CRS)
    c = suitability(cells, population=np.arange(len(cells), dtype=float)).cells
    assert {"cell", "population", "competition", "hazard_free", "score", "rank"} <= set(
        c
    )
    assert c.loc[c["rank"] == 1, "population"].item() == len(cells) - 1


# -------------------------------------------------------------------- zoning

# commerce allowed on the west half of the first cell, forbidden on the rest of
# the first two cells; the third cell's zoning is unknown
ZONING = gdf(
    [box(0, -50, 50, 50), box(50, -50, 200, 50)],
    code=["C", "R"],
    commerce=["oui", "Non"],
)


@pytest.mark.parametrize(
    "how",
    [{"zoning_field": "code", "allowed_zones": ["C"]}, {"zoning_field": "commerce"}],
)
def test_zoning_excludes_cells_where_commerce_is_forbidden(how):
    c = suitability(
        CELLS,
        population=np.array([100.0, 110.0, 10.0]),
        weights={"population": 1},
        zoning=ZONING,
        **how,
    ).cells
    assert c["zone_allowed"].tolist() == [0.5, 0.0, 0.0]
    assert c["zone_unknown"].tolist() == [0.0, 0.0, 1.0]
    assert c["excluded"].tolist() == [False, True, False]
    # the 0–1 scale runs over the two cells left: 100 people → 1, 10 → 0
    assert c["population_score"].tolist()[0::2] == [1.0, 0.0]
    assert np.isnan(c["population_score"].iloc[1])
    assert c["score"].tolist() == [100.0, 0.0, 0.0]
    assert c["rank"].tolist() == [1, 3, 2]  # excluded cells rank last


def test_bad_zoning_is_named():
    with pytest.raises(ValueError, match="holds 'peut-être'"):
        suitability(
            CELLS,
            population=np.zeros(3),
            zoning=gdf([box(0, -50, 50, 50)], commerce=["peut-être"]),
            zoning_field="commerce",
        )
    with pytest.raises(ValueError, match="no field 'usage'"):
        suitability(CELLS, population=np.zeros(3), zoning=ZONING, zoning_field="usage")

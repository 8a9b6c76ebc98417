"""Densification potential on three hand-computed plots (metres, EPSG:32733).

    y=10 ┌──────────┬──────────┬──────────┐
         │h1 ▓▓  h2▓│▓▓        │ excluded │   plots A | B | C, 20 m × 10 m
    y=0  └──────────┴──────────┴──────────┘   road along y = −5, service at (30, 5)
         0          20         40         60

- h1 = [0,5]×[0,10], 2 floors: 50 m² in A;
- h2 = [16,22]×[0,10], floors unknown (1 assumed): 40 m² in A, 20 m² in B,
  counted in A (its representative point x=19);
- C lies wholly in an exclusion zone.

Rules: max FAR 1.0, max coverage 0.5.

====  =======  ========  =========  ===========  ==========  =========
plot  built    coverage  floor m²   extra floor  extra foot  flags
====  =======  ========  =========  ===========  ==========  =========
A     90       0.45      140        60           10          —
B     20       0.10      20         180          80          under-used (20/200 < 0.25)
C     0        0         0          0 (excl.)    0           excluded
====  =======  ========  =========  ===========  ==========  =========
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, box

from quartier.analysis.densification import Rules, blocks_from_roads, densification

CRS = 32733


def gdf(geoms, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=list(geoms), crs=CRS)


PLOTS = gdf([box(0, 0, 20, 10), box(20, 0, 40, 10), box(40, 0, 60, 10)], plot=[1, 2, 3])
HOUSES = gdf([box(0, 0, 5, 10), box(16, 0, 22, 10)])
FLOORS = pd.Series([2, None])
ROAD = gdf([LineString([(0, -5), (60, -5)])])
SERVICE = gdf([Point(30, 5)])
EXCLUDED = gdf([box(40, 0, 60, 10)])
RULES = Rules(max_far=1.0, max_coverage=0.5)


def run(**kw):
    args = dict(
        floors=FLOORS, roads=ROAD, services=SERVICE, exclusions=EXCLUDED, rules=RULES
    )
    return densification(PLOTS, HOUSES, **(args | kw)).set_index("plot").sort_index()


def test_hand_computed_plots():
    r = run()
    assert r["built_m2"].tolist() == [90.0, 20.0, 0.0]
    assert r["buildings"].tolist() == [2, 0, 0]
    assert r["coverage"].tolist() == [0.45, 0.10, 0.0]
    assert r["floor_m2"].tolist() == [140.0, 20.0, 0.0]
    assert r.loc[1, "floors_known"] == pytest.approx(50 / 90)
    assert r["extra_floor_m2"].tolist() == [60.0, 180.0, 0.0]
    assert r["extra_footprint_m2"].tolist() == [10.0, 80.0, 0.0]
    assert r["excluded"].tolist() == [False, False, True]
    assert r["underused"].tolist() == [False, True, False]
    assert r["vacant"].tolist() == [False, False, False]
    assert r["rank"].tolist() == [2, 1, 3]
    assert r["dist_road_m"].tolist() == [5.0, 5.0, 5.0]
    assert r["dist_service_m"].tolist() == [20.0, 0.0, 20.0]


def test_far_only_where_floors_are_all_known():
    # h2's floors are unknown (A and B); C has no building: its FAR is 0
    assert run()["far"].isna().tolist() == [True, True, False]
    known = run(floors=pd.Series([2, 3]))
    assert known.loc[1, "far"] == pytest.approx((50 * 2 + 40 * 3) / 200)
    assert run(floors=None)["far"].isna().all()


def test_vacant_plot_and_no_exclusions():
    r = run(exclusions=None, roads=None, services=None)
    assert r.loc[3, "vacant"] and not r.loc[3, "excluded"]
    assert r.loc[3, "extra_floor_m2"] == 200.0
    assert r["dist_road_m"].isna().all()


def test_rules_are_checked():
    with pytest.raises(ValueError, match="max_coverage"):
        run(rules=Rules(max_coverage=1.5))
    with pytest.raises(ValueError, match="projected"):
        densification(PLOTS.to_crs(4326), HOUSES)


def test_blocks_from_a_cross_of_roads():
    area = box(0, 0, 100, 100)
    cross = gdf([LineString([(50, 0), (50, 100)]), LineString([(0, 50), (100, 50)])])
    blocks = blocks_from_roads(cross, area)
    assert len(blocks) == 4
    assert sorted(blocks.area.round(6).tolist()) == [2500.0] * 4


def test_blocks_join_a_road_stopping_short():
    area = box(0, 0, 100, 100)
    short = gdf([LineString([(50, 0), (50, 92)])])  # 8 m short of the edge
    assert len(blocks_from_roads(short, area, snap_m=0)) == 1
    blocks = blocks_from_roads(short, area, snap_m=10)
    assert sorted(blocks.area.round(6).tolist()) == [5000.0, 5000.0]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0, 90), st.floats(0, 40), st.floats(1, 10), st.floats(1, 10)
        ),
        max_size=12,
    ),
    st.floats(0.2, 4),
)
def test_properties(boxes, max_far):
    """Plots tiling a strip: footprints add up, extras never exceed what is
    allowed, and the ranking follows the extra floor area."""
    plots = gdf([box(x, 0, x + 25, 50) for x in range(0, 100, 25)], plot=[1, 2, 3, 4])
    homes = gdf([box(x, y, x + w, y + h) for x, y, w, h in boxes])
    r = densification(plots, homes, rules=Rules(max_far=max_far))
    inside = shapely.area(
        shapely.intersection(homes.geometry.values, box(0, 0, 100, 50))
    )
    assert r["built_m2"].sum() == pytest.approx(float(np.sum(inside)), abs=1e-6)
    assert (r["extra_floor_m2"] <= r["allowed_floor_m2"] + 1e-9).all()
    assert (r["extra_floor_m2"] >= 0).all()
    assert r["buildings"].sum() == len(homes)
    assert r["extra_floor_m2"].is_monotonic_decreasing


def test_equal_potential_ranks_the_plot_nearer_services_first():
    twins = gdf([box(0, 0, 10, 10), box(10, 0, 20, 10)], plot=[1, 2])
    r = densification(twins, HOUSES.iloc[:0], services=gdf([Point(19, 5)]))
    assert r["extra_floor_m2"].tolist() == [180.0, 180.0]
    assert r["plot"].tolist() == [2, 1] and r["rank"].tolist() == [1, 2]

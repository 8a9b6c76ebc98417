"""Neighbourhood profile figures on hand-computed units (metres, EPSG:32733).

Two units side by side, A = [0,100]×[0,100] and B = [100,300]×[0,100];
two buildings in A (one 10×10, one 10×20 crossing nothing), one in B
straddling the border, a road crossing both, three schools.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, box

from quartier.analysis.profile import compare
from quartier.analysis.spatial import (
    area_in_units,
    count_in_units,
    covered_share,
    length_in_units,
)

CRS = 32733


def gdf(geoms, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=list(geoms), crs=CRS)


UNITS = gdf([box(0, 0, 100, 100), box(100, 0, 300, 100)], name=["A", "B"])
HOMES = gdf([box(10, 10, 20, 20), box(40, 40, 50, 60), box(95, 0, 115, 10)])
ROAD = gdf([LineString([(50, 50), (250, 50)])])
SCHOOLS = gdf([Point(5, 5), Point(150, 50), Point(400, 50)])


def test_counts_by_representative_point():
    # the straddling building's representative point (105, 5) is in B;
    # the school at x=400 is in no unit
    assert count_in_units(HOMES, UNITS).to_dict() == {"A": 2, "B": 1}
    assert count_in_units(SCHOOLS, UNITS).to_dict() == {"A": 1, "B": 1}
    assert count_in_units(SCHOOLS.iloc[:0], UNITS).to_dict() == {"A": 0, "B": 0}


def test_lengths_and_areas_are_cut_by_the_units():
    assert length_in_units(ROAD, UNITS).to_dict() == {"A": 50.0, "B": 150.0}
    # A: 100 + 200 + 50 (5×10 of the straddler); B: 150 (15×10)
    assert area_in_units(HOMES, UNITS).to_dict() == {"A": 350.0, "B": 150.0}


def test_covered_share_counts_overlaps_once():
    slums = gdf([box(0, 0, 50, 100), box(25, 0, 75, 100), box(250, 0, 400, 100)])
    # A: [0,75]×[0,100] of 100×100 → 0.75; B: [250,300] of 200×100 → 0.25
    assert covered_share(slums, UNITS).to_dict() == {"A": 0.75, "B": 0.25}
    assert covered_share(None, UNITS).to_dict() == {"A": 0.0, "B": 0.0}


def test_compare_gives_median_and_rank_among_known_units():
    table = pd.DataFrame(
        {"density": [100.0, 300.0, np.nan, 200.0], "schools": [0, 2, 2, 1]},
        index=["A", "B", "C", "D"],
    )
    c = compare(table)
    assert c.loc[("A", "density")].to_dict() == {
        "value": 100.0,
        "median": 200.0,
        "rank": 3.0,
        "ranked": 3.0,
    }
    assert np.isnan(c.loc[("C", "density"), "rank"])
    # ties share the best rank
    assert c.xs("schools", level="indicator")["rank"].to_dict() == {
        "A": 4.0,
        "B": 1.0,
        "C": 1.0,
        "D": 3.0,
    }
    assert c.loc[("A", "schools"), "median"] == 1.5


@settings(max_examples=50, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(-1e6, 1e6)), min_size=1, max_size=20))
def test_medians_lie_within_the_values_and_ranks_within_the_known(values):
    table = pd.DataFrame({"x": values}, index=[f"u{i}" for i in range(len(values))])
    c = compare(table.astype(float))
    known = [v for v in values if v is not None]
    ranks = c["rank"].dropna()
    assert len(ranks) == len(known)
    if known:
        assert min(known) <= c["median"].iloc[0] <= max(known)
        assert ranks.min() == 1 and ranks.max() <= len(known)
    else:
        assert c["median"].isna().all()
    assert (c["ranked"] == len(known)).all()


def test_units_without_names_are_refused_clearly():
    with pytest.raises(ValueError, match="no name field"):
        count_in_units(HOMES, UNITS.rename(columns={"name": "nom"}))
    with pytest.raises(ValueError, match="no name field"):
        length_in_units(ROAD, UNITS.rename(columns={"name": "nom"}))

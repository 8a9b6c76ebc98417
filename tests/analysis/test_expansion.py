"""Urban expansion on a hand-computed street of buildings (metres, EPSG:32733)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from quartier.analysis.expansion import expansion

CRS = 32733


def gdf(geoms, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=list(geoms), crs=CRS)


# 10×10 (100 m²), 10×10, 10×20 (200 m²), 20×20 (400 m²) and one undated
BUILDINGS = gdf(
    [
        box(400, 0, 410, 10),
        box(600, 0, 610, 10),
        box(1400, 0, 1410, 20),
        box(2500, 0, 2520, 20),
        box(3000, 0, 3010, 10),
    ],
    annee=[1990, 2005, 2005, 2015, None],
)
UNITS = gdf([box(0, -50, 1000, 50), box(1000, -50, 5000, 50)], name=["Centre", "Est"])


def test_periods_stock_and_growth():
    r = expansion(BUILDINGS, year_field="annee", breaks=[2000, 2010])
    p = r.periods.set_index("period")
    assert p.index.tolist() == ["<2000", "2000–2009", "≥2010"]
    assert p["buildings"].tolist() == [1, 2, 1]
    assert p["area_m2"].tolist() == [100, 300, 400]
    assert p["stock_m2"].tolist() == [100, 400, 800]
    # the stock went from 100 to 400 m² over the ten years 2000–2009
    assert p.loc["2000–2009", "growth_pct_year"] == pytest.approx(
        100 * (4**0.1 - 1), abs=0.01
    )
    assert pd.isna(p.loc["≥2010", "growth_pct_year"])  # an open period
    assert r.summary["undated"] == 1 and r.summary["dated"] == 4
    assert (r.summary["first_year"], r.summary["last_year"]) == (1990, 2015)


def test_units_rings_hazard_and_plan():
    r = expansion(
        BUILDINGS,
        year_field="annee",
        breaks=[2000, 2010],
        units=UNITS,
        centre=Point(0, 0),
        ring_km=1,
        hazard=gdf([box(2510, -5, 2600, 5)]),
        planned=gdf([box(0, -50, 1000, 50)]),
    )
    units = r.units.set_index(["period", "unit"])["area_m2"]
    assert units[("2000–2009", "Centre")] == 100
    assert units[("2000–2009", "Est")] == 200
    rings = r.rings.set_index(["period", "ring_km"])["buildings"]
    assert rings[("<2000", 0.0)] == 1 and rings[("2000–2009", 1.0)] == 1
    assert rings[("≥2010", 2.0)] == 1
    assert r.periods.set_index("period").loc["≥2010", "in_hazard_m2"] == 400
    assert r.summary["in_hazard_m2"] == 400
    assert r.summary["outside_plan_m2"] == 600  # the two buildings east of 1 km


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="no year field 'year'"):
        expansion(BUILDINGS, year_field="year", breaks=[2000])
    with pytest.raises(ValueError, match="increasing years"):
        expansion(BUILDINGS, year_field="annee", breaks=[2010, 2000])
    with pytest.raises(ValueError, match="projected"):
        expansion(
            BUILDINGS.set_crs(4326, allow_override=True),
            year_field="annee",
            breaks=[2000],
        )


@settings(max_examples=50, deadline=None)
@given(
    items=st.lists(
        st.tuples(st.integers(0, 5000), st.integers(1950, 2030), st.integers(1, 30)),
        min_size=1,
        max_size=30,
    ),
    breaks=st.lists(st.integers(1960, 2020), min_size=1, max_size=4, unique=True),
)
def test_totals_add_up(items, breaks):
    b = gdf([box(x, 0, x + s, s) for x, _, s in items], annee=[y for _, y, _ in items])
    r = expansion(b, year_field="annee", breaks=sorted(breaks), units=UNITS)
    assert r.periods["buildings"].sum() == len(items)
    stock = r.periods["stock_m2"].tolist()
    assert stock == sorted(stock)
    assert r.units["buildings"].sum() == len(items)
    assert r.rings["buildings"].sum() == len(items)
    assert abs(r.units["area_m2"].sum() - r.summary["built_m2"]) < 0.5

"""Urban expansion on a hand-computed street of buildings (metres, EPSG:32733)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely.geometry import Point, box

from quartier.analysis.expansion import (
    GHSL_EPOCHS,
    Raster,
    built_up_cells,
    date_by_layers,
    epoch_cells,
    expansion,
    raster_expansion,
)

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


# ------------------------------------------------------ dated building layers

# 2005: A, B and F in two halves; 2010: E; 2015: A moved by half its width
# (50 % overlap: the same), F whole (covered by its two halves: the same), E
# again, and C and D new (D overlaps B by 40 % only); B is missing in 2015
LAYER_2005 = gdf(
    [box(0, 0, 10, 10), box(20, 0, 30, 10), box(100, 0, 105, 10), box(105, 0, 110, 10)]
)
LAYER_2010 = gdf([box(60, 0, 70, 10)])
LAYER_2015 = gdf(
    [
        box(5, 0, 15, 10),
        box(40, 0, 50, 10),
        box(26, 0, 36, 10),
        box(60, 0, 70, 10),
        box(100, 0, 110, 10),
    ]
)


def test_layers_date_each_building_by_its_first_layer():
    dated = date_by_layers([(2015, LAYER_2015), (2005, LAYER_2005), (2010, LAYER_2010)])
    assert dated["year"].tolist() == [2005, 2005, 2005, 2005, 2010, 2015, 2015]
    # the first footprint is kept, B stays though it is missing in 2015
    assert dated.geometry.iloc[0].equals(box(0, 0, 10, 10))
    assert dated.geometry.iloc[6].equals(box(26, 0, 36, 10))
    r = expansion(dated, year_field="year", breaks=[2006, 2011])
    p = r.periods.set_index("period")
    assert p["buildings"].tolist() == [4, 1, 2]
    assert p["area_m2"].tolist() == [300, 100, 200]
    assert p["stock_m2"].tolist() == [300, 400, 600]


def test_layers_overlap_threshold_and_bad_input():
    stricter = date_by_layers([(2005, LAYER_2005), (2015, LAYER_2015)], min_overlap=0.6)
    # A moved by half its width is now a new building
    assert stricter["year"].tolist().count(2015) == 4
    with pytest.raises(ValueError, match="same year"):
        date_by_layers([(2005, LAYER_2005), (2005, LAYER_2015)])
    with pytest.raises(ValueError, match="min_overlap"):
        date_by_layers([(2005, LAYER_2005)], min_overlap=0)
    with pytest.raises(ValueError, match="layer 2005: expected a projected"):
        date_by_layers([(2005, LAYER_2005.to_crs(4326))])
    with pytest.raises(ValueError, match="at least one"):
        date_by_layers([])


@settings(max_examples=40, deadline=None)
@given(
    layers=st.lists(
        st.lists(st.tuples(st.integers(0, 50), st.integers(1, 8)), max_size=8),
        min_size=1,
        max_size=4,
    )
)
def test_layers_stock_never_decreases(layers):
    frames = [
        (2000 + 5 * i, gdf([box(x, 0, x + s, s) for x, s in items]))
        for i, items in enumerate(layers)
    ]
    dated = date_by_layers(frames)
    # every building of the first layer is kept, and never more than all of them
    assert len(layers[0]) <= len(dated) <= sum(len(items) for items in layers)
    if len(dated):
        r = expansion(dated, year_field="year", breaks=[2003, 2008, 2013])
        stock = r.periods["stock_m2"].tolist()
        assert stock == sorted(stock)


# ------------------------------------------------------------ built-up rasters

NODATA = 65535
# 4×4 cells of 100 m, the top-left corner at (0, 400)
GRID = (100.0, 0.0, 0.0, 0.0, -100.0, 400.0)
SURFACE_2000 = [
    [0, 0, 0, 0],
    [0, 5000, 2000, 0],
    [0, 1000, 0, 0],
    [0, 0, 0, NODATA],
]
SURFACE_2010 = [
    [0, 0, 0, 0],
    [0, 6000, 1500, 0],  # 2000 → 1500 m²: noise, the cell keeps its 2000
    [0, 1000, 3000, 0],
    [500, 0, 0, NODATA],
]
HALVES = gdf([box(0, 0, 200, 400), box(200, 0, 400, 400)], name=["Ouest", "Est"])


def raster(values, transform=GRID, crs=CRS) -> Raster:
    return Raster(np.array(values, dtype=float), transform, crs, NODATA)


def test_surface_rasters_by_period_unit_ring_and_hazard():
    cells = built_up_cells(
        [(2010, raster(SURFACE_2010)), (2000, raster(SURFACE_2000))], crs=CRS
    )
    # 2000: 5000 + 2000 + 1000 m²; 2010: +1000, +3000 and +500 m²
    assert cells["year"].tolist() == [2000, 2000, 2000, 2010, 2010, 2010]
    assert cells["area_m2"].tolist() == [5000, 2000, 1000, 1000, 3000, 500]
    assert cells.geometry.iloc[0].equals(box(100, 200, 200, 300))
    r = raster_expansion(
        cells,
        breaks=[2001],
        units=HALVES,
        centre=Point(0, 0),
        ring_km=0.2,
        hazard=gdf([box(200, 100, 400, 200)]),  # holds the centre of cell (2, 2)
    )
    p = r.periods.set_index("period")
    assert p["cells"].tolist() == [3, 3]
    assert p["area_m2"].tolist() == [8000, 4500]
    assert p["stock_m2"].tolist() == [8000, 12500]
    assert p["in_hazard_m2"].tolist() == [0, 3000]
    units = r.units.set_index(["period", "unit"])["area_m2"]
    assert units.to_dict() == {
        ("<2001", "Est"): 2000,
        ("<2001", "Ouest"): 6000,
        ("≥2001", "Est"): 3000,
        ("≥2001", "Ouest"): 1500,
    }
    rings = r.rings.set_index(["period", "ring_km"])["area_m2"]
    assert rings.to_dict() == {
        ("<2001", 0.2): 8000,
        ("≥2001", 0.0): 500,
        ("≥2001", 0.2): 4000,
    }
    assert r.summary["cells"] == 5 and r.summary["built_m2"] == 12500
    assert "buildings" not in r.periods


def test_cells_are_kept_by_their_centre_and_grids_must_match():
    cells = built_up_cells(
        [(2000, raster(SURFACE_2000)), (2010, raster(SURFACE_2010))],
        crs=CRS,
        area=box(0, 100, 400, 400),  # leaves out the bottom row
    )
    assert cells["area_m2"].sum() == 12000
    shifted = (100.0, 0.0, 50.0, 0.0, -100.0, 400.0)
    with pytest.raises(ValueError, match="raster 2010: not on the same grid"):
        built_up_cells(
            [(2000, raster(SURFACE_2000)), (2010, raster(SURFACE_2010, shifted))],
            crs=CRS,
        )


def test_epoch_raster_codes_and_years():
    codes = [[6, 5, 2, 1], [4, 3, 0, 0], [0, 0, 0, 0], [0, 0, 0, NODATA]]
    cells = epoch_cells(raster(codes), crs=CRS, codes=GHSL_EPOCHS)
    assert sorted(cells["year"].tolist()) == [1975, 1990, 2000, 2014]
    assert cells["area_m2"].tolist() == [10_000.0] * 4  # whole 100 m cells
    r = raster_expansion(cells, breaks=[1976, 1991, 2001])
    assert r.periods["cells"].tolist() == [1, 1, 1, 1]
    assert r.periods["stock_m2"].tolist() == [10_000, 20_000, 30_000, 40_000]
    years = epoch_cells(raster([[1985, 0], [2000, 2015]]), crs=CRS)
    assert sorted(years["year"].tolist()) == [1985, 2000, 2015]
    with pytest.raises(ValueError, match="value 1 is not a year"):
        epoch_cells(raster(codes), crs=CRS)


def test_cell_area_in_metres_from_a_geographic_raster():
    # 0.001° cells near Kinshasa, reprojected to UTM 33S: the area in m² is the
    # cell's true (geodesic) area, within UTM's scale error (< 0.1 % here)
    transform = (0.001, 0.0, 15.3, 0.0, -0.001, -4.4)
    cells = epoch_cells(raster([[2000]], transform, 4326), crs=CRS)
    corners = [(15.3, -4.4), (15.301, -4.4), (15.301, -4.401), (15.3, -4.401)]
    lon, lat = zip(*corners, strict=True)
    true_area = abs(Geod(ellps="WGS84").polygon_area_perimeter(lon, lat)[0])
    assert true_area == pytest.approx(12_260, rel=0.01)
    assert cells["area_m2"].iloc[0] == pytest.approx(true_area, rel=1e-3)


@settings(max_examples=30, deadline=None)
@given(
    stack=st.lists(
        st.lists(st.integers(0, 10_000), min_size=9, max_size=9),
        min_size=1,
        max_size=4,
    ),
    breaks=st.lists(st.integers(1990, 2030), min_size=1, max_size=4, unique=True),
)
def test_raster_stock_never_decreases(stack, breaks):
    rasters = [
        (2000 + 10 * i, raster(np.reshape(v, (3, 3)))) for i, v in enumerate(stack)
    ]
    cells = built_up_cells(rasters, crs=CRS)
    if len(cells) == 0:
        return
    r = raster_expansion(cells, breaks=sorted(breaks))
    stock = r.periods["stock_m2"].tolist()
    assert stock == sorted(stock)
    # the final stock is each cell's largest surface over the epochs
    largest = np.max(np.array(stack, dtype=float), axis=0).sum()
    assert stock[-1] == pytest.approx(largest, abs=1)


def test_more_built_up_than_the_cell_is_refused():
    # 65535 without its no-data declared cannot be m² in a 10 000 m² cell
    undeclared = Raster(np.array(SURFACE_2000, dtype=float), GRID, CRS)
    with pytest.raises(ValueError, match="holds 65535 m² .* measures 10000 m²"):
        built_up_cells([(2000, undeclared)], crs=CRS)

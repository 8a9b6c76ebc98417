"""Coverage and completeness on small figures computed by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from quartier.analysis.coverage import (
    completeness,
    grid_cells,
    missing_buildings,
    units_in_table,
    units_with_data,
)

# four 100 m quartiers in a row: A [0,100], B [100,200], C [200,300], D [300,400]
UNITS = gpd.GeoSeries([shapely.box(100 * i, 0, 100 * (i + 1), 100) for i in range(4)])


def test_units_with_data_counts_any_feature_touching_a_unit():
    features = gpd.GeoSeries(
        [
            shapely.Point(50, 50),  # in A
            shapely.LineString([(150, 10), (250, 10)]),  # crosses B and C
            None,  # a feature without geometry counts nowhere
            shapely.Polygon(),  # nor an empty one
        ]
    )
    got = units_with_data(UNITS, features)
    assert got.tolist() == [True, True, True, False]
    assert got.mean() == 0.75
    assert units_with_data(UNITS, gpd.GeoSeries([])).tolist() == [False] * 4


def test_a_table_covers_the_units_whose_code_has_a_value():
    table = pd.DataFrame({"code": ["A", "B", "C", "Z"], "pop": [100, None, 0, 5]})
    got = units_in_table(["A", "B", "C", "D"], table, "pop")
    assert got.tolist() == [True, False, True, False]  # 0 people is a value
    assert not units_in_table(["A"], table, "absent").any()


def test_completeness_counts_blank_text_as_empty():
    frame = pd.DataFrame(
        {
            "building": ["house", "yes", "school", None, "house"],
            "name": ["Ecole", " ", "", None, "Marché"],
            "levels": [1, None, 2, None, None],
        }
    )
    got = completeness(
        frame, [["building"], ["nom", "name"], ["niveaux", "levels"], ["type"]]
    )
    assert got == {"building": 0.8, "name": 0.4, "levels": 0.4, "type": 0.0}
    assert completeness(frame.iloc[:0], [["building"]]) == {"building": 0.0}


def test_grid_cells_cover_the_area_and_nothing_more():
    triangle = shapely.Polygon([(0, 0), (300, 0), (0, 300)])
    cells = grid_cells(triangle, 100, crs=None)
    # a 3×3 grid over the bounds; the 3 cells above the diagonal do not touch it
    assert len(cells) == 6 and cells["cell"].tolist() == list(range(6))
    assert cells.area.sum() == pytest.approx(6 * 100 * 100)


def test_buildings_are_missing_where_other_layers_show_people():
    cells = gpd.GeoDataFrame(geometry=list(UNITS))
    buildings = gpd.GeoSeries(
        [shapely.box(10, 10, 20, 20), shapely.box(310, 10, 320, 20)]
    )
    roads = gpd.GeoSeries([shapely.LineString([(50, 50), (250, 50)])])  # A, B, C
    schools = gpd.GeoSeries([shapely.Point(350, 50)])  # D
    got = missing_buildings(cells, buildings, [roads, schools])
    assert got["buildings"].tolist() == [True, False, False, True]
    assert got["settled"].tolist() == [True, True, True, True]
    assert got["missing"].tolist() == [False, True, True, False]
    # no evidence at all: nothing is "missing", a building alone still settles
    alone = missing_buildings(cells, buildings, [])
    assert alone["missing"].sum() == 0
    assert np.array_equal(alone["settled"], alone["buildings"])

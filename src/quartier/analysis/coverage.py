"""How much of the territory a dataset covers, and how filled its attributes
are — computed from the data, for the self-diagnostic.

Pure functions over GeoPandas frames in one metric CRS.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely


def units_with_data(units: gpd.GeoSeries, features: gpd.GeoSeries) -> np.ndarray:
    """For each unit, does at least one feature intersect it?

    >>> import shapely, geopandas as gpd
    >>> units = gpd.GeoSeries([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)])
    >>> units_with_data(units, gpd.GeoSeries([shapely.Point(0.5, 0.5)])).tolist()
    [True, False]
    """
    found = np.zeros(len(units), dtype=bool)
    geoms = features.to_numpy()
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if len(units) == 0 or len(geoms) == 0:
        return found
    tree = shapely.STRtree(geoms)
    hit_units, _ = tree.query(units.to_numpy(), predicate="intersects")
    found[np.unique(hit_units)] = True
    return found


def units_in_table(codes: Sequence[str], table: pd.DataFrame, value: str) -> np.ndarray:
    """For each unit code, does ``table`` have a row for it with ``value`` filled?

    >>> import pandas as pd
    >>> t = pd.DataFrame({"code": ["A", "B"], "pop": [10, None]})
    >>> units_in_table(["A", "B", "C"], t, "pop").tolist()
    [True, False, False]
    """
    if "code" not in table or value not in table:
        return np.zeros(len(codes), dtype=bool)
    filled = table.loc[_filled(table[value]), "code"].astype(str)
    return np.isin(np.asarray(codes, dtype=str), filled.to_numpy())


def completeness(
    frame: pd.DataFrame, attributes: Sequence[Sequence[str]]
) -> dict[str, float]:
    """Filled share of each key attribute (by the first of its names the
    frame has; 0 when it has none of them), keyed by that name.

    >>> import pandas as pd
    >>> f = pd.DataFrame({"nom": ["a", "", None, "d"], "x": [1, 2, 3, 4]})
    >>> completeness(f, [["name", "nom"], ["niveaux"]])
    {'nom': 0.5, 'niveaux': 0.0}
    """
    out: dict[str, float] = {}
    for names in attributes:
        present = next((n for n in names if n in frame.columns), None)
        if present is None:
            out[names[0]] = 0.0
        elif len(frame) == 0:
            out[present] = 0.0
        else:
            out[present] = float(_filled(frame[present]).mean())
    return out


def _filled(values: pd.Series) -> pd.Series:
    """Not null and, for text, not blank."""
    present = values.notna()
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        present &= values.astype(str).str.strip() != ""
    return present


def grid_cells(area: shapely.Geometry, size_m: float, crs: object) -> gpd.GeoDataFrame:
    """Square cells of ``size_m`` over ``area`` (those sharing some of its
    inside: a cell touching it at an edge or a corner is left out)."""
    x0, y0, x1, y1 = shapely.bounds(area)
    xs = np.arange(x0, x1, size_m)
    ys = np.arange(y0, y1, size_m)
    gx, gy = np.meshgrid(xs, ys)
    boxes = shapely.box(
        gx.ravel(), gy.ravel(), gx.ravel() + size_m, gy.ravel() + size_m
    )
    keep = shapely.intersects(boxes, area) & ~shapely.touches(boxes, area)
    return gpd.GeoDataFrame(
        {"cell": np.arange(int(keep.sum()))}, geometry=boxes[keep], crs=crs
    )


def missing_buildings(
    cells: gpd.GeoDataFrame,
    buildings: gpd.GeoSeries,
    evidence: Sequence[gpd.GeoSeries],
) -> pd.DataFrame:
    """Per cell: buildings mapped? settlement seen by other layers (roads,
    facilities, addresses…)? and so buildings missing there?

    >>> import shapely, geopandas as gpd
    >>> squares = [shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)]
    >>> cells = gpd.GeoDataFrame(geometry=squares)
    >>> roads = gpd.GeoSeries([shapely.LineString([(0.2, 0.5), (1.8, 0.5)])])
    >>> houses = gpd.GeoSeries([shapely.box(0.1, 0.1, 0.2, 0.2)])
    >>> missing_buildings(cells, houses, [roads])["missing"].tolist()
    [False, True]
    """
    with_buildings = units_with_data(cells.geometry, buildings)
    settled = np.zeros(len(cells), dtype=bool)
    for layer in evidence:
        settled |= units_with_data(cells.geometry, layer)
    return pd.DataFrame(
        {
            "buildings": with_buildings,
            "settled": settled | with_buildings,
            "missing": settled & ~with_buildings,
        },
        index=cells.index,
    )

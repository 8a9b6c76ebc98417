"""Small spatial helpers the analyses share.

>>> import geopandas as gpd, shapely
>>> units = gpd.GeoDataFrame({"name": ["A"]}, geometry=[shapely.box(0, 0, 1, 1)],
...                          crs=32733)
>>> unit_of(shapely.points([(0.5, 0.5), (5, 5)]), units, "name").tolist()
['A', 'hors unités']
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

#: the unit of what lies outside every administrative unit
UNIT_OUTSIDE = "hors unités"


def check_metric(gdf: gpd.GeoDataFrame, name: str) -> None:
    """Refuse data that is not in a projected (metric) CRS, naming it."""
    if gdf.crs is None or not gdf.crs.is_projected:
        raise ValueError(
            f"{name}: expected a projected (metric) CRS, got {gdf.crs!r}; "
            "reproject to the workspace's working CRS first"
        )


def unit_of(
    points: np.ndarray, units: gpd.GeoDataFrame | None, unit_field: str
) -> np.ndarray:
    """The unit holding each point (the first listed, when units overlap)."""
    out = np.full(len(points), UNIT_OUTSIDE, dtype=object)
    if units is None or len(points) == 0:
        return out
    if unit_field not in units.columns:
        raise ValueError(f"units: no name field {unit_field!r}")
    names = units[unit_field].astype(str).to_numpy(dtype=object)
    shapes = np.asarray(units.geometry.values, dtype=object)
    point, unit = shapely.STRtree(shapes).query(points, predicate="intersects")
    first = np.full(len(points), len(names), dtype=np.int64)
    np.minimum.at(first, point, unit)
    inside = first < len(names)
    out[inside] = names[first[inside]]
    return out


def _names(units: gpd.GeoDataFrame, unit_field: str) -> pd.Series:
    if unit_field not in units.columns:
        raise ValueError(f"units: no name field {unit_field!r}")
    return units[unit_field].astype(str)


def count_in_units(
    points: gpd.GeoDataFrame, units: gpd.GeoDataFrame, unit_field: str = "name"
) -> pd.Series:
    """How many of ``points`` (any geometry: by representative point) fall in
    each unit, zero included."""
    names = _names(units, unit_field)
    if points is None or len(points) == 0:
        return pd.Series(0, index=names.to_numpy(), dtype=np.int64)
    geoms = np.asarray(points.geometry.values, dtype=object)
    found = pd.Series(unit_of(shapely.point_on_surface(geoms), units, unit_field))
    counts = found.value_counts()
    return counts.reindex(names.to_numpy(), fill_value=0).astype(np.int64)


def length_in_units(
    lines: gpd.GeoDataFrame, units: gpd.GeoDataFrame, unit_field: str = "name"
) -> pd.Series:
    """Line length (CRS units) cut by each unit."""
    return _cut_by_units(lines, units, unit_field, shapely.length)


def area_in_units(
    polygons: gpd.GeoDataFrame, units: gpd.GeoDataFrame, unit_field: str = "name"
) -> pd.Series:
    """Polygon area (CRS units²) cut by each unit (overlaps counted twice)."""
    return _cut_by_units(polygons, units, unit_field, shapely.area)


def _cut_by_units(
    shapes_in: gpd.GeoDataFrame | None,
    units: gpd.GeoDataFrame,
    unit_field: str,
    measure: Callable[[np.ndarray], np.ndarray],
) -> pd.Series:
    """``measure`` of the pieces of ``shapes_in`` inside each unit, summed."""
    names = _names(units, unit_field).to_numpy()
    if shapes_in is None or len(shapes_in) == 0:
        return pd.Series(0.0, index=names).groupby(level=0).sum()
    shapes = np.asarray(units.geometry.values, dtype=object)
    geoms = np.asarray(shapes_in.geometry.values, dtype=object)
    piece, unit = shapely.STRtree(shapes).query(geoms, predicate="intersects")
    pieces = measure(shapely.intersection(geoms[piece], shapes[unit]))
    sums = np.bincount(unit, weights=pieces, minlength=len(shapes))
    return pd.Series(sums, index=names).groupby(level=0).sum()


def covered_share(
    polygons: gpd.GeoDataFrame | None,
    units: gpd.GeoDataFrame,
    unit_field: str = "name",
) -> pd.Series:
    """Share (0–1) of each unit's area covered by ``polygons`` (dissolved
    first, so overlapping polygons count once)."""
    names = _names(units, unit_field).to_numpy()
    area = pd.Series(shapely.area(np.asarray(units.geometry.values)), index=names)
    area = area.groupby(level=0).sum()
    if polygons is None or len(polygons) == 0:
        return pd.Series(0.0, index=area.index)
    merged = shapely.union_all(
        shapely.make_valid(np.asarray(polygons.geometry.values, dtype=object))
    )
    dissolved = gpd.GeoDataFrame(geometry=[merged], crs=polygons.crs)
    covered = area_in_units(dissolved, units, unit_field)
    return (covered / area.replace(0, np.nan)).fillna(0.0).clip(0, 1)

"""Small spatial helpers the analyses share.

>>> import geopandas as gpd, shapely
>>> units = gpd.GeoDataFrame({"name": ["A"]}, geometry=[shapely.box(0, 0, 1, 1)],
...                          crs=32733)
>>> unit_of(shapely.points([(0.5, 0.5), (5, 5)]), units, "name").tolist()
['A', 'hors unités']
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
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

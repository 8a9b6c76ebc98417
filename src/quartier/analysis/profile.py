"""Neighbourhood profiles: each unit's indicators next to the city's median.

The input is a table with one row per admin unit and one column per
indicator (missing values allowed: a figure the data cannot give). For each
unit and indicator :func:`compare` gives the value, the median over the
units where it is known, the rank (1 = highest value) among those units and
how many units were ranked.

>>> import pandas as pd
>>> t = pd.DataFrame({"density": [100.0, 300.0, None]}, index=["A", "B", "C"])
>>> c = compare(t)
>>> c.loc[("A", "density")].to_dict()
{'value': 100.0, 'median': 200.0, 'rank': 2.0, 'ranked': 2.0}
>>> bool(pd.isna(c.loc[("C", "density"), "rank"]))
True
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from quartier.analysis.spatial import unit_of


def compare(table: pd.DataFrame) -> pd.DataFrame:
    """(unit, indicator) → value, median, rank, ranked."""
    rows = []
    for column in table.columns:
        values = pd.to_numeric(table[column], errors="coerce").astype(float)
        known = values.dropna()
        median = float(known.median()) if len(known) else np.nan
        ranks = known.rank(method="min", ascending=False)
        for unit, value in values.items():
            rows.append(
                {
                    "unit": unit,
                    "indicator": column,
                    "value": value,
                    "median": median,
                    "rank": ranks.get(unit, np.nan),
                    "ranked": float(len(known)),
                }
            )
    frame = pd.DataFrame(
        rows, columns=["unit", "indicator", "value", "median", "rank", "ranked"]
    )
    return frame.set_index(["unit", "indicator"])


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

"""Site suitability for a business on a grid of square cells.

Per cell (metric CRS):

- ``population`` — people living within ``minutes`` of the cell's centre on
  the road network (walking by default): the customers within reach;
- ``competition`` — competitors (or existing markets) within ``radius_m``;
- ``hazard_free`` — share of the cell outside hazard zones.

Each criterion is rescaled to 0–1 across the cells (min–max), turned so that 1
is best (fewer competitors is better), weighted (weights shared out to sum
to 1), and summed into a 0–100 score; cells are ranked and the top ones kept.

>>> import geopandas as gpd, shapely
>>> cells = square_grid(shapely.box(0, 0, 200, 100), 100, crs=32733)
>>> len(cells), cells.area.tolist()
(2, [10000.0, 10000.0])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from quartier.analysis.accessibility import RoadGraph
from quartier.analysis.spatial import check_metric

DEFAULT_WEIGHTS = {"population": 0.5, "competition": 0.3, "hazard_free": 0.2}
#: criteria where less is better
LOWER_IS_BETTER = {"competition"}


@dataclass
class SuitabilityResult:
    #: every cell with its criteria, their 0–1 scores, ``score`` and ``rank``
    cells: gpd.GeoDataFrame
    weights: dict[str, float]


def square_grid(
    area: shapely.Geometry, size_m: float, *, crs: object
) -> gpd.GeoDataFrame:
    """Square cells of ``size_m`` covering ``area`` (cells touching it)."""
    if size_m <= 0:
        raise ValueError("cell size must be > 0 m")
    x0, y0, x1, y1 = shapely.bounds(area)
    xs = np.arange(x0, x1, size_m)
    ys = np.arange(y0, y1, size_m)
    if len(xs) * len(ys) > 200_000:
        raise ValueError(
            f"{len(xs) * len(ys):,} cells of {size_m:g} m: choose larger cells"
        )
    gx, gy = np.meshgrid(xs, ys)
    boxes = shapely.box(
        gx.ravel(), gy.ravel(), gx.ravel() + size_m, gy.ravel() + size_m
    )
    keep = shapely.intersects(boxes, area)
    return gpd.GeoDataFrame(
        {"cell": np.arange(int(keep.sum()))}, geometry=boxes[keep], crs=crs
    )


def people_within(
    graph: RoadGraph,
    cells: gpd.GeoDataFrame,
    homes: np.ndarray,
    people: np.ndarray,
    minutes: float,
    *,
    chunk: int = 256,
) -> np.ndarray:
    """People (at ``homes`` points) within ``minutes`` of each cell's centre.

    A bounded Dijkstra from each cell centre's nearest node (``chunk`` cells
    at a time, so memory stays at ``chunk`` × nodes); people count at their
    home's nearest node; the walk from the centre to the network is included.
    """
    out = np.zeros(len(cells))
    if len(graph.nodes) == 0 or len(cells) == 0 or len(homes) == 0:
        return out
    tree = cKDTree(graph.nodes)
    centres = shapely.get_coordinates(
        shapely.centroid(np.asarray(cells.geometry.values, dtype=object))
    )
    gap, start = tree.query(centres)
    _, home_node = tree.query(homes)
    at_node = np.bincount(
        home_node, weights=np.asarray(people, dtype=float), minlength=len(graph.nodes)
    )
    limit = minutes * 60
    for lo in range(0, len(cells), chunk):
        hi = min(lo + chunk, len(cells))
        seconds = dijkstra(
            graph.costs, directed=False, indices=start[lo:hi], limit=limit
        )
        reached = seconds + gap[lo:hi, None] / graph.walk_ms <= limit
        out[lo:hi] = reached @ at_node
    return out


def suitability(
    cells: gpd.GeoDataFrame,
    *,
    population: np.ndarray,
    competitors: gpd.GeoDataFrame | None = None,
    radius_m: float = 500.0,
    hazard: gpd.GeoDataFrame | None = None,
    weights: Mapping[str, float] | None = None,
) -> SuitabilityResult:
    """Score every cell (see the module's description)."""
    check_metric(cells, "cells")
    out = cells.copy()
    out["population"] = np.round(np.asarray(population, dtype=float), 1)
    centres = shapely.centroid(np.asarray(out.geometry.values, dtype=object))
    out["competition"] = _count_near(centres, competitors, radius_m)
    out["hazard_free"] = _free_share(out, hazard)
    used = _weights(weights)
    score = pd.Series(0.0, index=out.index)
    for name, weight in used.items():
        norm = _minmax(out[name].astype(float))
        if name in LOWER_IS_BETTER:
            norm = 1 - norm
        out[f"{name}_score"] = norm.round(4)
        score += 100 * weight * norm
    out["score"] = score.round(2)
    out["rank"] = score.rank(ascending=False, method="min").astype(int)
    return SuitabilityResult(out, used)


def _count_near(
    centres: np.ndarray, points: gpd.GeoDataFrame | None, radius_m: float
) -> np.ndarray:
    if points is None or len(points) == 0:
        return np.zeros(len(centres), dtype=int)
    check_metric(points, "competitors")
    tree = cKDTree(
        shapely.get_coordinates(shapely.point_on_surface(points.geometry.values))
    )
    near = tree.query_ball_point(shapely.get_coordinates(centres), r=radius_m)
    return np.array([len(n) for n in near], dtype=int)


def _free_share(cells: gpd.GeoDataFrame, hazard: gpd.GeoDataFrame | None) -> np.ndarray:
    if hazard is None or len(hazard) == 0:
        return np.ones(len(cells))
    check_metric(hazard, "hazard")
    zone = shapely.union_all(
        shapely.make_valid(np.asarray(hazard.geometry.values, dtype=object))
    )
    shapes = np.asarray(cells.geometry.values, dtype=object)
    covered = shapely.area(shapely.intersection(shapes, zone)) / shapely.area(shapes)
    return np.round(1 - covered, 4)


def _weights(weights: Mapping[str, float] | None) -> dict[str, float]:
    chosen = dict(DEFAULT_WEIGHTS if weights is None else weights)
    unknown = sorted(set(chosen) - set(DEFAULT_WEIGHTS))
    if unknown:
        raise ValueError(
            f"weights for unknown criteria: {', '.join(unknown)} "
            f"(known: {', '.join(DEFAULT_WEIGHTS)})"
        )
    if any(w < 0 for w in chosen.values()) or sum(chosen.values()) <= 0:
        raise ValueError("weights must be ≥ 0 and not all 0")
    total = sum(chosen.values())
    return {k: v / total for k, v in chosen.items()}


def _minmax(values: pd.Series) -> pd.Series:
    low, high = values.min(), values.max()
    if not np.isfinite(high - low) or high == low:
        return pd.Series(0.0, index=values.index)
    return (values - low) / (high - low)

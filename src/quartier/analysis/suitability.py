"""Site suitability for a business on a grid of square or hexagonal cells.

The grid (:func:`square_grid`, :func:`hexagon_grid`) covers the area with the
cells that overlap it. Per cell (metric CRS):

- ``population`` — people living within ``minutes`` of the cell's centre on
  the road network (walking by default): the customers within reach;
- ``competition`` — competitors (or existing markets) within ``radius_m``;
- ``hazard_free`` — share of the cell outside hazard zones.

Each criterion is rescaled to 0–1 across the cells (min–max), turned so that 1
is best (fewer competitors is better), weighted (weights shared out to sum
to 1), and summed into a 0–100 score; cells are ranked and the top ones kept.

**Zoning, where known** (optional): zoning polygons say where commerce is
allowed, by a yes/no field or by a list of allowed zone codes (other zones
forbid it; where zones overlap, allowed wins). A cell is **excluded** when no
part of it is allowed or of unknown zoning (outside every zone): its criteria
get no score, its score is 0 and it ranks after every other cell; the 0–1
scales are taken over the other cells only.

>>> import geopandas as gpd, shapely
>>> cells = square_grid(shapely.box(0, 0, 200, 100), 100, crs=32733)
>>> len(cells), cells.area.tolist()
(2, [10000.0, 10000.0])
>>> len(hexagon_grid(shapely.box(0, 0, 300, 200), 100, crs=32733))
13
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from quartier.analysis.accessibility import RoadGraph
from quartier.analysis.spatial import check_metric

DEFAULT_WEIGHTS = {"population": 0.5, "competition": 0.3, "hazard_free": 0.2}
#: the most cells a grid may have
MAX_CELLS = 200_000
#: yes/no words of a zoning field (folded: lower case, no accents)
ALLOWED_WORDS = {"oui", "o", "yes", "y", "true", "vrai", "1", "autorise", "allowed"}
FORBIDDEN_WORDS = {"non", "n", "no", "false", "faux", "0", "interdit", "forbidden"}
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
    if len(xs) * len(ys) > MAX_CELLS:
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


def hexagon_grid(
    area: shapely.Geometry, size_m: float, *, crs: object
) -> gpd.GeoDataFrame:
    """Flat-topped hexagons ``size_m`` across covering ``area``.

    ``size_m`` is the distance between opposite edges (a flat-topped hexagon's
    height); the side is ``size_m / √3`` and the area ``√3/2 · size_m²``
    (0.87 of a square of ``size_m``). Columns are ``1.5 × side`` apart, every
    other one half a cell higher; the first cell is centred on the area's
    lower-left corner. Cells whose inside overlaps ``area`` are kept (those
    only touching its edge are not).
    """
    if size_m <= 0:
        raise ValueError("cell size must be > 0 m")
    side = size_m / math.sqrt(3)
    x0, y0, x1, y1 = shapely.bounds(area)
    cols = np.arange(-1, math.ceil((x1 - x0) / (1.5 * side)) + 2)
    rows = np.arange(-1, math.ceil((y1 - y0) / size_m) + 2)
    if len(cols) * len(rows) > MAX_CELLS:
        raise ValueError(
            f"{len(cols) * len(rows):,} cells of {size_m:g} m: choose larger cells"
        )
    gc, gr = np.meshgrid(cols, rows)
    cx = x0 + 1.5 * side * gc.ravel()
    cy = y0 + size_m * (gr.ravel() + 0.5 * (gc.ravel() % 2))
    # six corners (closed), half-heights exact so that flat edges line up
    dx = np.array([side, side / 2, -side / 2, -side, -side / 2, side / 2, side])
    dy = np.array([0, 1, 1, 0, -1, -1, 0]) * size_m / 2
    ring = np.stack([cx[:, None] + dx, cy[:, None] + dy], axis=-1)
    hexagons = shapely.polygons(ring)
    shapely.prepare(area)
    keep = shapely.intersects(hexagons, area)
    # an overlap of a millionth of a cell is rounding along a shared edge
    overlap = shapely.area(shapely.intersection(hexagons[keep], area))
    keep[keep] = overlap > 1e-6 * 3 * math.sqrt(3) / 2 * side**2
    return gpd.GeoDataFrame(
        {"cell": np.arange(int(keep.sum()))}, geometry=hexagons[keep], crs=crs
    )


#: the grids by name
GRIDS = {"square": square_grid, "hexagon": hexagon_grid}


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
    zoning: gpd.GeoDataFrame | None = None,
    zoning_field: str | None = None,
    allowed_zones: Collection[str] | None = None,
) -> SuitabilityResult:
    """Score every cell (see the module's description).

    ``zoning``: polygons whose ``zoning_field`` says yes or no to commerce
    (oui/non, yes/no, true/false, 1/0, autorisé/interdit), or holds a zone
    code, allowed when in ``allowed_zones``; adds ``zone_allowed`` and
    ``zone_unknown`` (shares of the cell) and ``excluded``.
    """
    check_metric(cells, "cells")
    out = cells.copy()
    out["population"] = np.round(np.asarray(population, dtype=float), 1)
    centres = shapely.centroid(np.asarray(out.geometry.values, dtype=object))
    out["competition"] = _count_near(centres, competitors, radius_m)
    out["hazard_free"] = _free_share(out, hazard)
    used = _weights(weights)
    eligible = pd.Series(True, index=out.index)
    if zoning is not None:
        allowed, unknown = _zoning_shares(out, zoning, zoning_field, allowed_zones)
        out["zone_allowed"], out["zone_unknown"] = allowed.round(4), unknown.round(4)
        out["excluded"] = allowed + unknown < 1e-9
        eligible = ~out["excluded"]
    score = pd.Series(0.0, index=out.index)
    for name, weight in used.items():
        norm = _minmax(out.loc[eligible, name].astype(float)).reindex(out.index)
        if name in LOWER_IS_BETTER:
            norm = 1 - norm
        out[f"{name}_score"] = norm.round(4)
        score += 100 * weight * norm.fillna(0.0)
    out["score"] = score.round(2)
    rank = score[eligible].rank(ascending=False, method="min")
    out["rank"] = rank.reindex(out.index).fillna(int(eligible.sum()) + 1).astype(int)
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


def _zoning_shares(
    cells: gpd.GeoDataFrame,
    zoning: gpd.GeoDataFrame,
    field: str | None,
    allowed_zones: Collection[str] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's share in allowed zones, and outside every zone."""
    check_metric(zoning, "zoning")
    if not field or field not in zoning.columns:
        raise ValueError(
            f"zoning: no field {field!r} saying where commerce is allowed "
            f"(fields: {', '.join(c for c in zoning.columns if c != 'geometry')})"
        )
    allows = [_allows(v, field, allowed_zones) for v in zoning[field]]
    shapes = shapely.make_valid(np.asarray(zoning.geometry.values, dtype=object))
    known = shapely.union_all(shapes[[a is not None for a in allows]])
    allowed = shapely.union_all(shapes[[a is True for a in allows]])
    cell_shapes = np.asarray(cells.geometry.values, dtype=object)
    size = shapely.area(cell_shapes)
    inside = shapely.area(shapely.intersection(cell_shapes, known)) / size
    allowed_share = shapely.area(shapely.intersection(cell_shapes, allowed)) / size
    return np.clip(allowed_share, 0, 1), np.clip(1 - inside, 0, 1)


def _allows(value: Any, field: str, allowed_zones: Collection[str] | None) -> Any:
    """True, False, or None (unknown) for one zone's ``field`` value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if allowed_zones is not None:
        return str(value).strip() in {str(z).strip() for z in allowed_zones}
    word = unicodedata.normalize("NFKD", str(value).strip().casefold())
    word = "".join(ch for ch in word if not unicodedata.combining(ch))
    if word in ALLOWED_WORDS:
        return True
    if word in FORBIDDEN_WORDS:
        return False
    raise ValueError(
        f"zoning: {field!r} holds {value!r}: expected yes or no (oui/non, "
        "true/false, 1/0), or give the allowed zone codes"
    )

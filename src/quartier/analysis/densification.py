"""Densification potential: how much more floor area each plot could take.

A *plot* is a cadastral parcel, or — where there are no parcels — a block
enclosed by roads (:func:`blocks_from_roads`), or a grid cell. Per plot, in a
metric CRS:

- ``area_m2``; ``excluded_m2`` — the part inside hazard or protected zones;
  ``buildable_m2`` = ``area_m2 − excluded_m2``; ``excluded`` when the excluded
  part reaches ``rules.excluded_from`` of the plot (nothing is proposed there);
- ``buildings`` (counted by representative point), ``built_m2`` (footprints
  cut to the plot) and ``coverage`` = ``built_m2 / area_m2``;
- ``floor_m2`` — footprint × floors; where floors are unknown,
  ``rules.default_floors`` is assumed and ``floors_known`` (share of the built
  footprint whose floors are known) says how much of it is measured;
  ``far`` (floor-area ratio, ``floor_m2 / area_m2``) only where all floors are
  known, else empty;
- ``dist_road_m`` — from the plot to the nearest road; ``dist_service_m`` —
  straight line from the plot's representative point to the nearest service;
- ``allowed_floor_m2`` = ``rules.max_far × buildable_m2`` and
  ``extra_floor_m2`` = what is allowed minus what stands (never below 0);
  ``extra_footprint_m2`` the same for the ground (``rules.max_coverage``);
- ``vacant`` — coverage below ``rules.vacant_below``; ``underused`` — built,
  but using less than ``rules.underused_below`` of the allowed floor area;
- ``rank`` — 1 for the largest extra floor area; among equal ones, the
  nearest to a service first.

>>> import geopandas as gpd, shapely
>>> plots = gpd.GeoDataFrame({"plot": [1]}, geometry=[shapely.box(0, 0, 20, 10)],
...                          crs=32733)
>>> houses = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 5, 10)], crs=32733)
>>> r = densification(plots, houses, rules=Rules(max_far=1.0)).iloc[0]
>>> float(r.coverage), float(r.extra_floor_m2)
(0.25, 150.0)
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from quartier.analysis.spatial import check_metric


@dataclass(frozen=True)
class Rules:
    """Planning rules and thresholds (defaults: a low-rise African city)."""

    #: largest built share of a plot's buildable ground
    max_coverage: float = 0.6
    #: largest floor-area ratio (floor area / buildable plot area)
    max_far: float = 1.8
    #: floors assumed where a building's floors are unknown
    default_floors: float = 1.0
    #: coverage under which a plot is vacant
    vacant_below: float = 0.05
    #: share of the allowed floor area under which a built plot is under-used
    underused_below: float = 0.25
    #: excluded share of the plot from which nothing is proposed there
    excluded_from: float = 0.5

    def check(self) -> None:
        for name in ("max_coverage", "vacant_below", "underused_below"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if not 0 < self.excluded_from <= 1:
            raise ValueError(
                f"excluded_from must be in (0, 1], got {self.excluded_from}"
            )
        if self.max_far <= 0 or self.default_floors <= 0:
            raise ValueError("max_far and default_floors must be > 0")


def blocks_from_roads(
    roads: gpd.GeoDataFrame,
    area: shapely.Geometry,
    *,
    snap_m: float = 20.0,
    min_area_m2: float = 50.0,
) -> gpd.GeoDataFrame:
    """Blocks enclosed by roads (and the territory's edge) inside ``area``.

    The road lines are noded together with the outline of ``area`` and
    polygonised. A road end that stops short of another road (within
    ``snap_m``) is joined to it first, as mapped networks often have such
    gaps. Slivers under ``min_area_m2`` are dropped.
    """
    check_metric(roads, "roads")
    lines = np.asarray(roads.geometry.values, dtype=object)
    lines = lines[shapely.get_type_id(lines) != -1]
    parts = shapely.get_parts(np.concatenate([lines, [shapely.boundary(area)]]))
    parts = parts[shapely.get_type_id(parts) == 1]  # LineStrings
    joins = _snap_dangles(parts, snap_m) if snap_m > 0 else []
    noded = shapely.union_all(np.concatenate([parts, np.asarray(joins, dtype=object)]))
    polys = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    if len(polys):
        inside = shapely.within(shapely.point_on_surface(polys), area)
        polys = shapely.intersection(polys[inside], area)
        polys = polys[shapely.area(polys) >= min_area_m2]
    if len(polys):  # numbered north to south, then west to east
        centres = shapely.centroid(polys)
        polys = polys[np.lexsort((shapely.get_x(centres), -shapely.get_y(centres)))]
    return gpd.GeoDataFrame(
        {"plot": np.arange(1, len(polys) + 1, dtype=np.int64)},
        geometry=list(polys),
        crs=roads.crs,
    )


def _snap_dangles(lines: np.ndarray, snap_m: float) -> list[shapely.Geometry]:
    """Short segments joining each dangling line end to the nearest other line."""
    if len(lines) < 2:
        return []
    ends = np.concatenate([shapely.get_point(lines, 0), shapely.get_point(lines, -1)])
    owner = np.concatenate([np.arange(len(lines)), np.arange(len(lines))])
    tree = shapely.STRtree(lines)
    touch_end, touch_line = tree.query(ends, predicate="dwithin", distance=1e-6)
    touching = np.bincount(touch_end, minlength=len(ends))
    dangling = np.flatnonzero(touching <= 1)  # touches only its own line
    joins = []
    near_end, near_line = tree.query(
        ends[dangling], predicate="dwithin", distance=snap_m
    )
    best: dict[int, tuple[float, int]] = {}
    for i, j in zip(near_end, near_line, strict=True):
        end = int(dangling[i])
        if j == owner[end]:
            continue
        d = float(shapely.distance(ends[end], lines[j]))
        if end not in best or d < best[end][0]:
            best[end] = (d, int(j))
    for end, (_, j) in sorted(best.items()):
        joins.append(shapely.shortest_line(ends[end], lines[j]))
    return joins


def densification(
    plots: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    *,
    floors: pd.Series | None = None,
    roads: gpd.GeoDataFrame | None = None,
    services: gpd.GeoDataFrame | None = None,
    exclusions: gpd.GeoDataFrame | None = None,
    rules: Rules = Rules(),
) -> gpd.GeoDataFrame:
    """Each plot with the columns of the module's description, by rank.

    ``floors`` (aligned with ``buildings``; missing or ≤ 0 = unknown) gives
    the floors of each building; ``exclusions`` are hazard or protected areas.
    """
    rules.check()
    check_metric(plots, "plots")
    check_metric(buildings, "buildings")
    shapes = np.asarray(plots.geometry.values, dtype=object)
    area = shapely.area(shapes)
    ids = plots["plot"].to_numpy() if "plot" in plots else np.arange(1, len(shapes) + 1)
    out = gpd.GeoDataFrame(
        {"plot": ids},
        geometry=list(shapes),
        crs=plots.crs,
    )
    out["area_m2"] = area
    excluded = _excluded_area(shapes, exclusions)
    out["excluded_m2"] = excluded
    buildable = np.maximum(area - excluded, 0.0)
    out["buildable_m2"] = buildable
    out["excluded"] = excluded >= rules.excluded_from * area

    homes = np.asarray(buildings.geometry.values, dtype=object)
    known, levels = _floors(floors, len(homes), rules.default_floors)
    count, built, floor, built_known = _built(shapes, homes, levels, known)
    out["buildings"] = count
    out["built_m2"] = built
    with np.errstate(divide="ignore", invalid="ignore"):
        out["coverage"] = np.where(area > 0, built / area, 0.0)
        out["floors_known"] = np.where(built > 0, built_known / built, np.nan)
        all_known = floors is not None
        far = np.where(area > 0, floor / area, np.nan)
        out["far"] = np.where(all_known & (built_known >= built - 1e-9), far, np.nan)
    out["floor_m2"] = floor

    centres = shapely.point_on_surface(shapes)
    out["dist_road_m"] = _nearest(shapes, roads)
    out["dist_service_m"] = _nearest(centres, services)

    allowed = rules.max_far * buildable
    open_ = ~out["excluded"].to_numpy()
    out["allowed_floor_m2"] = np.where(open_, allowed, 0.0)
    out["extra_floor_m2"] = np.where(open_, np.maximum(allowed - floor, 0.0), 0.0)
    out["extra_footprint_m2"] = np.where(
        open_, np.maximum(rules.max_coverage * buildable - built, 0.0), 0.0
    )
    vacant = open_ & (out["coverage"].to_numpy() < rules.vacant_below)
    with np.errstate(divide="ignore", invalid="ignore"):
        used = np.where(allowed > 0, floor / allowed, 1.0)
    out["vacant"] = vacant
    out["underused"] = open_ & ~vacant & (used < rules.underused_below)
    # largest extra floor area first; among equals, nearest to services
    order = np.lexsort(
        (
            out["plot"].to_numpy(),
            np.nan_to_num(out["dist_service_m"].to_numpy(), nan=np.inf),
            -out["extra_floor_m2"].to_numpy(),
        )
    )
    rank = np.empty(len(out), dtype=np.int64)
    rank[order] = np.arange(1, len(out) + 1)
    out["rank"] = rank
    return out.sort_values("rank").reset_index(drop=True)


def _floors(
    floors: pd.Series | None, n: int, default: float
) -> tuple[np.ndarray, np.ndarray]:
    """(known, floors) per building: unknown, missing or ≤ 0 → ``default``."""
    if floors is None:
        return np.zeros(n, dtype=bool), np.full(n, default)
    if len(floors) != n:
        raise ValueError(f"floors: {len(floors)} values for {n} buildings")
    values = pd.to_numeric(floors, errors="coerce").to_numpy(dtype=float)
    known = np.isfinite(values) & (values > 0)
    return known, np.where(known, values, default)


def _built(
    plots: np.ndarray, homes: np.ndarray, levels: np.ndarray, known: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per plot: buildings counted, footprint, floor area, footprint with known
    floors — footprints cut by the plot, so a building across two plots counts
    its part in each (and once, by its representative point, in ``count``)."""
    n = len(plots)
    zeros = np.zeros(n)
    if len(homes) == 0 or n == 0:
        return np.zeros(n, dtype=np.int64), zeros, zeros.copy(), zeros.copy()
    home, plot = shapely.STRtree(plots).query(homes, predicate="intersects")
    piece = shapely.area(shapely.intersection(homes[home], plots[plot]))
    built = np.bincount(plot, weights=piece, minlength=n)
    floor = np.bincount(plot, weights=piece * levels[home], minlength=n)
    built_known = np.bincount(plot, weights=piece * known[home], minlength=n)
    point, holder = shapely.STRtree(plots).query(
        shapely.point_on_surface(homes), predicate="intersects"
    )
    first = np.full(len(homes), n, dtype=np.int64)
    np.minimum.at(first, point, holder)
    count = np.bincount(first[first < n], minlength=n).astype(np.int64)
    return count, built, floor, built_known


def _excluded_area(
    plots: np.ndarray, exclusions: gpd.GeoDataFrame | None
) -> np.ndarray:
    if exclusions is None or len(exclusions) == 0 or len(plots) == 0:
        return np.zeros(len(plots))
    check_metric(exclusions, "exclusions")
    zones = shapely.union_all(
        shapely.make_valid(np.asarray(exclusions.geometry.values, dtype=object))
    )
    shapely.prepare(zones)
    out = np.zeros(len(plots))
    touched = shapely.intersects(plots, zones)
    out[touched] = shapely.area(shapely.intersection(plots[touched], zones))
    return out


def _nearest(geoms: np.ndarray, targets: gpd.GeoDataFrame | None) -> np.ndarray:
    """Distance from each geometry to the nearest target (NaN with none)."""
    if targets is None or len(targets) == 0 or len(geoms) == 0:
        return np.full(len(geoms), np.nan)
    check_metric(targets, "targets")
    shapes = np.asarray(targets.geometry.values, dtype=object)
    tree = shapely.STRtree(shapes)
    (source, target), dist = tree.query_nearest(geoms, return_distance=True)
    out = np.full(len(geoms), np.inf)
    np.minimum.at(out, source, dist)
    return out

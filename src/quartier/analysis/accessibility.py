"""Travel times on the road network: emergency coverage and access to services.

Pure functions over GeoDataFrames in a metric CRS:

- :func:`road_graph` turns road lines into a graph whose edges cost seconds at
  a speed per road class (walking: one speed everywhere; driving: by class,
  paths and footways left out);
- :func:`travel_times` runs one multi-source Dijkstra
  (``scipy.sparse.csgraph.dijkstra(min_only=True)``) from every facility at
  once, adding the walk from each facility to its nearest node;
- :func:`accessibility` gives each building the time to its nearest facility
  (the walk to the nearest reached point of the network included), which
  facility that is, and per unit
  the people beyond ``limit_min`` minutes; :func:`isochrones` draws the areas
  reached within each threshold.

>>> import geopandas as gpd
>>> from shapely.geometry import LineString, Point
>>> roads = gpd.GeoDataFrame({"highway": ["residential"]},
...     geometry=[LineString([(0, 0), (1000, 0)])], crs=32733)
>>> g = road_graph(roads, profile="walk")
>>> t = travel_times(g, gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=32733))
>>> round(float(t.seconds.max()))  # 1 km at 5 km/h
720
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from quartier.analysis.spatial import check_metric

#: km/h by OSM ``highway`` class when driving (missing classes: not drivable)
DRIVE_KMH: dict[str, float] = {
    "motorway": 80,
    "trunk": 60,
    "primary": 50,
    "secondary": 40,
    "tertiary": 30,
    "unclassified": 25,
    "residential": 20,
    "living_street": 10,
    "service": 15,
    "track": 10,
    "road": 20,
}
WALK_KMH = 5.0
#: nodes closer than this are one (joins lines drawn end to end)
SNAP_M = 0.5


@dataclass(frozen=True)
class RoadGraph:
    #: (n, 2) node coordinates
    nodes: np.ndarray
    #: (n, n) sparse matrix of edge costs in seconds (both directions)
    costs: csr_matrix
    #: walking speed off the network, m/s
    walk_ms: float
    crs: object = None


@dataclass(frozen=True)
class TravelTimes:
    graph: RoadGraph
    #: seconds from the nearest source to each node (inf: unreachable)
    seconds: np.ndarray
    #: index of the nearest source for each node (-1: unreachable)
    source: np.ndarray


def road_graph(
    roads: gpd.GeoDataFrame,
    *,
    profile: str = "walk",
    class_field: str = "highway",
    speeds_kmh: Mapping[str, float] | None = None,
    walk_kmh: float = WALK_KMH,
) -> RoadGraph:
    """The road network as a graph costed in seconds.

    ``profile`` is ``walk`` (every road at ``walk_kmh``) or ``drive`` (speed by
    ``class_field``, :data:`DRIVE_KMH` unless ``speeds_kmh`` is given; roads of
    other classes are left out).
    """
    check_metric(roads, "roads")
    if profile not in ("walk", "drive"):
        raise ValueError(f"unknown profile {profile!r}; expected walk or drive")
    speeds = _speeds(roads, profile, class_field, speeds_kmh, walk_kmh)
    keep = speeds > 0
    lines = shapely.line_merge(np.asarray(roads.geometry.values, dtype=object)[keep])
    parts, part_index = shapely.get_parts(lines, return_index=True)
    coords, coord_index = shapely.get_coordinates(parts, return_index=True)
    nodes, node_of = _snap(coords)
    same_part = coord_index[1:] == coord_index[:-1]
    a, b = node_of[:-1][same_part], node_of[1:][same_part]
    metres = np.hypot(*(coords[1:][same_part] - coords[:-1][same_part]).T)
    kmh = speeds[keep][part_index][coord_index[:-1][same_part]]
    seconds = metres / (kmh / 3.6)
    costs = _min_duplicates(a, b, seconds, len(nodes))
    return RoadGraph(nodes, costs, walk_kmh / 3.6, roads.crs)


def travel_times(graph: RoadGraph, sources: gpd.GeoDataFrame) -> TravelTimes:
    """Seconds from the nearest of ``sources`` to every node of ``graph``."""
    check_metric(sources, "sources")
    points = shapely.get_coordinates(
        shapely.point_on_surface(np.asarray(sources.geometry.values, dtype=object))
    )
    if len(points) == 0 or len(graph.nodes) == 0:
        n = len(graph.nodes)
        return TravelTimes(graph, np.full(n, np.inf), np.full(n, -1))
    n, k = len(graph.nodes), len(points)
    # a virtual node per source, joined by the walk there to its nearest node
    # and to the nearest node of the main network (OSM extracts are fragmented:
    # a facility by a stray path must still reach the streets)
    gap, start = cKDTree(graph.nodes).query(points)
    main = np.flatnonzero(_main_component(graph.costs))
    gap2, start2 = cKDTree(graph.nodes[main]).query(points)
    rows = np.concatenate([np.arange(k), np.arange(k)]) + n
    cols = np.concatenate([start, main[start2]])
    walk = np.concatenate([gap, gap2]) / graph.walk_ms + 1e-9
    extra = _sparse_min(rows, cols, walk, n + k)
    dist, _, source = dijkstra(
        _pad(graph.costs, n + k) + extra,
        directed=True,
        indices=np.arange(n, n + k),
        min_only=True,
        return_predecessors=True,
    )
    reached = np.isfinite(dist[:n])
    return TravelTimes(graph, dist[:n], np.where(reached, source[:n] - n, -1))


def accessibility(
    times: TravelTimes,
    buildings: gpd.GeoDataFrame,
    *,
    limit_min: float = 15.0,
    people: pd.Series | None = None,
    units: pd.Series | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Minutes from each building to its nearest source, and the people beyond
    ``limit_min`` per unit.

    Returns the buildings with ``minutes`` (inf: unreachable) and ``facility``
    (index of the nearest source, -1 if none), and a table per unit
    (``units`` gives each building's unit) with buildings, people and people
    beyond the limit.
    """
    check_metric(buildings, "buildings")
    out = buildings.copy()
    pts = shapely.get_coordinates(
        shapely.point_on_surface(np.asarray(out.geometry.values, dtype=object))
    )
    reached = np.flatnonzero(np.isfinite(times.seconds))
    if len(reached) and len(pts):
        # people walk to the nearest point of the network the facilities reach
        gap, near = cKDTree(times.graph.nodes[reached]).query(pts)
        node = reached[near]
        seconds = times.seconds[node] + gap / times.graph.walk_ms
        out["minutes"] = seconds / 60.0
        out["facility"] = times.source[node]
    else:
        out["minutes"] = np.inf
        out["facility"] = -1
    out["people"] = people.to_numpy() if people is not None else np.nan
    out["unit"] = units.to_numpy() if units is not None else "—"
    beyond = out["minutes"] > limit_min
    table = (
        out.assign(beyond=beyond, people_beyond=out["people"].where(beyond, 0.0))
        .groupby("unit")
        .agg(
            buildings=("minutes", "size"),
            buildings_beyond=("beyond", "sum"),
            people=("people", "sum"),
            people_beyond=("people_beyond", "sum"),
            median_min=("minutes", "median"),
        )
        .reset_index()
    )
    return out, table


def isochrones(
    times: TravelTimes, thresholds_min: Sequence[float], *, width_m: float = 50.0
) -> gpd.GeoDataFrame:
    """The area within ``width_m`` of the roads reached in each threshold.

    An edge counts when both its ends are reached in time; areas grow with the
    threshold (each contains the smaller ones).
    """
    g = times.graph
    coo = g.costs.tocoo()
    rows = []
    for limit in sorted(thresholds_min):
        reached = times.seconds <= limit * 60
        ok = reached[coo.row] & reached[coo.col]
        area = shapely.Polygon()
        if ok.any():
            ends = np.stack([g.nodes[coo.row[ok]], g.nodes[coo.col[ok]]], axis=1)
            area = shapely.union_all(shapely.buffer(shapely.linestrings(ends), width_m))
        rows.append((float(limit), area))
    return gpd.GeoDataFrame(
        {"minutes": [r[0] for r in rows]}, geometry=[r[1] for r in rows], crs=g.crs
    )


# ----------------------------------------------------------------- helpers


def _speeds(
    roads: gpd.GeoDataFrame,
    profile: str,
    class_field: str,
    speeds_kmh: Mapping[str, float] | None,
    walk_kmh: float,
) -> np.ndarray:
    if profile == "walk":
        return np.full(len(roads), float(walk_kmh))
    if class_field not in roads.columns:
        raise ValueError(f"roads: no class field {class_field!r} for driving speeds")
    table = dict(DRIVE_KMH if speeds_kmh is None else speeds_kmh)
    classes = roads[class_field].astype("string").fillna("")
    return classes.map(lambda c: float(table.get(c, 0.0))).to_numpy(dtype=float)


def _snap(coords: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keys = np.round(coords / SNAP_M).astype(np.int64)
    _, first, node_of = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    return coords[first], node_of.ravel()


def _min_duplicates(
    a: np.ndarray, b: np.ndarray, cost: np.ndarray, n: int
) -> csr_matrix:
    """Symmetric cost matrix keeping the cheapest of parallel edges."""
    loops = a != b
    a, b, cost = a[loops], b[loops], cost[loops]
    return _sparse_min(
        np.concatenate([a, b]), np.concatenate([b, a]), np.concatenate([cost, cost]), n
    )


def _sparse_min(
    rows: np.ndarray, cols: np.ndarray, values: np.ndarray, n: int
) -> csr_matrix:
    """A sparse matrix keeping the smallest value of repeated cells
    (scipy would add them up)."""
    frame = pd.DataFrame({"r": rows, "c": cols, "v": values})
    best = frame.groupby(["r", "c"], sort=False)["v"].min().reset_index()
    return csr_matrix(
        (best["v"].to_numpy(), (best["r"].to_numpy(), best["c"].to_numpy())),
        shape=(n, n),
    )


def _main_component(costs: csr_matrix) -> np.ndarray:
    """Nodes of the largest connected part of the network (a boolean mask)."""
    _, labels = connected_components(costs, directed=False)
    return labels == np.bincount(labels).argmax()


def _pad(matrix: csr_matrix, size: int) -> csr_matrix:
    coo = matrix.tocoo()
    return csr_matrix((coo.data, (coo.row, coo.col)), shape=(size, size))

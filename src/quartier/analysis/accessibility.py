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
  reached within each threshold;
- :func:`point_isochrones` answers one point quickly (a Dijkstra bounded by
  the longest threshold, areas drawn on a grid): the isochrone API's query.

The graph keeps what queries need (KD-trees of its nodes, its main
component, its edge list), so a graph built once answers many requests.

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
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from quartier.analysis.grid_shapes import grid_area
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
    """Nodes and edge costs; what every query needs is derived once, on first
    use, and kept (the graph never changes: queries are cheap to repeat)."""

    #: (n, 2) node coordinates
    nodes: np.ndarray
    #: (n, n) sparse matrix of edge costs in seconds (both directions)
    costs: csr_matrix
    #: walking speed off the network, m/s
    walk_ms: float
    crs: object = None

    @cached_property
    def tree(self) -> cKDTree:
        """A KD-tree of the nodes (nearest node of a point)."""
        return cKDTree(self.nodes)

    @cached_property
    def main(self) -> np.ndarray:
        """Node numbers of the largest connected part of the network."""
        return np.flatnonzero(_main_component(self.costs))

    @cached_property
    def in_main(self) -> np.ndarray:
        """Whether each node is in :attr:`main` (a boolean mask)."""
        mask = np.zeros(len(self.nodes), dtype=bool)
        mask[self.main] = True
        return mask

    @cached_property
    def main_tree(self) -> cKDTree:
        """A KD-tree of the nodes of :attr:`main`."""
        if len(self.main) == len(self.nodes):
            return self.tree
        return cKDTree(self.nodes[self.main])

    @cached_property
    def edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each edge once: node numbers (a, b) with a < b, and its seconds."""
        coo = self.costs.tocoo()
        upper = coo.row < coo.col
        return coo.row[upper], coo.col[upper], coo.data[upper]

    def prepare(self) -> RoadGraph:
        """Derive all of the above now, before any query."""
        for name in ("tree", "main", "in_main", "main_tree", "edges"):
            getattr(self, name)
        return self


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
    return RoadGraph(nodes, costs, walk_kmh / 3.6, roads.crs).prepare()


def travel_times(graph: RoadGraph, sources: gpd.GeoDataFrame) -> TravelTimes:
    """Seconds from the nearest of ``sources`` to every node of ``graph``."""
    check_metric(sources, "sources")
    points = _points(np.asarray(sources.geometry.values, dtype=object))
    reach = _reach(graph, points)
    return TravelTimes(graph, reach.seconds, reach.source)


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
    a, b, _ = g.edges  # each edge once: half the buffers to union
    rows = []
    for limit in sorted(thresholds_min):
        reached = times.seconds <= limit * 60
        ok = reached[a] & reached[b]
        area = shapely.Polygon()
        if ok.any():
            ends = np.stack([g.nodes[a[ok]], g.nodes[b[ok]]], axis=1)
            area = shapely.union_all(shapely.buffer(shapely.linestrings(ends), width_m))
        rows.append((float(limit), area))
    return gpd.GeoDataFrame(
        {"minutes": [r[0] for r in rows]}, geometry=[r[1] for r in rows], crs=g.crs
    )


def point_isochrones(
    graph: RoadGraph,
    point: Sequence[float],
    thresholds_min: Sequence[float],
    *,
    width_m: float = 50.0,
    max_walk_m: float | None = None,
) -> gpd.GeoDataFrame:
    """The areas reached from one point within each threshold, for a map.

    One Dijkstra, bounded by the longest threshold (only that part of the
    network is explored), from ``point`` walking to its nearest node and to
    the main network as in :func:`travel_times`. An area is drawn on a grid
    of ``width_m / 2`` cells: every cell within about ``width_m`` of a point
    reached in time — on the roads, partly reached roads up to where time
    runs out, or on the walk from ``point``. It holds ``point``, and each area
    holds the smaller ones exactly (same grid). :func:`isochrones` unions a
    buffer per edge instead: the same idea, smoother, far slower on a large
    network. ``walk_m`` is the walk from ``point`` to its nearest node; a
    point farther than ``max_walk_m`` from the network is refused.

    >>> from shapely.geometry import LineString
    >>> roads = gpd.GeoDataFrame({"highway": ["residential"]},
    ...     geometry=[LineString([(0, 0), (2000, 0)])], crs=32733)
    >>> areas = point_isochrones(road_graph(roads), (0, 10), [10, 5])
    >>> areas[["minutes", "walk_m"]].values.tolist()
    [[5.0, 10.0], [10.0, 10.0]]
    >>> [int(x) for x in areas.bounds["maxx"]]  # 5 km/h: ~407 m, ~823 m, + ~50 m
    [475, 875]
    >>> bool(areas.geometry.iloc[1].contains(areas.geometry.iloc[0]))
    True
    """
    limits = sorted({float(m) for m in thresholds_min})
    if not limits or limits[0] <= 0 or width_m <= 0:
        raise ValueError("thresholds: expected minutes > 0 (and width_m > 0)")
    xy = np.asarray(point, dtype=float).reshape(1, 2)
    reach = _reach(graph, xy, limit=limits[-1] * 60)
    walk_m = float(reach.walk_m[0, 0])
    if max_walk_m is not None and not walk_m <= max_walk_m:
        raise ValueError(
            f"point: {walk_m:,.0f} m from the nearest road, more than "
            f"{max_walk_m:,.0f} m"
        )
    x, y, when = _reached_points(graph, reach, xy[0], width_m / 2)
    cell = max(width_m / 2, float(max(np.ptp(x), np.ptp(y))) / _MAX_CELLS)
    areas = []
    for m in limits:
        now = when <= m * 60
        areas.append(grid_area(x[now], y[now], cell))
    return gpd.GeoDataFrame(
        {"minutes": limits, "walk_m": round(walk_m, 1)}, geometry=areas, crs=graph.crs
    )


# ----------------------------------------------------------------- helpers
#: cells along the longest side of a point isochrone's grid, at most
_MAX_CELLS = 4000


@dataclass(frozen=True)
class _Reach:
    #: seconds to each node from the nearest source (inf: unreached)
    seconds: np.ndarray
    #: index of that source (-1: unreached)
    source: np.ndarray
    #: (k, 2) the nodes each source walks to: its nearest, the main network's
    links: np.ndarray
    #: (k, 2) metres of those walks
    walk_m: np.ndarray


def _reach(graph: RoadGraph, points: np.ndarray, limit: float = np.inf) -> _Reach:
    """Multi-source Dijkstra from ``points`` (k, 2), up to ``limit`` seconds."""
    n, k = len(graph.nodes), len(points)
    if k == 0 or n == 0:
        none = np.zeros((k, 2), dtype=np.int64), np.full((k, 2), np.inf)
        return _Reach(np.full(n, np.inf), np.full(n, -1), *none)
    # a virtual node per source, joined by the walk there to its nearest node
    # and to the nearest node of the main network (OSM extracts are fragmented:
    # a facility by a stray path must still reach the streets)
    gap, start = graph.tree.query(points)
    gap2, start2 = gap.copy(), start.copy()
    stray = ~graph.in_main[start]
    if stray.any():
        gap2[stray], near = graph.main_tree.query(points[stray])
        start2[stray] = graph.main[near]
    links, walk_m = np.stack([start, start2], axis=1), np.stack([gap, gap2], axis=1)
    walk_s = walk_m / graph.walk_ms + 1e-9
    if k == 1 and start[0] == start2[0]:
        # one source, one way onto the network: from that node, the walk
        # added after (no virtual node, no copy of the graph)
        walk = walk_s[0, 0]
        dist = walk + dijkstra(
            graph.costs, directed=True, indices=start[0], limit=max(limit - walk, 0)
        )
        dist[dist > limit] = np.inf  # the walk alone takes longer
        return _Reach(dist, np.where(np.isfinite(dist), 0, -1), links, walk_m)
    found = dijkstra(
        _with_sources(graph.costs, links, walk_s),
        directed=True,
        indices=np.arange(n, n + k),
        min_only=True,
        # which source reached each node: only a question with several
        # (keeping predecessors costs ~10 % of the search)
        return_predecessors=k > 1,
        limit=limit,
    )
    if k > 1:
        dist, source = found[0][:n], found[2][:n] - n
    else:
        dist, source = found[:n], np.zeros(n, dtype=np.int64)
    return _Reach(dist, np.where(np.isfinite(dist), source, -1), links, walk_m)


def _reached_points(
    graph: RoadGraph, reach: _Reach, start: np.ndarray, step: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points every ``step`` metres or less along the edges with a reached end
    and along the walks from ``start``: x, y and seconds."""
    a, b, cost = graph.edges
    ta, tb = reach.seconds[a], reach.seconds[b]
    some = np.isfinite(ta) | np.isfinite(tb)
    # the walks from the point to its nodes: time 0 at the point
    walks = np.isfinite(reach.walk_m[0])
    to = reach.links[0][walks]
    walk_s = reach.walk_m[0][walks] / graph.walk_ms
    pa = np.vstack([graph.nodes[a[some]], np.repeat(start[None], len(to), axis=0)])
    pb = np.vstack([graph.nodes[b[some]], graph.nodes[to]])
    ta = np.concatenate([ta[some], np.zeros(len(to))])
    tb = np.concatenate([tb[some], walk_s])
    cost = np.concatenate([cost[some], walk_s])
    dx, dy = (pb - pa).T
    count = np.maximum(np.ceil(np.hypot(dx, dy) / step), 1).astype(np.int64) + 1
    # the k-th of n points of an edge is at f = k / (n - 1) along it
    # (one-dimensional repeats: far faster than indexing (n, 2) arrays)
    first = np.repeat(np.cumsum(count) - count, count)
    f = (np.arange(len(first)) - first) / np.repeat(count - 1, count)
    cost = np.repeat(cost, count)
    seconds = np.minimum(
        np.repeat(ta, count) + f * cost, np.repeat(tb, count) + (1 - f) * cost
    )
    x = np.repeat(pa[:, 0], count) + f * np.repeat(dx, count)
    y = np.repeat(pa[:, 1], count) + f * np.repeat(dy, count)
    return np.append(x, start[0]), np.append(y, start[1]), np.append(seconds, 0.0)


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


def _points(geoms: np.ndarray) -> np.ndarray:
    """(x, y) of each geometry's point on surface (points as they are)."""
    if (shapely.get_type_id(geoms) == shapely.GeometryType.POINT).all():
        return shapely.get_coordinates(geoms)
    return shapely.get_coordinates(shapely.point_on_surface(geoms))


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


def _with_sources(costs: csr_matrix, to: np.ndarray, walk: np.ndarray) -> csr_matrix:
    """``costs`` with a virtual node per row of ``to`` (k, 2) appended, joined
    to its two nodes by ``walk`` (k, 2) seconds, one way.

    The virtual nodes only have edges out, so the rows of ``costs`` stay as
    they are: their arrays are copied once, never re-sorted or re-added
    (building this through COO and a sparse sum cost 3× the Dijkstra itself).
    """
    n, k = costs.shape[0], len(to)
    same = to[:, 0] == to[:, 1]
    # the cheaper walk when both ends are the same node (one edge, no sum)
    cols = np.where(same[:, None], to[:, :1], to)
    vals = np.where(same[:, None], walk.min(axis=1, keepdims=True), walk)
    keep = np.ones((k, 2), dtype=bool)
    keep[:, 1] = ~same
    counts = keep.sum(axis=1)
    indptr = np.concatenate(
        [costs.indptr, costs.indptr[-1] + np.cumsum(counts)]
    ).astype(costs.indptr.dtype, copy=False)
    indices = np.concatenate([costs.indices, cols[keep].astype(costs.indices.dtype)])
    data = np.concatenate([costs.data, vals[keep]])
    return csr_matrix((data, indices, indptr), shape=(n + k, n + k), copy=False)

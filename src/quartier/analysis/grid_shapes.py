"""Areas drawn from points on a grid: the cells holding a point, as polygons.

Isochrones are drawn this way (25 m cells): the reached points fill cells, and
the cells' outline is traced into rings — fast and always valid, where a union
of buffers around thousands of points takes seconds.
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy import ndimage

#: a point isochrone's area: cells within this many cells of a reached point
_RADIUS = 2
#: the (row, column) offsets of the cells within :data:`_RADIUS` of a cell
_DISK = np.argwhere(
    np.hypot(*np.mgrid[-_RADIUS : _RADIUS + 1, -_RADIUS : _RADIUS + 1]) <= _RADIUS
) - [_RADIUS, _RADIUS]


def grid_area(x: np.ndarray, y: np.ndarray, cell: float) -> shapely.Geometry:
    """The cells within :data:`_RADIUS` cells of points (``x``, ``y``), as
    (multi)polygons whose corners lie on the grid of ``cell`` metres (exact,
    shared by all)."""
    if len(x) == 0:
        return shapely.Polygon()
    i = np.floor(x / cell).astype(np.int64)
    j = np.floor(y / cell).astype(np.int64)
    lo = np.array([i.min(), j.min()]) - _RADIUS - 1
    cols, rows = np.array([i.max(), j.max()]) - lo + _RADIUS + 2
    seeds = np.zeros((rows, cols), dtype=bool)
    seeds[j - lo[1], i - lo[0]] = True
    # dilation by the disk: one shifted "or" per offset (ndimage's is slower)
    grid = np.zeros_like(seeds)
    for dr, dc in _DISK:
        grid[
            _RADIUS + dr : rows - _RADIUS + dr, _RADIUS + dc : cols - _RADIUS + dc
        ] |= seeds[_RADIUS : rows - _RADIUS, _RADIUS : cols - _RADIUS]
    area = _cells_polygon(grid)
    return shapely.transform(area, lambda q: (q + lo) * cell)


#: unit steps east, north, west, south (a turn left adds 1)
_STEP = np.array([[1, 0], [0, 1], [-1, 0], [0, -1]])


def _cells_polygon(grid: np.ndarray) -> shapely.Geometry:
    """The true cells of ``grid`` (its border false) as valid (multi)polygons,
    in grid units, corners only.

    The edges between a cell in and a cell out are directed with the cells in
    on their left and followed into rings (shells counter-clockwise, holes
    clockwise). Where two cells in touch by a corner only, two ways go on:
    the ring turns left (hugs its cell) unless both cells belong to one
    region, then right — so no ring touches itself (GEOS would call it
    invalid); rings touching at a corner are valid. Far faster than GEOS's
    polygonize on the unit edges, which needs every edge noded.
    """
    if not grid.any():
        return shapely.Polygon()
    x, y, d = _boundary_edges(grid)
    nxt = _next_edges(grid, x, y, d)
    seq, ring = _follow(nxt)
    corner = d[seq] != d[seq[_previous(ring)]]
    seq, ring = seq[corner], ring[corner]
    rings = shapely.linearrings(np.stack([x[seq], y[seq]], 1) * 1.0, indices=ring)
    first = seq[np.r_[0, np.flatnonzero(np.diff(ring)) + 1]]
    shell = shapely.is_ccw(rings)
    shells = shapely.polygons(rings[shell])
    # each hole belongs to the smallest shell holding a point just inside it
    e = first[~shell]
    probe = np.stack([x[e], y[e]], 1) + 0.5 * _STEP[d[e]] + 0.25 * _STEP[(d[e] + 1) % 4]
    point, owner = shapely.STRtree(shells).query(
        shapely.points(probe), predicate="within"
    )
    best = np.lexsort((shapely.area(shells)[owner], point))
    point, owner = point[best], owner[best]
    smallest = np.r_[True, point[1:] != point[:-1]] if len(point) else []
    of = np.concatenate([np.arange(len(shells)), np.full(len(e), -1)])
    of[len(shells) + point[smallest]] = owner[smallest]
    order = np.lexsort((np.r_[np.zeros(len(shells)), np.ones(len(e))], of))
    polygons = shapely.polygons(
        np.concatenate([rings[shell], rings[~shell]])[order], indices=of[order]
    )
    if len(polygons) == 1:
        return polygons[0]
    return shapely.multipolygons(polygons)


def _boundary_edges(grid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start (x, y) and direction (index of :data:`_STEP`) of each unit edge
    between a cell in and a cell out, the cell in on its left."""
    hr, hc = np.nonzero(grid[1:, :] != grid[:-1, :])
    up = grid[hr + 1, hc]  # the cell above is in: east, else west
    vr, vc = np.nonzero(grid[:, 1:] != grid[:, :-1])
    left = grid[vr, vc]  # the cell on the left is in: north, else south
    x = np.concatenate([np.where(up, hc, hc + 1), vc + 1])
    y = np.concatenate([hr + 1, np.where(left, vr, vr + 1)])
    d = np.concatenate([np.where(up, 0, 2), np.where(left, 1, 3)])
    return x, y, d


def _next_edges(
    grid: np.ndarray, x: np.ndarray, y: np.ndarray, d: np.ndarray
) -> np.ndarray:
    """The edge each edge leads to (see :func:`_cells_polygon`)."""
    width = grid.shape[1] + 1
    key = (y * width + x) * 4 + d
    order = np.argsort(key)
    keys = key[order]
    end = (y + _STEP[d, 1]) * width + x + _STEP[d, 0]
    nxt = np.full(len(d), -1)
    found = {}
    for turn in (3, 0, 1):  # right, straight, left: left wins where two go on
        want = end * 4 + (d + turn) % 4
        at = np.minimum(np.searchsorted(keys, want), len(keys) - 1)
        found[turn] = keys[at] == want
        nxt[found[turn]] = order[at[found[turn]]]
        if turn == 3:
            right = order[at]
    both = np.flatnonzero(found[3] & found[1])
    if len(both):
        labels, _ = ndimage.label(grid)
        ex, ey = x[both] + _STEP[d[both], 0], y[both] + _STEP[d[both], 1]
        one = np.where(
            grid[ey, ex],
            labels[ey, ex] == labels[ey - 1, ex - 1],
            labels[ey, ex - 1] == labels[ey - 1, ex],
        )
        nxt[both[one]] = right[both[one]]
    return nxt


def _follow(nxt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The edges ring by ring, in order, and the ring of each."""
    following = nxt.tolist()
    seen = bytearray(len(following))
    seq: list[int] = []
    ring: list[int] = []
    for first in range(len(following)):
        if seen[first]:
            continue
        number, e = (ring[-1] + 1 if ring else 0), first
        while not seen[e]:
            seen[e] = 1
            seq.append(e)
            ring.append(number)
            e = following[e]
    return np.array(seq, dtype=np.int64), np.array(ring, dtype=np.int64)


def _previous(ring: np.ndarray) -> np.ndarray:
    """Position of the previous edge of the same ring, for edges in ring order."""
    at = np.arange(len(ring))
    starts = np.r_[0, np.flatnonzero(np.diff(ring)) + 1]
    first = np.repeat(starts, np.diff(np.r_[starts, len(ring)]))
    last = np.repeat(
        np.r_[starts[1:], len(ring)] - 1, np.diff(np.r_[starts, len(ring)])
    )
    return np.where(at == first, last, at - 1)

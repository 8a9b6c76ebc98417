"""Geometries → MVT command streams, on ragged coordinate arrays.

Most features of a tile lie inside it and have a handful of vertices: they go
from WKB-decoded geometries straight to flat coordinate arrays, projected with
numpy. Only the others — crossing the buffered tile edge, long enough to be
worth simplifying, or odd types — pass through GEOS (clip, simplify) first.
Quantisation, removal of repeated points, dropping of collapsed parts, ring
orientation and the delta-encoded command streams are numpy passes over all
features of a geometry family at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from quartier.io import mvt_wkb
from quartier.io.mvt_wire import zigzag

POINT, LINE, POLYGON = 1, 2, 3
_MOVE_TO, _LINE_TO, _CLOSE = 1, 2, 7
# MVT geometry type of each shapely type id + 1 (missing -1, point 0, line 1,
# ring 2, polygon 3, multi-point 4… collection 7); 0: needs GEOS first
_FAMILY = np.array([0, POINT, LINE, 0, POLYGON, POINT, LINE, POLYGON, 0], np.int8)
FAMILIES = (POINT, LINE, POLYGON)
#: geometries with more vertices than this are simplified below MAXZOOM
SIMPLIFY_FROM = 16

Project = Callable[[np.ndarray], np.ndarray]
Built = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass
class Group:
    """Features of one family as ragged arrays (counts, not offsets).

    ``counts`` are coordinates per part, then for lines parts per feature,
    for polygons rings per polygon and polygons per feature.
    """

    family: int
    rows: np.ndarray
    coords: np.ndarray
    counts: tuple[np.ndarray, ...]

    @staticmethod
    def concat(groups: list[Group]) -> Group:
        return Group(
            groups[0].family,
            np.concatenate([g.rows for g in groups]),
            np.concatenate([g.coords for g in groups]),
            tuple(
                np.concatenate(parts)
                for parts in zip(*(g.counts for g in groups), strict=True)
            ),
        )


def prepare(
    g: np.ndarray,
    project: Project | None,
    *,
    extent: int,
    buffer: int,
    tolerance: float,
) -> list[Group]:
    """Group non-empty geometries by family, in tile units, clipped and simplified.

    ``project`` maps source coordinates to tile units (None: already there).
    """
    types = shapely.get_type_id(g)
    point = (types == 0) | (types == 4)
    px0, py0, px1, py1 = _tile_bounds(g, project)
    lo, hi = -buffer, extent + buffer
    crossing = ~point & ((px0 < lo) | (py0 < lo) | (px1 > hi) | (py1 > hi))
    heavy = ~point & (shapely.get_num_coordinates(g) > SIMPLIFY_FROM)
    heavy &= tolerance > 0
    slow = crossing | heavy | (_FAMILY[types + 1] == 0)
    groups = _groups(np.flatnonzero(~slow), g[~slow], project)
    rows = np.flatnonzero(slow)
    if len(rows):
        s = shapely.transform(g[rows], project) if project else g[rows]
        s = _normalise(s)
        cut = crossing[rows]
        s[cut] = shapely.clip_by_rect(s[cut], lo, lo, hi, hi)
        thin = heavy[rows]
        s[thin] = shapely.simplify(s[thin], tolerance, preserve_topology=False)
        s = _normalise(s)  # clipping may leave collections
        keep = ~shapely.is_empty(s)
        groups += _groups(rows[keep], s[keep], None)
    return _merge(groups)


def prepare_wkb(
    wkb: Sequence[bytes | None],
    project: Project | None,
    *,
    extent: int,
    buffer: int,
    tolerance: float,
) -> list[Group]:
    """:func:`prepare` from WKB: GEOS decodes only the geometries that need it."""
    r = mvt_wkb.read(wkb)
    coords = project(r.coords) if project is not None and len(r.coords) else r.coords
    n = len(wkb)
    points = np.bincount(r.geom, weights=r.npts, minlength=n).astype(np.int64)
    has = np.flatnonzero(points > 0)
    lo, hi = -buffer, extent + buffer
    crossing = np.zeros(n, dtype=bool)
    if len(has):
        firsts = (np.cumsum(points) - points)[has]
        low = np.minimum.reduceat(coords, firsts, axis=0)
        high = np.maximum.reduceat(coords, firsts, axis=0)
        crossing[has] = (low < lo).any(axis=1) | (high > hi).any(axis=1)
    heavy = (points > SIMPLIFY_FROM) & (tolerance > 0)
    slow = (r.family == mvt_wkb.UNSUPPORTED) | (
        (crossing | heavy) & (r.family != POINT)
    )
    fast = (r.family > 0) & ~slow
    groups = []
    for family in FAMILIES:
        grp = _fast_group(r, coords, fast & (r.family == family), family)
        if grp is not None:
            groups.append(grp)
    rows = np.flatnonzero(slow)
    if len(rows):
        g = shapely.from_wkb([wkb[int(i)] for i in rows], on_invalid="ignore")
        ok = ~(shapely.is_missing(g) | shapely.is_empty(g))
        rows, g = rows[ok], g[ok]
        for grp in prepare(
            g, project, extent=extent, buffer=buffer, tolerance=tolerance
        ):
            grp.rows = rows[grp.rows]
            groups.append(grp)
    return _merge(groups)


def _fast_group(
    r: mvt_wkb.Ragged, coords: np.ndarray, sel: np.ndarray, family: int
) -> Group | None:
    feats = np.flatnonzero(sel)
    if not len(feats):
        return None
    mine = sel[r.geom]
    geom, part, npts = r.geom[mine], r.part[mine], r.npts[mine]
    xy = coords[np.repeat(mine, r.npts)]
    n = len(sel)
    if family == POINT:
        per = np.bincount(geom, weights=npts, minlength=n).astype(np.int64)
        return Group(family, feats, xy, (per[feats],))
    if family == LINE:
        return Group(family, feats, xy, (npts, np.bincount(geom, minlength=n)[feats]))
    new = np.ones(len(geom), dtype=bool)
    new[1:] = (geom[1:] != geom[:-1]) | (part[1:] != part[:-1])
    starts = np.flatnonzero(new)
    rings = np.diff(np.append(starts, len(geom)))
    polys = np.bincount(geom[starts], minlength=n)[feats]
    return Group(family, feats, xy, (npts, rings, polys))


def _merge(groups: list[Group]) -> list[Group]:
    merged = []
    for family in (POINT, LINE, POLYGON):
        same = [grp for grp in groups if grp.family == family]
        if same:
            merged.append(Group.concat(same))
    return merged


def _tile_bounds(
    g: np.ndarray, project: Project | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    b = shapely.bounds(g)
    if project is None:
        return b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    # the projection keeps axes apart and is monotonic (north → smaller y)
    lo = project(b[:, [0, 3]])
    hi = project(b[:, [2, 1]])
    return lo[:, 0], lo[:, 1], hi[:, 0], hi[:, 1]


def _normalise(g: np.ndarray) -> np.ndarray:
    """Linear rings become lines; collections keep their highest dimension."""
    g = g.copy()
    types = shapely.get_type_id(g)
    for i in np.flatnonzero(types == 2):
        g[i] = shapely.linestrings(shapely.get_coordinates(g[i]))
    for i in np.flatnonzero(types == 7):
        g[i] = _dominant(g[i])
    return g


def _dominant(gc: shapely.Geometry) -> shapely.Geometry:
    parts = shapely.get_parts(gc)
    parts = parts[~shapely.is_empty(parts)]
    if not len(parts):
        return shapely.Point()
    dims = shapely.get_dimensions(parts)
    single = shapely.get_parts(parts[dims == dims.max()])
    make = {0: shapely.multipoints, 1: shapely.multilinestrings}
    return make.get(int(dims.max()), shapely.multipolygons)(single)


def _groups(rows: np.ndarray, g: np.ndarray, project: Project | None) -> list[Group]:
    types = shapely.get_type_id(g)
    out = []
    families = _FAMILY[types + 1]
    for family in FAMILIES:
        sel = np.flatnonzero(families == family)
        if not len(sel):
            continue
        _, coords, offsets = shapely.to_ragged_array(g[sel], include_z=False)
        if project is not None:
            coords = project(coords)
        out.append(Group(family, rows[sel], coords, _counts(offsets, len(sel), family)))
    return out


def _counts(offsets: tuple, n: int, family: int) -> tuple[np.ndarray, ...]:
    """Offsets of ``to_ragged_array`` (single or multi types) → counts per level."""
    levels = [np.diff(o).astype(np.int64) for o in offsets]
    depth = {POINT: 1, LINE: 2, POLYGON: 3}[family]
    if family == POINT and not levels:
        levels = [np.ones(n, dtype=np.int64)]
    while len(levels) < depth:  # single parts: one part per feature
        levels.append(np.ones(n, dtype=np.int64))
    return tuple(levels)


# ------------------------------------------------------------------ streams
def build(grp: Group, extent: int, buffer: int) -> Built | None:
    """``(kept features, command stream, stream length of each)`` or None."""
    if grp.family == POINT:
        return _points(grp, extent, buffer)
    if grp.family == LINE:
        return _lines(grp)
    return _polygons(grp)


def _points(grp: Group, extent: int, buffer: int) -> Built | None:
    (per,) = grp.counts
    q = np.rint(grp.coords).astype(np.int64)
    inside = ((q >= -buffer) & (q <= extent + buffer)).all(axis=1)
    feat = np.repeat(np.arange(len(per)), per)[inside]
    q = q[inside]
    per = np.bincount(feat, minlength=len(per))
    kept = np.flatnonzero(per > 0)
    if not len(kept):
        return None
    per = per[kept]
    deltas = _deltas(q, per)
    lengths = 1 + 2 * per
    start = np.cumsum(lengths) - lengths
    stream = np.empty(int(lengths.sum()), dtype=np.uint64)
    stream[start] = (per.astype(np.uint64) << np.uint64(3)) | np.uint64(_MOVE_TO)
    j = np.arange(len(q)) - np.repeat(np.cumsum(per) - per, per)
    pos = np.repeat(start, per) + 1 + 2 * j
    stream[pos] = deltas[:, 0]
    stream[pos + 1] = deltas[:, 1]
    return kept, stream, lengths


def _lines(grp: Group) -> Built | None:
    per_line, lines = grp.counts
    q, per_line = _quantise(grp.coords, per_line)
    feat = np.repeat(np.arange(len(lines)), lines)
    good = per_line >= 2
    q = q[np.repeat(good, per_line)]
    return _paths(q, per_line[good], feat[good], len(lines), ring=False)


def _polygons(grp: Group) -> Built | None:
    per_ring, rings, polys = grp.counts
    q, per_ring = _quantise(grp.coords, per_ring)
    exterior = np.repeat(np.cumsum(rings) - rings, rings)  # per ring
    first = exterior == np.arange(len(per_ring))
    area = _ring_areas(q, per_ring)
    # under one square unit (twice-area < 2) a ring is a speck, as in ST_AsMVTGeom
    good = (per_ring >= 4) & (np.abs(area) >= 2)
    good &= good[exterior]  # a polygon whose exterior collapsed goes, holes too
    feat = np.repeat(np.repeat(np.arange(len(polys)), polys), rings)
    # exteriors positive (clockwise with y down), holes negative
    q = _reverse(q, per_ring, good & np.where(first, area < 0, area > 0))
    q = q[np.repeat(good, per_ring)]
    return _paths(q, per_ring[good], feat[good], len(polys), ring=True)


def _quantise(coords: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Round to the grid; drop points repeating the previous one of their part."""
    q = np.rint(coords).astype(np.int64)
    keep = np.ones(len(q), dtype=bool)
    keep[1:] = (q[1:] != q[:-1]).any(axis=1)
    keep[(np.cumsum(counts) - counts)[counts > 0]] = True
    part = np.repeat(np.arange(len(counts)), counts)
    return q[keep], np.bincount(part[keep], minlength=len(counts))


def _ring_areas(q: np.ndarray, per: np.ndarray) -> np.ndarray:
    """Twice the signed area of each closed ring (surveyor's formula)."""
    if len(q) < 2:
        return np.zeros(len(per), dtype=np.int64)
    cross = q[:-1, 0] * q[1:, 1] - q[1:, 0] * q[:-1, 1]
    ends = np.cumsum(per)
    starts = ends - per
    joins = starts[(starts > 0) & (per > 0)] - 1  # pairs spanning two rings
    cross[joins] = 0
    cs = np.concatenate([[0], np.cumsum(cross)])
    return np.where(per > 1, cs[np.maximum(ends - 1, 0)] - cs[starts], 0)


def _reverse(q: np.ndarray, per: np.ndarray, flip: np.ndarray) -> np.ndarray:
    if not flip.any():
        return q
    ends = np.cumsum(per)
    starts = ends - per
    ring = np.repeat(np.arange(len(per)), per)
    idx = np.arange(len(q))
    return q[np.where(flip[ring], starts[ring] + ends[ring] - 1 - idx, idx)]


def _deltas(q: np.ndarray, per_feature: np.ndarray) -> np.ndarray:
    """Zigzag deltas from the previous point; the cursor restarts per feature."""
    d = np.empty_like(q)
    d[:1] = q[:1]
    d[1:] = q[1:] - q[:-1]
    firsts = (np.cumsum(per_feature) - per_feature)[per_feature > 0]
    d[firsts] = q[firsts]
    return zigzag(d)


def _paths(
    q: np.ndarray, per: np.ndarray, feat: np.ndarray, nfeat: int, *, ring: bool
) -> Built | None:
    """Streams of lines or rings (rings: closing point left out, ClosePath)."""
    if not len(per):
        return None
    emitted = per - 1 if ring else per
    if ring:
        mask = np.ones(len(q), dtype=bool)
        mask[np.cumsum(per) - 1] = False
        q = q[mask]
    points = np.bincount(feat, weights=emitted, minlength=nfeat).astype(np.int64)
    deltas = _deltas(q, points)
    lengths = 2 * emitted + 2 + int(ring)
    start = np.cumsum(lengths) - lengths
    stream = np.empty(int(lengths.sum()), dtype=np.uint64)
    stream[start] = (1 << 3) | _MOVE_TO
    line_to = ((emitted - 1).astype(np.uint64) << np.uint64(3)) | np.uint64(_LINE_TO)
    stream[start + 3] = line_to
    if ring:
        stream[start + lengths - 1] = (1 << 3) | _CLOSE
    j = np.arange(len(q)) - np.repeat(np.cumsum(emitted) - emitted, emitted)
    pos = np.repeat(start, emitted) + 1 + 2 * j + (j >= 1)
    stream[pos] = deltas[:, 0]
    stream[pos + 1] = deltas[:, 1]
    per_feat = np.bincount(feat, weights=lengths, minlength=nfeat).astype(np.int64)
    kept = np.flatnonzero(per_feat > 0)
    return kept, stream, per_feat[kept]

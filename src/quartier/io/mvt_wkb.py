"""WKB → ragged coordinate arrays with numpy, for the tile encoder's fast path.

Decoding every geometry of a tile with GEOS and then taking it apart again
(rings, parts) costs more than the rest of the encoding. Most geometries in a
tile are small, 2D, little-endian (Polygon, MultiPolygon with a few parts,
LineString, Point…): this reader walks all of them together, one numpy step
per nesting level, and reads their coordinates in one gather. Anything else —
big-endian, Z/M, collections, many parts or rings, NaN coordinates, malformed
bytes — is reported as unsupported and takes the GEOS path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: deeper nesting goes to GEOS: each part or ring index is one numpy round
MAX_PARTS = 16
MAX_RINGS = 16
UNSUPPORTED = -1
# WKB type (1–6) → point, line, polygon
_FAMILY = np.array([0, 1, 2, 3, 1, 2, 3], dtype=np.int8)


@dataclass
class Ragged:
    """Geometries read from WKB.

    ``family`` per input: 0 missing, 1 point, 2 line, 3 polygon, -1 unsupported.
    One path (a point, a line or a ring) per entry of ``geom``/``part``/``npts``,
    sorted by geometry, part, ring; ``coords`` concatenates their points.
    """

    family: np.ndarray
    geom: np.ndarray
    part: np.ndarray
    npts: np.ndarray
    coords: np.ndarray


class _Reader:
    def __init__(self, wkb: Sequence[bytes | None]) -> None:
        n = len(wkb)
        lengths = np.fromiter((0 if w is None else len(w) for w in wkb), np.int64, n)
        # padding: reads past a truncated blob stay in bounds, then fail checks
        raw = b"".join(w for w in wkb if w is not None) + bytes(32)
        self.buf = np.frombuffer(raw, dtype=np.uint8)
        self.start = np.cumsum(lengths) - lengths
        self.end = self.start + lengths
        self.family = np.zeros(n, dtype=np.int8)
        self.records: list[tuple[np.ndarray, ...]] = []

    def u32(self, pos: np.ndarray) -> np.ndarray:
        pos = np.minimum(pos, len(self.buf) - 4)
        b = self.buf
        out = b[pos].astype(np.int64) | (b[pos + 1].astype(np.int64) << 8)
        return (
            out
            | (b[pos + 2].astype(np.int64) << 16)
            | (b[pos + 3].astype(np.int64) << 24)
        )

    def header_is(self, pos: np.ndarray, wkb_type: int) -> np.ndarray:
        return (self.buf[np.minimum(pos, len(self.buf) - 1)] == 1) & (
            self.u32(pos + 1) == wkb_type
        )

    def fail(self, g: np.ndarray) -> None:
        self.family[g] = UNSUPPORTED

    def path(self, g, part, ring, first, npts) -> None:  # type: ignore[no-untyped-def]
        """A path whose ``npts`` points start at byte ``first``."""
        bad = (npts < 0) | (first + 16 * npts > self.end[g])
        self.fail(g[bad])
        self.records.append((g, part, ring, first, npts))

    def rings(self, g: np.ndarray, part: np.ndarray, pos: np.ndarray) -> np.ndarray:
        """Read the rings of polygons whose ring count is at ``pos``; their ends."""
        nr = self.u32(pos)
        bad = nr > MAX_RINGS
        self.fail(g[bad])
        cur = pos + 4
        for r in range(int(nr[~bad].max(initial=0))):
            act = np.flatnonzero((r < nr) & ~bad)
            npts = self.u32(cur[act])
            ring = np.full(len(act), r)
            self.path(g[act], part[act], ring, cur[act] + 4, npts)
            cur[act] += 4 + 16 * np.minimum(npts, 1 << 40)
        return cur

    def multi(self, g: np.ndarray, s: np.ndarray, single: int) -> None:
        count = self.u32(s + 5)
        bad = count > MAX_PARTS
        self.fail(g[bad])
        pos = s + 9
        for k in range(int(count[~bad].max(initial=0))):
            act = np.flatnonzero((k < count) & ~bad)
            p = pos[act]
            self.fail(g[act][~self.header_is(p, single)])
            part = np.full(len(act), k)
            if single == 1:
                self.path(g[act], part, part * 0, p + 5, np.ones(len(act), np.int64))
                pos[act] += 21
            elif single == 2:
                npts = self.u32(p + 5)
                self.path(g[act], part, part * 0, p + 9, npts)
                pos[act] += 9 + 16 * np.minimum(npts, 1 << 40)
            else:
                pos[act] = self.rings(g[act], part, p + 5)
        self.fail(g[pos > self.end[g]])

    def read(self) -> None:
        g = np.flatnonzero(self.end - self.start >= 9)
        s = self.start[g]
        little = self.buf[s] == 1
        t = self.u32(s + 1)
        known = little & (t >= 1) & (t <= 6)
        self.fail(g[~known])
        g, s, t = g[known], s[known], t[known]
        self.family[g] = _FAMILY[t]
        zero = np.zeros(len(g), dtype=np.int64)
        one = zero + 1
        m = t == 1
        self.path(g[m], zero[m], zero[m], s[m] + 5, one[m])
        m = t == 2
        self.path(g[m], zero[m], zero[m], s[m] + 9, self.u32(s[m] + 5))
        m = t == 3
        ends = self.rings(g[m], zero[m], s[m] + 5)
        self.fail(g[m][ends > self.end[g[m]]])
        for wkb_type, single in ((4, 1), (5, 2), (6, 3)):
            m = t == wkb_type
            self.multi(g[m], s[m], single)

    def coords(self, first: np.ndarray, npts: np.ndarray) -> np.ndarray:
        """The doubles of every path, read at whatever alignment each has."""
        count = 2 * npts
        base = np.repeat(first - 8 * (np.cumsum(count) - count), count)
        pos = base + 8 * np.arange(int(count.sum()))
        out = np.empty(len(pos), dtype=np.float64)
        residue = pos % 8
        for a in range(8):
            m = residue == a
            if m.any():
                view = np.frombuffer(
                    self.buf.data, dtype="<f8", offset=a, count=(len(self.buf) - a) // 8
                )
                out[m] = view[(pos[m] - a) // 8]
        return out.reshape(-1, 2)


def read(wkb: Sequence[bytes | None]) -> Ragged:
    """Read ``wkb`` (None for missing) into sorted ragged arrays."""
    r = _Reader(wkb)
    r.read()
    empty = np.zeros(0, dtype=np.int64)
    cols = [np.concatenate([rec[i] for rec in r.records] or [empty]) for i in range(5)]
    geom, part, ring, first, npts = (c.astype(np.int64) for c in cols)
    keep = r.family[geom] != UNSUPPORTED
    geom, part, ring, first, npts = (a[keep] for a in (geom, part, ring, first, npts))
    order = np.lexsort((ring, part, geom))
    geom, part, first, npts = geom[order], part[order], first[order], npts[order]
    coords = r.coords(first, npts)
    # NaN coordinates (POINT EMPTY, odd writers): GEOS decides what they mean
    nan = np.isnan(coords).any(axis=1)
    if nan.any():
        r.fail(np.unique(np.repeat(geom, npts)[nan]))
        keep = r.family[geom] != UNSUPPORTED
        coords = coords[np.repeat(keep, npts)]
        geom, part, npts = geom[keep], part[keep], npts[keep]
    return Ragged(r.family, geom, part, npts, coords)

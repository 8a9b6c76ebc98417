"""The request sets of ``bench_api.py``, drawn once with a fixed seed.

Every server gets the same requests (in its own URL syntax):

* ``bbox``: ``items?bbox=…&limit=100`` over map views of 1280×800 pixels
  at zooms 15–16 (a zoom drawn uniformly in [15, 16], so 0.027–0.055° wide),
  centred uniformly in the data extent;
* ``deep``: the page 100 features long at offset 50,000 + 100·k (k < 100):
  ``offset=`` for the peers, the keyset URL that Quartier's ``next`` link
  gives for the same page (found before timing, see ``bench_api.py``);
* ``id``: one feature by id, ids uniform in 1..N;
* ``tiles``: 50 distinct tiles per zoom 13, 14, 15 and 16 whose bounds meet
  the data extent (fetched once each on a fresh server: *cold*; then round
  and round: *hot*);
* ``probe``: a few z11–z12 tiles, untimed, only to see whether a server cuts
  dense tiles;
* ``walk``: one box of a few thousand features paged to the end through
  ``next`` links (correctness).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .data import lonlat_to_tile, tile_bounds

BBox = tuple[float, float, float, float]
SEED = 20261126
VIEW_PX = (1280, 800)


@dataclass(frozen=True)
class Plan:
    n: int
    extent: BBox
    bboxes: list[BBox]
    deep_offsets: list[int]
    ids: list[int]
    tiles: list[tuple[int, int, int]]
    probe_tiles: list[tuple[int, int, int]]
    walk_bbox: BBox


def _view(lon: float, lat: float, zoom: float) -> BBox:
    deg_per_px = 360.0 / (256 * 2**zoom)
    w = VIEW_PX[0] * deg_per_px
    h = VIEW_PX[1] * deg_per_px * np.cos(np.radians(lat))
    return (lon - w / 2, lat - h / 2, lon + w / 2, lat + h / 2)


def _tiles(
    rng: np.random.Generator, extent: BBox, z: int, count: int
) -> list[tuple[int, int, int]]:
    x0, y1 = lonlat_to_tile(extent[0], extent[1], z)  # south-west
    x1, y0 = lonlat_to_tile(extent[2], extent[3], z)  # north-east
    every = [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    if len(every) <= count:
        return every
    picked = rng.choice(len(every), count, replace=False)
    return [every[i] for i in sorted(picked)]


def make_plan(
    n: int,
    extent: BBox,
    *,
    seed: int = SEED,
    n_bbox: int = 500,
    n_deep: int = 100,
    n_ids: int = 1000,
    tiles_per_zoom: int = 50,
    zooms: tuple[int, ...] = (13, 14, 15, 16),
    deep_offset: int = 50_000,
) -> Plan:
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = extent
    bboxes: list[BBox] = []
    for _ in range(n_bbox):
        zoom = float(rng.uniform(15.0, 16.0))
        lon = float(rng.uniform(minx, maxx))
        lat = float(rng.uniform(miny, maxy))
        bboxes.append(_view(lon, lat, zoom))
    # deep pages stay inside the data for small quick runs
    base = min(deep_offset, max(0, n // 2 - 100 * n_deep))
    deep = [base + 100 * int(k) for k in rng.integers(0, n_deep, n_deep)]
    ids = [int(i) for i in rng.integers(1, n + 1, n_ids)]
    tiles: list[tuple[int, int, int]] = []
    for z in zooms:
        tiles += _tiles(rng, extent, z, tiles_per_zoom)
    order = rng.permutation(len(tiles))  # mixed zooms in the request stream
    tiles = [tiles[i] for i in order]
    probe = _tiles(rng, extent, 12, 4) + _tiles(rng, extent, 11, 2)
    # the walk: a z15 view at the centre (a few thousand features at 1M)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    walk = _view(cx, cy, 15.0)
    return Plan(n, extent, bboxes, deep, ids, tiles, probe, walk)


def tile_bbox(t: tuple[int, int, int]) -> BBox:
    return tile_bounds(*t)

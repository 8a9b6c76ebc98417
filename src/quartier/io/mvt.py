"""Mapbox Vector Tile 2.1 encoding, vectorised with shapely and numpy.

A tile is a protobuf message written here by hand: every step (projection,
clipping, simplification, quantisation, removal of repeated points, ring
orientation, delta/zigzag command streams, varints, the message framing) runs
on whole arrays, so a tile of tens of thousands of features costs a few numpy
passes rather than a Python loop per vertex. :mod:`~quartier.io.mvt_geometry`
turns geometries into command streams, :mod:`~quartier.io.mvt_wire` writes
the protobuf.

Tile coordinates follow the specification: ``extent`` units per tile side,
origin top-left, y pointing down; exterior rings have a positive
surveyor's-formula area in those coordinates (clockwise on screen), holes a
negative one. Geometries that collapse when rounded to the grid (a building
smaller than a unit at a low zoom) are left out, as ``ST_AsMVTGeom`` does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pyarrow as pa
import shapely

from quartier.io import mvt_geometry as geo
from quartier.io.mvt_wire import Packed, layer_message, properties_streams

EXTENT = 4096
BUFFER = 64
#: the Web Mercator limit: beyond it y goes to infinity
MAX_LAT = 85.0511287798066
#: tiles from this zoom on keep full detail; clients overzoom them
MAXZOOM = 16
#: Douglas–Peucker tolerance below MAXZOOM, in tile units (1/8 px on a 512 px tile)
SIMPLIFY_UNITS = 1.0
#: aggregated tiles count features in a CELLS × CELLS grid
CELLS = 128
COUNT_PROPERTY = "quartier_count"

BBox = tuple[float, float, float, float]


# ---------------------------------------------------------------- tile space
def tolerance(z: int) -> float:
    """Simplification for zoom ``z``, in tile units (none from MAXZOOM on)."""
    return 0.0 if z >= MAXZOOM else SIMPLIFY_UNITS


def tile_bbox(z: int, x: int, y: int, *, extent: int = EXTENT, buffer: int = 0) -> BBox:
    """``(west, south, east, north)`` in degrees of tile z/x/y plus ``buffer`` units.

    >>> [round(v, 6) for v in tile_bbox(0, 0, 0)]
    [-180.0, -85.051129, 180.0, 85.051129]
    """
    size = 2**z * extent

    def lon(u: float) -> float:
        return max(-180.0, min(180.0, u / size * 360.0 - 180.0))

    def lat(v: float) -> float:
        v = max(0.0, min(1.0, v / size))
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * v))))

    return (
        lon(x * extent - buffer),
        lat((y + 1) * extent + buffer),
        lon((x + 1) * extent + buffer),
        lat(y * extent - buffer),
    )


def lonlat_to_tile(
    lon: np.ndarray, lat: np.ndarray, z: int, x: int, y: int, *, extent: int = EXTENT
) -> tuple[np.ndarray, np.ndarray]:
    """Web Mercator tile units (float, y down) of longitudes and latitudes."""
    size = float(2**z * extent)
    s = np.sin(np.radians(np.clip(lat, -MAX_LAT, MAX_LAT)))
    px = (np.asarray(lon, dtype=float) + 180.0) / 360.0 * size - x * extent
    py = (0.5 - np.log((1 + s) / (1 - s)) / (4 * np.pi)) * size - y * extent
    return px, py


def projector(z: int, x: int, y: int, *, extent: int = EXTENT) -> geo.Project:
    """A function mapping ``(n, 2)`` lon/lat arrays to tile units."""

    def project(coords: np.ndarray) -> np.ndarray:
        px, py = lonlat_to_tile(coords[:, 0], coords[:, 1], z, x, y, extent=extent)
        return np.column_stack([px, py])

    return project


def to_tile(
    geoms: np.ndarray, z: int, x: int, y: int, *, extent: int = EXTENT
) -> np.ndarray:
    """Geometries in EPSG:4326 → the same geometries in tile units (float)."""
    return shapely.transform(geoms, projector(z, x, y, extent=extent))


# ------------------------------------------------------------------ encoding
def encode_layer(
    name: str,
    geoms: np.ndarray | None = None,
    *,
    wkb: Sequence[bytes | None] | None = None,
    ids: np.ndarray | None = None,
    properties: Mapping[str, pa.Array | list] | None = None,
    tile: tuple[int, int, int] | None = None,
    extent: int = EXTENT,
    buffer: int = BUFFER,
    tolerance: float = 0.0,
) -> bytes:
    """One layer, framed as a complete tile (``b""`` when no feature is left).

    ``geoms`` are shapely geometries (or ``wkb`` their WKB, None for
    missing) in lon/lat degrees when ``tile`` gives ``(z, x, y)``, else
    already in tile units; ``ids`` non-negative feature
    ids; ``properties`` columns aligned with ``geoms`` (nulls are left out of
    a feature's tags). Geometries are clipped to the tile plus ``buffer``,
    those with many vertices simplified by ``tolerance`` units, all rounded to
    the grid; features that collapse are dropped. Features keep input order.
    """
    project = projector(*tile, extent=extent) if tile else None
    if wkb is not None:
        present = np.arange(len(wkb))
        groups = geo.prepare_wkb(
            wkb, project, extent=extent, buffer=buffer, tolerance=tolerance
        )
    else:
        geoms = np.asarray(geoms, dtype=object)
        missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        present = np.flatnonzero(~missing)
        groups = geo.prepare(
            geoms[present], project, extent=extent, buffer=buffer, tolerance=tolerance
        )
    parts = []
    for grp in groups:
        built = geo.build(grp, extent, buffer)
        if built is not None:
            kept, stream, counts = built
            rows = present[grp.rows[kept]]
            parts.append((rows, grp.family, Packed.encode(stream, counts)))
    if not parts:
        return b""
    order = np.concatenate([p[0] for p in parts])
    types = np.concatenate([np.full(len(p[0]), p[1]) for p in parts])
    rank = np.argsort(order, kind="stable")
    rows = order[rank]
    keys, values, tags = properties_streams(properties or {}, rows)
    return layer_message(
        name,
        extent=extent,
        ids=None if ids is None else np.asarray(ids, dtype=np.uint64)[rows],
        geometry=Packed.concat([p[2] for p in parts]).take(rank),
        types=types[rank],
        tags=tags,
        keys=keys,
        values=values,
    )


def cell_counts(
    px: np.ndarray, py: np.ndarray, *, extent: int = EXTENT, cells: int = CELLS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Count points (tile units) per cell of a ``cells`` × ``cells`` grid.

    Points outside the tile are not counted: each feature belongs to the one
    tile its centre falls in. Returns cell columns, rows and counts.
    """
    inside = (px >= 0) & (px < extent) & (py >= 0) & (py < extent)
    size = extent / cells
    cx = np.floor(px[inside] / size).astype(np.int64)
    cy = np.floor(py[inside] / size).astype(np.int64)
    keys, counts = np.unique(cy * cells + cx, return_counts=True)
    return keys % cells, keys // cells, counts


def encode_cells(
    name: str,
    cx: np.ndarray,
    cy: np.ndarray,
    counts: np.ndarray,
    *,
    points: bool,
    extent: int = EXTENT,
    cells: int = CELLS,
) -> bytes:
    """An aggregated layer: one feature per occupied cell with its count.

    Point layers get a point at the cell's centre; line and polygon layers the
    cell's square, so a default fill or line style still shows where the data
    is. Each feature carries :data:`COUNT_PROPERTY`.
    """
    size = extent / cells
    cx, cy = np.asarray(cx, dtype=float), np.asarray(cy, dtype=float)
    if points:
        geoms = shapely.points((cx + 0.5) * size, (cy + 0.5) * size)
    else:
        geoms = shapely.box(cx * size, cy * size, (cx + 1) * size, (cy + 1) * size)
    counts = pa.array(np.asarray(counts, dtype=np.int64))
    return encode_layer(
        name, geoms, properties={COUNT_PROPERTY: counts}, extent=extent, buffer=0
    )

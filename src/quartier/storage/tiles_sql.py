"""The SQL of vector tiles on each store (see :mod:`quartier.storage.tiles`).

Both stores select the same rows (bounding boxes meeting the tile grown by its
buffer, in EPSG:4326), give features the same ids and properties, and
aggregate over-full tiles the same way: a feature counts in the cell holding
the centre of its bounding box.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from quartier.domain import FieldType
from quartier.domain.fieldtypes import ARROW_TYPES
from quartier.io import mvt
from quartier.io.mvt_geometry import SIMPLIFY_FROM
from quartier.storage.gpkg_format import rtree_name

#: half the width of the Web Mercator world, in metres
_HALF_WORLD = 20037508.342789244


@dataclass(frozen=True)
class TileJob:
    name: str
    table: str
    columns: list[tuple[str, FieldType]]
    z: int
    x: int
    y: int
    extent: int
    buffer: int
    max_features: int
    tolerance: float
    #: a layer of points: aggregated cells are drawn as points, else squares
    points: bool = False

    def bbox(self, *, buffered: bool = True) -> mvt.BBox:
        return mvt.tile_bbox(
            self.z,
            self.x,
            self.y,
            extent=self.extent,
            buffer=self.buffer if buffered else 0,
        )


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --------------------------------------------------------------- GeoPackage
_ENVELOPE = (0, 32, 48, 48, 64)


def gpkg_tile(conn: sqlite3.Connection, job: TileJob) -> tuple[bytes, bool]:
    rtree = q(rtree_name(job.table))
    w, s, e, n = job.bbox()
    meets = "r.maxx >= ? AND r.minx <= ? AND r.maxy >= ? AND r.miny <= ?"
    conn.execute("BEGIN")  # one snapshot for the count and the rows
    try:
        touching = conn.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {rtree} r WHERE {meets} LIMIT ?)",
            (w, e, s, n, job.max_features + 1),
        ).fetchone()[0]
        if touching > job.max_features:
            return _gpkg_cells(conn, job, rtree), True
        cols = "".join(f", t.{q(c)}" for c, _ in job.columns)
        rows = conn.execute(
            f"SELECT t.fid, t.geom{cols} FROM {rtree} r CROSS JOIN {q(job.table)} t "
            f"ON t.fid = r.id WHERE {meets} ORDER BY r.id",
            (w, e, s, n),
        ).fetchall()
    finally:
        conn.execute("ROLLBACK")
    if not rows:
        return b"", False
    values = list(zip(*rows, strict=True))
    wkb = [
        None if b is None else b[8 + _ENVELOPE[(b[3] >> 1) & 7] :] for b in values[1]
    ]
    props = {
        c: _arrow(values[2 + i], ftype) for i, (c, ftype) in enumerate(job.columns)
    }
    data = mvt.encode_layer(
        job.name,
        wkb=wkb,
        ids=np.asarray(values[0], dtype=np.int64),
        properties=props,
        tile=(job.z, job.x, job.y),
        extent=job.extent,
        buffer=job.buffer,
        tolerance=job.tolerance,
    )
    return data, False


def _gpkg_cells(conn: sqlite3.Connection, job: TileJob, rtree: str) -> bytes:
    w, s, e, n = job.bbox(buffered=False)
    boxes = np.array(
        conn.execute(
            f"SELECT minx, maxx, miny, maxy FROM {rtree} r WHERE r.maxx >= ? AND "
            "r.minx <= ? AND r.maxy >= ? AND r.miny <= ?",
            (w, e, s, n),
        ).fetchall(),
        dtype=np.float64,
    ).reshape(-1, 4)
    px, py = mvt.lonlat_to_tile(
        (boxes[:, 0] + boxes[:, 1]) / 2,
        (boxes[:, 2] + boxes[:, 3]) / 2,
        job.z,
        job.x,
        job.y,
        extent=job.extent,
    )
    cx, cy, counts = mvt.cell_counts(px, py, extent=job.extent)
    return _cells(job, cx, cy, counts)


def _cells(job: TileJob, cx: np.ndarray, cy: np.ndarray, counts: np.ndarray) -> bytes:
    return mvt.encode_cells(
        job.name, cx, cy, counts, points=job.points, extent=job.extent
    )


def _arrow(values: tuple, ftype: FieldType) -> pa.Array:
    """SQLite values as an Arrow column of the field's MVT-friendly type."""
    target = {
        FieldType.BOOLEAN: pa.int64(),
        FieldType.INTEGER: pa.int64(),
        FieldType.REAL: pa.float64(),
    }.get(ftype, pa.string())
    try:
        arr = pa.array(values, type=target)
        if ftype is FieldType.DATETIME:  # to the second, as on PostGIS
            stamps = arr.cast(ARROW_TYPES[ftype]).cast(_SECONDS, safe=False)
            return pc.strftime(stamps, format="%Y-%m-%dT%H:%M:%SZ")
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
        # a value another tool wrote with an unexpected type: show it as text
        return pa.array([None if v is None else str(v) for v in values], pa.string())
    return arr.cast(pa.bool_()) if ftype is FieldType.BOOLEAN else arr


_SECONDS = pa.timestamp("s", tz="UTC")


# ------------------------------------------------------------------ PostGIS
_TEXT_AS = {
    FieldType.DATE: "to_char({c}, 'YYYY-MM-DD')",
    FieldType.DATETIME: (
        "to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
    ),
}


def postgis_tile(conn: Any, job: TileJob) -> tuple[bytes, bool]:
    w, s, e, n = job.bbox()
    env = "ST_MakeEnvelope(%s, %s, %s, %s, 4326)"
    table = q(job.table)
    touching = conn.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE geom && {env} LIMIT %s) s",
        (w, s, e, n, job.max_features + 1),
    ).fetchone()[0]
    if touching > job.max_features:
        return _postgis_cells(conn, job), True
    cols = "".join(
        f", {_TEXT_AS.get(ftype, '{c}').format(c=q(c))} AS {q(c)}"
        for c, ftype in job.columns
    )
    geom = "ST_Transform(geom, 3857)"
    params: list[Any] = []
    if job.tolerance > 0:  # as the encoder: only geometries worth simplifying
        metres = job.tolerance * 2 * _HALF_WORLD / 2**job.z / job.extent
        geom = (
            f"CASE WHEN ST_NPoints(geom) > {SIMPLIFY_FROM} "
            f"THEN ST_Simplify({geom}, %s) ELSE {geom} END"
        )
        params.append(metres)
    sql = (
        f"SELECT ST_AsMVT(t, %s, {int(job.extent)}, 'geom', 'fid') FROM ("
        f"SELECT fid, ST_AsMVTGeom({geom}, ST_TileEnvelope(%s, %s, %s), "
        f"{int(job.extent)}, {int(job.buffer)}, true) AS geom{cols} "
        f"FROM {table} WHERE geom && {env} ORDER BY fid) t WHERE geom IS NOT NULL"
    )
    row = conn.execute(
        sql, (job.name, *params, job.z, job.x, job.y, w, s, e, n)
    ).fetchone()
    return (bytes(row[0]) if row and row[0] else b""), False


def _postgis_cells(conn: Any, job: TileJob) -> bytes:
    w, s, e, n = job.bbox(buffered=False)
    size = float(2**job.z * job.extent)
    cell = job.extent / mvt.CELLS
    mid = "(ST_YMin(geom) + ST_YMax(geom)) / 2"
    lat = f"greatest(-{mvt.MAX_LAT}, least({mvt.MAX_LAT}, {mid}))"
    rows = conn.execute(
        "SELECT floor(px / %(cell)s)::int, floor(py / %(cell)s)::int, count(*) FROM ("
        "SELECT ((ST_XMin(geom) + ST_XMax(geom)) / 2 + 180) / 360 * %(size)s "
        "- %(x0)s AS px, (0.5 - ln((1 + sin(radians(lat))) / (1 - sin(radians(lat))))"
        " / (4 * pi())) * %(size)s - %(y0)s AS py FROM ("
        f"SELECT geom, {lat} AS lat FROM {q(job.table)} WHERE geom && "
        "ST_MakeEnvelope(%(w)s, %(s)s, %(e)s, %(n)s, 4326)) c) p "
        "WHERE px >= 0 AND px < %(extent)s AND py >= 0 AND py < %(extent)s "
        "GROUP BY 1, 2",
        {
            "cell": cell,
            "size": size,
            "x0": float(job.x * job.extent),
            "y0": float(job.y * job.extent),
            "w": w,
            "s": s,
            "e": e,
            "n": n,
            "extent": float(job.extent),
        },
    ).fetchall()
    grid = np.array(rows, dtype=np.int64).reshape(-1, 3)
    return _cells(job, grid[:, 0], grid[:, 1], grid[:, 2])

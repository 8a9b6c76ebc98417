"""The GeoPackage binary format: geometry blobs, SQL functions, core tables.

Everything here follows OGC 12-128r18 (GeoPackage 1.3): a geometry blob is a
header (magic ``GP``, version, flags, SRS id, envelope) followed by ISO WKB.
"""

from __future__ import annotations

import sqlite3
import struct

import numpy as np
import pyarrow as pa
import shapely

APPLICATION_ID = 0x47504B47  # "GPKG"
USER_VERSION = 10300
WGS84_WKT = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,'
    'AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,'
    'AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,'
    'AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],'
    'AUTHORITY["EPSG","4326"]]'
)

_HEADER = np.dtype(
    [
        ("magic", "S2"),
        ("version", "u1"),
        ("flags", "u1"),
        ("srs", "<i4"),
        ("env", "<f8", (4,)),
    ]
)
_ENVELOPE_SIZES = (0, 32, 48, 48, 64)


def encode_blobs(wkb: pa.Array, srs_id: int = 4326) -> tuple[list, np.ndarray]:
    """GeoPackage blobs for an array of WKB, with their bounds.

    Returns the blobs as a Python list (None where the WKB is null) and an
    ``(n, 4)`` array of ``minx, miny, maxx, maxy`` (NaN for null/empty).
    """
    geoms = shapely.from_wkb(np.asarray(wkb.to_numpy(zero_copy_only=False)))
    bounds = shapely.bounds(geoms)
    n = len(geoms)
    header = np.zeros(n, dtype=_HEADER)
    header["magic"] = b"GP"
    empty = shapely.is_empty(geoms) | np.isnan(bounds[:, 0])
    # flags: little-endian (bit 0), envelope [minx, maxx, miny, maxy] (code 1)
    header["flags"] = np.where(empty, 0b10001, 0b00011)
    header["srs"] = srs_id
    header["env"] = bounds[:, [0, 2, 1, 3]]
    raw = header.tobytes()
    size = _HEADER.itemsize
    wkb_list = wkb.to_pylist()
    blobs: list = [None] * n
    for i, w in enumerate(wkb_list):
        if w is None:
            continue
        if empty[i]:
            blobs[i] = raw[i * size : i * size + 8] + w
        else:
            blobs[i] = raw[i * size : (i + 1) * size] + w
    return blobs, bounds


def blob_to_wkb(blob: bytes | None) -> bytes | None:
    """Strip the GeoPackage header from a blob."""
    if blob is None:
        return None
    env = (blob[3] >> 1) & 0b111
    return bytes(blob[8 + _ENVELOPE_SIZES[env] :])


def blobs_to_wkb(blobs: pa.Array) -> pa.Array:
    """Vectorised :func:`blob_to_wkb` over an Arrow binary array."""
    return pa.array([blob_to_wkb(b) for b in blobs.to_pylist()], type=pa.binary())


def _envelope(blob: bytes | None) -> tuple[float, float, float, float] | None:
    if blob is None or len(blob) < 8:
        return None
    flags = blob[3]
    if flags & 0b10000:
        return None
    env = (flags >> 1) & 0b111
    if env:
        order = "<" if flags & 1 else ">"
        minx, maxx, miny, maxy = struct.unpack_from(order + "4d", blob, 8)
        return minx, maxx, miny, maxy
    geom = shapely.from_wkb(blob[8:])
    if geom.is_empty:
        return None
    x0, y0, x1, y1 = geom.bounds
    return x0, x1, y0, y1


def _st_is_empty(blob: bytes | None) -> int | None:
    if blob is None:
        return None
    return 1 if _envelope(blob) is None else 0


def _coord(i: int):
    def f(blob: bytes | None) -> float | None:
        env = _envelope(blob)
        return None if env is None else env[i]

    return f


def register_functions(conn: sqlite3.Connection) -> None:
    """The SQL functions GDAL's and QGIS's R-tree triggers call."""
    conn.create_function("ST_IsEmpty", 1, _st_is_empty, deterministic=True)
    for i, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        conn.create_function(name, 1, _coord(i), deterministic=True)


CORE_DDL = [
    """CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
        srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY,
        organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
        definition TEXT NOT NULL, description TEXT)""",
    """CREATE TABLE IF NOT EXISTS gpkg_contents (
        table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
        identifier TEXT UNIQUE, description TEXT DEFAULT '',
        last_change DATETIME NOT NULL
            DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
        min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
        CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id)
            REFERENCES gpkg_spatial_ref_sys(srs_id))""",
    """CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
        table_name TEXT NOT NULL, column_name TEXT NOT NULL,
        geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL,
        z TINYINT NOT NULL, m TINYINT NOT NULL,
        CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
        CONSTRAINT fk_gc_tn FOREIGN KEY (table_name)
            REFERENCES gpkg_contents(table_name),
        CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id)
            REFERENCES gpkg_spatial_ref_sys (srs_id))""",
    """CREATE TABLE IF NOT EXISTS gpkg_extensions (
        table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL,
        definition TEXT NOT NULL, scope TEXT NOT NULL,
        CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))""",
]

SRS_ROWS = [
    (
        "Undefined cartesian SRS",
        -1,
        "NONE",
        -1,
        "undefined",
        "undefined cartesian coordinate reference system",
    ),
    (
        "Undefined geographic SRS",
        0,
        "NONE",
        0,
        "undefined",
        "undefined geographic coordinate reference system",
    ),
    (
        "WGS 84 geodetic",
        4326,
        "EPSG",
        4326,
        WGS84_WKT,
        "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid",
    ),
]


def rtree_name(table: str, column: str = "geom") -> str:
    return f"rtree_{table}_{column}"


def rtree_trigger_ddl(table: str, column: str = "geom", pk: str = "fid") -> list[str]:
    """The six triggers of the gpkg_rtree_index extension (GeoPackage 1.3)."""
    r, t, c, i = f'"{rtree_name(table, column)}"', f'"{table}"', f'"{column}"', pk
    ins = (
        f"INSERT OR REPLACE INTO {r} VALUES (NEW.{i}, ST_MinX(NEW.{c}), "
        f"ST_MaxX(NEW.{c}), ST_MinY(NEW.{c}), ST_MaxY(NEW.{c}));"
    )
    base = f"rtree_{table}_{column}"
    full = f"NEW.{c} NOT NULL AND NOT ST_IsEmpty(NEW.{c})"
    null = f"NEW.{c} IS NULL OR ST_IsEmpty(NEW.{c})"
    return [
        f'CREATE TRIGGER "{base}_insert" AFTER INSERT ON {t} WHEN ({full}) '
        f"BEGIN {ins} END",
        f'CREATE TRIGGER "{base}_update1" AFTER UPDATE OF {c} ON {t} '
        f"WHEN OLD.{i} = NEW.{i} AND ({full}) BEGIN {ins} END",
        f'CREATE TRIGGER "{base}_update2" AFTER UPDATE OF {c} ON {t} '
        f"WHEN OLD.{i} = NEW.{i} AND ({null}) "
        f"BEGIN DELETE FROM {r} WHERE id = OLD.{i}; END",
        f'CREATE TRIGGER "{base}_update3" AFTER UPDATE ON {t} '
        f"WHEN OLD.{i} != NEW.{i} AND ({full}) "
        f"BEGIN DELETE FROM {r} WHERE id = OLD.{i}; {ins} END",
        f'CREATE TRIGGER "{base}_update4" AFTER UPDATE ON {t} '
        f"WHEN OLD.{i} != NEW.{i} AND ({null}) "
        f"BEGIN DELETE FROM {r} WHERE id IN (OLD.{i}, NEW.{i}); END",
        f'CREATE TRIGGER "{base}_delete" AFTER DELETE ON {t} '
        f"WHEN OLD.{c} NOT NULL "
        f"BEGIN DELETE FROM {r} WHERE id = OLD.{i}; END",
    ]


def rtree_trigger_names(table: str, column: str = "geom") -> list[str]:
    base = f"rtree_{table}_{column}"
    return [
        f"{base}_{s}"
        for s in ("insert", "update1", "update2", "update3", "update4", "delete")
    ]


def bounds_union(bounds: np.ndarray) -> tuple[float, float, float, float] | None:
    """The envelope of an ``(n, 4)`` bounds array, ignoring NaN rows."""
    if len(bounds) == 0 or np.all(np.isnan(bounds[:, 0])):
        return None
    return (
        float(np.nanmin(bounds[:, 0])),
        float(np.nanmin(bounds[:, 1])),
        float(np.nanmax(bounds[:, 2])),
        float(np.nanmax(bounds[:, 3])),
    )


__all__ = [
    "APPLICATION_ID",
    "CORE_DDL",
    "SRS_ROWS",
    "USER_VERSION",
    "blob_to_wkb",
    "blobs_to_wkb",
    "bounds_union",
    "encode_blobs",
    "register_functions",
    "rtree_name",
    "rtree_trigger_ddl",
    "rtree_trigger_names",
]

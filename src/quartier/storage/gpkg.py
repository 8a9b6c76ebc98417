"""The embedded store: one GeoPackage file that GDAL and QGIS open directly.

Stdlib ``sqlite3`` under SQLAlchemy Core. WAL mode; one writer at a time
(``BEGIN IMMEDIATE``), readers on their own connections (deferred ``BEGIN``,
so a reader sees one consistent snapshot while a writer works).
"""

from __future__ import annotations

import os
import sqlite3
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.pool import QueuePool

from quartier.domain import Dataset, Field, FieldType
from quartier.domain.fieldtypes import ARROW_TYPES
from quartier.errors import InvalidInput
from quartier.storage import gpkg_format as g
from quartier.storage import rtree_bulk
from quartier.storage.base import HASH_COL, VERSION_COL, VERSION_TO_COL, BBox, SqlStore
from quartier.storage.query import (
    Dialect,
    PageRequest,
    assemble,
    empty_batch,
    like_to_glob,
    sqlite_value,
    wide_bbox,
)

_SQL_TYPES = {
    FieldType.BOOLEAN: "BOOLEAN",
    FieldType.INTEGER: "INTEGER",
    FieldType.REAL: "REAL",
    FieldType.TEXT: "TEXT",
    FieldType.DATE: "DATE",
    FieldType.DATETIME: "DATETIME",
    FieldType.JSON: "TEXT",
    FieldType.BLOB: "BLOB",
}


def q(name: str) -> str:
    """Quote an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def history_table(table: str) -> str:
    return f"quartier_history_{table}"


def _connect(path: str, *, writer: bool = False) -> sqlite3.Connection:
    conn = sqlite3.connect(
        path, isolation_level=None, timeout=60, check_same_thread=False
    )
    g.register_functions(conn)
    # the exact bbox test of API pages; once per connection, not per request
    conn.create_function("quartier_intersects", 5, _blob_intersects, deterministic=True)
    conn.execute("PRAGMA busy_timeout = 60000")
    # a bigger page cache than the default 2 MB for bulk loads and diffs
    if writer:  # readers stream with the default small cache: bounded memory
        conn.execute("PRAGMA cache_size = -65536")
    return conn


def _init_file(path: str) -> None:
    conn = _connect(path)
    try:
        conn.execute(f"PRAGMA application_id = {g.APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {g.USER_VERSION}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("BEGIN IMMEDIATE")
        for ddl in g.CORE_DDL:
            conn.execute(ddl)
        conn.executemany(
            "INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES (?,?,?,?,?,?)",
            g.SRS_ROWS,
        )
        conn.execute("COMMIT")
    finally:
        conn.close()


def _check_file(path: str) -> None:
    with open(path, "rb") as f:
        header = f.read(100)
    if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
        raise InvalidInput(f"{path}: not a GeoPackage (not an SQLite file)")
    app_id = int.from_bytes(header[68:72], "big")
    if app_id not in (g.APPLICATION_ID, 0x47503130, 0x47503131):
        raise InvalidInput(f"{path}: not a GeoPackage (application_id {app_id:#x})")


class GeoPackageStore(SqlStore):
    kind = "gpkg"

    def __init__(self, path: str, *, create: bool = True) -> None:
        super().__init__(path)
        self.path = str(Path(path))
        if not os.path.exists(self.path):
            if not create:
                raise InvalidInput(f"{self.path}: no such workspace file")
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            _init_file(self.path)
        _check_file(self.path)
        wal = _connect(self.path)
        try:  # outside any transaction: SQLite cannot switch modes inside one
            wal.execute("PRAGMA journal_mode = WAL")
        finally:
            wal.close()
        self.engine = self._engine("BEGIN IMMEDIATE")
        self.read_engine = self._engine("BEGIN")
        # spatial-index entries of tables created in the current write, packed
        # into the R-tree in one go when the version ends (rtree_bulk)
        self._bulk: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
        self.ensure_schema()

    def _engine(self, begin: str) -> sa.Engine:
        engine = sa.create_engine(
            "sqlite://",
            creator=lambda: _connect(self.path, writer=begin != "BEGIN"),
            poolclass=QueuePool,
            pool_size=4,
            max_overflow=8,
        )

        @event.listens_for(engine, "begin")
        def _begin(conn: sa.Connection) -> None:
            conn.exec_driver_sql(begin)

        return engine

    def close(self) -> None:
        self.engine.dispose()
        self.read_engine.dispose()

    def _read(self):  # type: ignore[override]
        return self.read_engine.connect()

    # ------------------------------------------------------- feature tables
    def _create_table(
        self, conn: sa.Connection, table: str, columns: list[Field], ds: Dataset
    ) -> None:
        raw = _raw(conn)
        spatial = ds.kind == "features"
        if spatial:
            self._bulk[table] = []
        cols = [f"{q(f.name)} {_SQL_TYPES[f.type]}" for f in columns]
        geom = ["geom GEOMETRY"] if spatial else []
        tail = [f"{VERSION_COL} INTEGER NOT NULL", f"{HASH_COL} INTEGER NOT NULL"]
        raw.execute(
            f"CREATE TABLE {q(table)} (fid INTEGER PRIMARY KEY AUTOINCREMENT "
            f"NOT NULL, {', '.join(geom + cols + tail)})"
        )
        raw.execute(
            f"CREATE TABLE {q(history_table(table))} (fid INTEGER NOT NULL, "
            f"{', '.join(geom + cols)}, {VERSION_COL} INTEGER NOT NULL, "
            f"{VERSION_TO_COL} INTEGER NOT NULL, {HASH_COL} INTEGER NOT NULL)"
            if cols or geom
            else f"CREATE TABLE {q(history_table(table))} (fid INTEGER NOT NULL, "
            f"{VERSION_COL} INTEGER NOT NULL, {VERSION_TO_COL} INTEGER NOT NULL, "
            f"{HASH_COL} INTEGER NOT NULL)"
        )
        raw.execute(
            f"CREATE INDEX {q(history_table(table) + '_v')} ON "
            f"{q(history_table(table))} ({VERSION_COL}, {VERSION_TO_COL})"
        )
        raw.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, "
            "description, srs_id) VALUES (?, ?, ?, ?, ?)",
            (
                table,
                "features" if spatial else "attributes",
                table,  # identifier must be unique; titles may repeat
                ds.title,
                4326 if spatial else None,
            ),
        )
        if spatial:
            gtype, z = _gpkg_type(ds.geometry_type)
            raw.execute(
                "INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, 4326, ?, 0)",
                (table, gtype, z),
            )
            raw.execute(
                f"CREATE VIRTUAL TABLE {q(g.rtree_name(table))} "
                "USING rtree(id, minx, maxx, miny, maxy)"
            )
            raw.execute(
                "INSERT INTO gpkg_extensions VALUES (?, 'geom', 'gpkg_rtree_index', "
                "'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
                (table,),
            )

    def _add_columns(
        self, conn: sa.Connection, table: str, old: list[Field], new: list[Field]
    ) -> None:
        raw = _raw(conn)
        known = {f.name for f in old}
        for f in new:
            if f.name not in known:
                for t in (table, history_table(table)):
                    sql_type = _SQL_TYPES[f.type]
                    raw.execute(f"ALTER TABLE {q(t)} ADD COLUMN {q(f.name)} {sql_type}")

    def _drop_triggers(self, raw: sqlite3.Connection, table: str) -> None:
        for name in g.rtree_trigger_names(table):
            raw.execute(f"DROP TRIGGER IF EXISTS {q(name)}")

    def _insert_batch(
        self,
        conn: sa.Connection,
        table: str,
        fields: list[Field],
        batch: pa.RecordBatch,
        hashes: np.ndarray,
        version: int,
        spatial: bool,
    ) -> BBox | None:
        raw = _raw(conn)
        # Bulk path: the R-tree is filled here in one statement per batch and
        # the triggers come back in _after_version.
        self._drop_triggers(raw, table)
        n = batch.num_rows
        if n == 0:
            return None
        start = _next_fid(raw, table)
        fids = list(range(start, start + n))
        columns: list[list[Any]] = [fids]
        names = ["fid"]
        box = None
        if spatial:
            blobs, bounds = g.encode_blobs(batch.column("geometry"))
            columns.append(blobs)
            names.append("geom")
            ok = ~np.isnan(bounds[:, 0])
            ids = np.arange(start, start + n, dtype=np.int64)[ok]
            if table in self._bulk:  # a fresh index: packed at the end
                self._bulk[table].append((ids, bounds[ok]))
            else:
                rt = bounds[ok]
                raw.executemany(
                    f"INSERT INTO {q(g.rtree_name(table))} VALUES (?, ?, ?, ?, ?)",
                    zip(
                        ids.tolist(),
                        rt[:, 0].tolist(),
                        rt[:, 2].tolist(),
                        rt[:, 1].tolist(),
                        rt[:, 3].tolist(),
                        strict=True,
                    ),
                )
            box = g.bounds_union(bounds)
        for f in fields:
            columns.append(_to_sqlite(batch.column(f.name), f.type))
            names.append(f.name)
        columns.append([version] * n)
        columns.append(hashes.tolist())
        names += [VERSION_COL, HASH_COL]
        raw.executemany(
            f"INSERT INTO {q(table)} ({', '.join(map(q, names))}) "
            f"VALUES ({', '.join('?' * len(names))})",
            zip(*columns, strict=True),
        )
        raw.execute(
            "INSERT OR REPLACE INTO sqlite_sequence (name, seq) VALUES (?, ?)",
            (table, start + n - 1),
        )
        return box

    def _states(self, conn, table, *, below=None, at=None):  # type: ignore[no-untyped-def]
        op, v = ("<", below) if below is not None else ("=", at)
        rows = (
            _raw(conn)
            .execute(
                f"SELECT fid, {HASH_COL} FROM {q(table)} WHERE {VERSION_COL} {op} ?",
                (v,),
            )
            .fetchall()
        )
        arr = np.array(rows, dtype=np.int64).reshape(-1, 2)
        return arr[:, 0], arr[:, 1]

    def _with_fids(self, raw: sqlite3.Connection, fids: np.ndarray) -> str:
        raw.execute("CREATE TEMP TABLE IF NOT EXISTS q_fids (fid INTEGER PRIMARY KEY)")
        raw.execute("DELETE FROM q_fids")
        raw.executemany("INSERT INTO q_fids VALUES (?)", ((int(f),) for f in fids))
        return "SELECT fid FROM temp.q_fids"

    def _values(self, conn, table, column, fids):  # type: ignore[no-untyped-def]
        raw = _raw(conn)
        sub = self._with_fids(raw, fids)
        return [
            r[0]
            for r in raw.execute(
                f"SELECT {q(column)} FROM {q(table)} WHERE fid IN ({sub})"
            )
        ]

    def _retire(self, conn, table, fids, version):  # type: ignore[no-untyped-def]
        if len(fids) == 0:
            return
        raw = _raw(conn)
        sub = self._with_fids(raw, fids)
        cols = [r[1] for r in raw.execute(f"PRAGMA table_info({q(table)})")]
        keep = [c for c in cols if c != HASH_COL]
        raw.execute(
            f"INSERT INTO {q(history_table(table))} ({', '.join(map(q, keep))}, "
            f"{VERSION_TO_COL}, {HASH_COL}) SELECT {', '.join(map(q, keep))}, ?, "
            f"{HASH_COL} FROM {q(table)} WHERE fid IN ({sub})",
            (version,),
        )
        self._delete_where(raw, table, sub)

    def _delete(self, conn, table, fids):  # type: ignore[no-untyped-def]
        if len(fids):
            raw = _raw(conn)
            self._delete_where(raw, table, self._with_fids(raw, fids))

    def _delete_where(self, raw: sqlite3.Connection, table: str, sub: str) -> None:
        raw.execute(f"DELETE FROM {q(table)} WHERE fid IN ({sub})")
        if _has_rtree(raw, table):
            raw.execute(f"DELETE FROM {q(g.rtree_name(table))} WHERE id IN ({sub})")

    def _count(self, conn, table, at):  # type: ignore[no-untyped-def]
        return int(_raw(conn).execute(f"SELECT count(*) FROM {q(table)}").fetchone()[0])

    def _extent(self, conn, table):  # type: ignore[no-untyped-def]
        row = (
            _raw(conn)
            .execute(
                f"SELECT min(minx), min(miny), max(maxx), max(maxy) "
                f"FROM {q(g.rtree_name(table))}"
            )
            .fetchone()
        )
        return None if row[0] is None else tuple(row)

    def _after_version(self, conn, table, ds, bbox, stamp):  # type: ignore[no-untyped-def]
        raw = _raw(conn)
        # built after the bulk load rather than maintained row by row
        index = q(table + "_qv")
        raw.execute(f"CREATE INDEX IF NOT EXISTS {index} ON {q(table)} ({VERSION_COL})")
        pending = self._bulk.pop(table, None)
        if pending:
            ids = np.concatenate([p[0] for p in pending])
            b = np.concatenate([p[1] for p in pending])
            rtree_bulk.build(
                raw, g.rtree_name(table), ids, b[:, 0], b[:, 2], b[:, 1], b[:, 3]
            )
        if ds.kind == "features":
            self._drop_triggers(raw, table)
            for ddl in g.rtree_trigger_ddl(table):
                raw.execute(ddl)
            gtype, z = _gpkg_type(ds.geometry_type)
            raw.execute(
                "UPDATE gpkg_geometry_columns SET geometry_type_name = ?, z = ? "
                "WHERE table_name = ?",
                (gtype, z, table),
            )
        box = bbox or (None, None, None, None)
        raw.execute(
            "UPDATE gpkg_contents SET last_change = ?, min_x = ?, min_y = ?, "
            "max_x = ?, max_y = ? WHERE table_name = ?",
            (stamp, *box, table),
        )

    # ------------------------------------------------------------- reading
    def _select(self, table, fields, spatial, at, bbox, batch_size):  # type: ignore[no-untyped-def]
        cols = ["fid"] + (["geom"] if spatial else []) + [f.name for f in fields]
        sel = ", ".join(map(q, cols))
        params: list[Any] = []
        if at is None:
            sql = f"SELECT {sel} FROM {q(table)}"
            if bbox is not None and spatial:
                sql += (
                    f" WHERE fid IN (SELECT id FROM {q(g.rtree_name(table))} "
                    "WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?)"
                )
                params = [bbox[0], bbox[2], bbox[1], bbox[3]]
        else:
            sql = (
                f"SELECT {sel} FROM {q(table)} WHERE {VERSION_COL} <= ? UNION ALL "
                f"SELECT {sel} FROM {q(history_table(table))} WHERE {VERSION_COL} <= ?"
                f" AND {VERSION_TO_COL} > ?"
            )
            params = [at, at, at]
        sql += " ORDER BY fid"
        with self.read_engine.connect() as conn:
            cur = _raw(conn).execute(sql, params)
            while rows := cur.fetchmany(batch_size):
                batch = _to_batch(rows, fields, spatial)
                if at is not None and bbox is not None and spatial:
                    batch = _filter_bbox(batch, bbox)
                yield batch

    def backup(self, path: str) -> None:
        if os.path.exists(path):
            raise InvalidInput(f"{path} already exists; choose a new file")
        with self.read_engine.connect() as conn:
            _raw(conn).execute("VACUUM INTO ?", (str(path),))

    # --- API queries (storage/query.py): keyset pages and single features
    _API_DIALECT = Dialect(
        placeholder="?",
        like=lambda col, pattern: (f"{col} GLOB ?", [like_to_glob(pattern)]),
        value=sqlite_value,
        quote=q,
    )

    def _api_dialect(self) -> Dialect:
        return self._API_DIALECT

    def _api_page(self, request: PageRequest) -> pa.RecordBatch:
        filters = [request.where] if request.where else []
        if request.bbox is not None:
            filters += self._api_bbox_filters(request)
        sql, params = assemble(
            request, self._api_columns(request), q(request.table), filters, "?"
        )
        with self.read_engine.connect() as conn:
            rows = _raw(conn).execute(sql, params).fetchall()
        if request.before is not None:
            rows.reverse()
        if not rows:
            return empty_batch(request.fields, request.spatial)
        return _to_batch(rows, request.fields, request.spatial)

    def _api_feature(
        self, table: str, fields: list[Field], spatial: bool, fid: int
    ) -> pa.RecordBatch | None:
        cols = ["fid"] + (["geom"] if spatial else []) + [f.name for f in fields]
        with self.read_engine.connect() as conn:
            rows = (
                _raw(conn)
                .execute(
                    f"SELECT {', '.join(map(q, cols))} FROM {q(table)} WHERE fid = ?",
                    (fid,),
                )
                .fetchall()
            )
        return _to_batch(rows, fields, spatial) if rows else None

    def _api_has_fid(self, table: str, fid: int, at: int | None) -> bool:
        sql, params = f"SELECT 1 FROM {q(table)} WHERE fid = ?", [fid]
        if at is not None:
            sql += (
                f" AND {VERSION_COL} <= ? UNION ALL SELECT 1 FROM "
                f"{q(history_table(table))} WHERE fid = ? AND {VERSION_COL} <= ? "
                f"AND {VERSION_TO_COL} > ?"
            )
            params += [at, fid, at, at]
        with self.read_engine.connect() as conn:
            return _raw(conn).execute(sql + " LIMIT 1", params).fetchone() is not None

    @staticmethod
    def _api_bbox_filters(request: PageRequest) -> list[tuple[str, list[Any]]]:
        """The R-tree prefilter (when it pays) and the exact intersects test.

        The exact test runs in SQL, so LIMIT counts true matches only. The
        R-tree (float32, rounded outwards) lists candidates, which SQLite
        collects before the first row: right for a small box, slow for a box
        holding much of the table. For those, walking the table in fid order
        and testing each row finds ``limit`` matches sooner. The choice uses
        the dataset's extent and count (assuming an even spread): it changes
        the speed, never the result.
        """
        assert request.bbox is not None
        x0, y0, x1, y1 = request.bbox
        exact = ("quartier_intersects(geom, ?, ?, ?, ?)", [x0, y0, x1, y1])
        if wide_bbox(request):
            return [exact]
        keyset, params = "", [x0, x1, y0, y1]
        if request.after is not None:
            keyset, params = " AND id > ?", params + [request.after]
        elif request.before is not None:
            keyset, params = " AND id < ?", params + [request.before]
        rtree = (
            f"fid IN (SELECT id FROM {q(g.rtree_name(request.table))} WHERE "
            f"maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?{keyset})"
        )
        return [(rtree, params), exact]

    @staticmethod
    def _api_columns(request: PageRequest) -> str:
        geom = ["geom"] if request.spatial else []
        return ", ".join(map(q, ["fid", *geom, *(f.name for f in request.fields)]))


def _raw(conn: sa.Connection) -> sqlite3.Connection:
    return conn.connection.driver_connection  # type: ignore[return-value]


def _next_fid(raw: sqlite3.Connection, table: str) -> int:
    row = raw.execute(
        f"SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?), 0), "
        f"coalesce((SELECT max(fid) FROM {q(table)}), 0))",
        (table,),
    ).fetchone()
    return int(row[0]) + 1


def _has_rtree(raw: sqlite3.Connection, table: str) -> bool:
    return (
        raw.execute(
            "SELECT 1 FROM sqlite_master WHERE name = ?", (g.rtree_name(table),)
        ).fetchone()
        is not None
    )


def _gpkg_type(geometry_type: str) -> tuple[str, int]:
    name = geometry_type.upper().replace(" ", "")
    z = 1 if name.endswith("Z") and name not in ("GEOMETRY",) else 0
    if z:
        name = name[:-1]
    return name or "GEOMETRY", z


def _to_sqlite(col: pa.Array | pa.ChunkedArray, ftype: FieldType) -> list[Any]:
    if ftype is FieldType.DATE:
        return col.cast(pa.string()).to_pylist()
    if ftype is FieldType.DATETIME:
        return pc.strftime(col, format="%Y-%m-%dT%H:%M:%SZ").to_pylist()
    return col.to_pylist()


def _to_batch(rows: list[tuple], fields: list[Field], spatial: bool) -> pa.RecordBatch:
    cols = list(zip(*rows, strict=True))
    arrays = [pa.array(cols[0], type=pa.int64())]
    names = ["fid"]
    offset = 1
    if spatial:
        arrays.append(pa.array([g.blob_to_wkb(b) for b in cols[1]], type=pa.binary()))
        names.append("geometry")
        offset = 2
    for i, f in enumerate(fields):
        arrays.append(_from_sqlite(cols[offset + i], f.type))
        names.append(f.name)
    return pa.RecordBatch.from_arrays(arrays, names=names)


def _from_sqlite(values: tuple, ftype: FieldType) -> pa.Array:
    target = ARROW_TYPES[ftype]
    if ftype is FieldType.BOOLEAN:
        return pa.array(
            [None if v is None else bool(v) for v in values], type=pa.bool_()
        )
    if ftype is FieldType.REAL:
        return pa.array([None if v is None else float(v) for v in values], type=target)
    if ftype in (FieldType.DATE, FieldType.DATETIME):
        return pa.array(values, type=pa.string()).cast(target)
    return pa.array(values, type=target)


def _filter_bbox(batch: pa.RecordBatch, bbox: BBox) -> pa.RecordBatch:
    import shapely

    geoms = shapely.from_wkb(batch.column("geometry").to_numpy(zero_copy_only=False))
    b = shapely.bounds(geoms)
    # envelope overlap, as the R-tree (and PostGIS's &&) select current rows
    mask = (b[:, 2] >= bbox[0]) & (b[:, 0] <= bbox[2]) & (b[:, 3] >= bbox[1])
    mask &= b[:, 1] <= bbox[3]
    return batch.filter(pa.array(mask))


# --- API queries: the exact bbox test the GeoPackage's SQL calls
def _blob_intersects(
    blob: bytes | None, x0: float, y0: float, x1: float, y1: float
) -> int:
    """Does a GeoPackage geometry intersect the box? (exact, for bbox queries)"""
    if blob is None or len(blob) < 8 or blob[3] & 0b10000:
        return 0
    env = (blob[3] >> 1) & 0b111
    if env:
        order = "<" if blob[3] & 1 else ">"
        minx, maxx, miny, maxy = struct.unpack_from(order + "4d", blob, 8)
        if maxx < x0 or minx > x1 or maxy < y0 or miny > y1:
            return 0
        if minx >= x0 and maxx <= x1 and miny >= y0 and maxy <= y1:
            return 1
    import shapely

    geom = shapely.from_wkb(g.blob_to_wkb(blob))
    return int(shapely.intersects(geom, shapely.box(x0, y0, x1, y1)))

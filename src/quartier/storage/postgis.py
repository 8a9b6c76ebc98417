"""The city-server store: PostgreSQL + PostGIS through psycopg 3.

One table per dataset in ``public`` with a GiST index (so QGIS and ogrinfo
list the city's layers), retired feature states in the ``quartier_history``
schema, bulk loads through ``COPY``.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import sqlalchemy as sa
from psycopg.copy import QueuedLibpqWriter

from quartier.domain import Dataset, Field, FieldType
from quartier.domain.fieldtypes import ARROW_TYPES
from quartier.errors import InvalidInput, QuartierError
from quartier.storage.base import HASH_COL, VERSION_COL, VERSION_TO_COL, BBox, SqlStore
from quartier.storage.query import (
    Dialect,
    PageRequest,
    assemble,
    empty_batch,
    wide_bbox,
)

HISTORY_SCHEMA = "quartier_history"

_SQL_TYPES = {
    FieldType.BOOLEAN: "boolean",
    FieldType.INTEGER: "bigint",
    FieldType.REAL: "double precision",
    FieldType.TEXT: "text",
    FieldType.DATE: "date",
    FieldType.DATETIME: "timestamptz",
    FieldType.JSON: "text",
    FieldType.BLOB: "bytea",
}


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def qs(name: str) -> str:
    """``q`` for statements psycopg scans for ``%s`` placeholders (every
    ``exec_driver_sql``, and cursors given parameters): a ``%`` in a field name
    (``taux_%``) must be doubled there, and only there (not in COPY)."""
    return q(name).replace("%", "%%")


def hist(table: str) -> str:
    return f"{HISTORY_SCHEMA}.{q(table)}"


class PostGISStore(SqlStore):
    kind = "postgis"

    def __init__(self, url: str) -> None:
        super().__init__(url)
        sa_url = url.replace("postgres://", "postgresql://", 1)
        if sa_url.startswith("postgresql://"):
            sa_url = "postgresql+psycopg://" + sa_url[len("postgresql://") :]
        # A pool as large as a worker's concurrency (the server's thread pool
        # runs up to ~16 requests at once): the default 5 + 10 closed-on-return
        # overflow opened a PostgreSQL backend for most requests under load
        # (measured: 101 backends for 522 requests). No pre-ping (a SELECT 1 on
        # every checkout cost 4–12 % of request time); connections are recycled
        # after 30 min instead.
        self.engine = sa.create_engine(
            sa_url, pool_size=16, max_overflow=8, pool_recycle=1800
        )
        self._copies: dict[str, tuple[Any, Any, Any]] = {}
        try:
            with self.engine.begin() as conn:
                conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
                conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {HISTORY_SCHEMA}")
        except sa.exc.OperationalError as e:
            raise QuartierError(
                f"cannot connect to {_safe(url)}: {str(e.orig).strip().splitlines()[0]}"
            ) from None
        self.ensure_schema()

    # ------------------------------------------------------- feature tables
    def _create_table(
        self, conn: sa.Connection, table: str, columns: list[Field], ds: Dataset
    ) -> None:
        cols = [f"{qs(f.name)} {_SQL_TYPES[f.type]}" for f in columns]
        # plain geometry + SRID check: a typmod would refuse Z geometries
        geom = (
            ["geom geometry CHECK (ST_SRID(geom) = 4326)"]
            if ds.kind == "features"
            else []
        )
        conn.exec_driver_sql(
            f"CREATE TABLE {q(table)} (fid bigserial PRIMARY KEY, "
            + ", ".join(
                geom
                + cols
                + [f"{VERSION_COL} integer NOT NULL", f"{HASH_COL} bigint NOT NULL"]
            )
            + ")"
        )
        conn.exec_driver_sql(
            f"CREATE TABLE {hist(table)} (fid bigint NOT NULL, "
            + ", ".join(
                geom
                + cols
                + [
                    f"{VERSION_COL} integer NOT NULL",
                    f"{VERSION_TO_COL} integer NOT NULL",
                    f"{HASH_COL} bigint NOT NULL",
                ]
            )
            + ")"
        )
        conn.exec_driver_sql(
            f"CREATE INDEX ON {hist(table)} ({VERSION_COL}, {VERSION_TO_COL})"
        )

    def _add_columns(
        self, conn: sa.Connection, table: str, old: list[Field], new: list[Field]
    ) -> None:
        known = {f.name for f in old}
        for f in new:
            if f.name not in known:
                for t in (q(table), hist(table)):
                    conn.exec_driver_sql(
                        f"ALTER TABLE {t} ADD COLUMN {qs(f.name)} {_SQL_TYPES[f.type]}"
                    )

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
        if batch.num_rows == 0:
            return None
        names: list[str] = []
        arrays: list[pa.Array] = []
        box = None
        if spatial:
            # the extent comes from ST_Extent at the end: no parsing here
            ewkb = _ewkb_hex(batch.column("geometry").to_pylist())
            names.append("geom")
            arrays.append(pa.array(ewkb, type=pa.string()))
        for f in fields:
            names.append(f.name)
            arrays.append(_to_copy(batch.column(f.name), f.type))
        names += [VERSION_COL, HASH_COL]
        arrays += [
            pa.array(np.full(batch.num_rows, version, dtype=np.int32)),
            pa.array(hashes),
        ]
        buf = io.BytesIO()
        pacsv.write_csv(
            pa.table(arrays, names=[f"c{i}" for i in range(len(arrays))]),
            buf,
            pacsv.WriteOptions(include_header=False, quoting_style="all_valid"),
        )
        self._copy(conn, table, names).write(buf.getvalue())
        return box

    def _copy(self, conn: sa.Connection, table: str, names: list[str]) -> Any:
        """One COPY per version, fed by a writer thread: the next batch is
        prepared while the server ingests this one."""
        state = self._copies.get(table)
        if state is None:
            raw = conn.connection.driver_connection
            cur = raw.cursor()  # type: ignore[union-attr]
            ctx = cur.copy(
                f"COPY {q(table)} ({', '.join(map(q, names))}) FROM STDIN (FORMAT csv)",
                writer=QueuedLibpqWriter(cur),
            )
            state = (cur, ctx, ctx.__enter__())
            self._copies[table] = state
        return state[2]

    def _end_inserts(self, conn, table, error):  # type: ignore[no-untyped-def]
        state = self._copies.pop(table, None)
        if state is None:
            return
        cur, ctx, _copy = state
        try:
            if error is None:
                ctx.__exit__(None, None, None)
            else:
                ctx.__exit__(type(error), error, error.__traceback__)
        finally:
            cur.close()

    def _states(self, conn, table, *, below=None, at=None):  # type: ignore[no-untyped-def]
        op, v = ("<", below) if below is not None else ("=", at)
        rows = conn.exec_driver_sql(
            f"SELECT fid, {HASH_COL} FROM {q(table)} WHERE {VERSION_COL} {op} %s",
            (v,),
        ).fetchall()
        arr = np.array(rows, dtype=np.int64).reshape(-1, 2)
        return arr[:, 0], arr[:, 1]

    def _values(self, conn, table, column, fids):  # type: ignore[no-untyped-def]
        return [
            r[0]
            for r in conn.exec_driver_sql(
                f"SELECT {qs(column)} FROM {q(table)} WHERE fid = ANY(%s)",
                (fids.tolist(),),
            )
        ]

    def _retire(self, conn, table, fids, version):  # type: ignore[no-untyped-def]
        if len(fids) == 0:
            return
        cols = [
            r[0]
            for r in conn.exec_driver_sql(
                "SELECT column_name FROM information_schema.columns WHERE "
                "table_schema = 'public' AND table_name = %s ORDER BY ordinal_position",
                (table,),
            )
        ]
        sel = ", ".join(map(qs, cols))
        conn.exec_driver_sql(
            f"INSERT INTO {hist(table)} ({sel}, {VERSION_TO_COL}) "
            f"SELECT {sel}, %s FROM {q(table)} WHERE fid = ANY(%s)",
            (version, fids.tolist()),
        )
        self._delete(conn, table, fids)

    def _delete(self, conn, table, fids):  # type: ignore[no-untyped-def]
        if len(fids):
            conn.exec_driver_sql(
                f"DELETE FROM {q(table)} WHERE fid = ANY(%s)", (fids.tolist(),)
            )

    def _count(self, conn, table, at):  # type: ignore[no-untyped-def]
        return int(conn.exec_driver_sql(f"SELECT count(*) FROM {q(table)}").scalar())

    def _extent(self, conn, table):  # type: ignore[no-untyped-def]
        row = conn.exec_driver_sql(
            f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            f"(SELECT ST_Extent(geom) AS e FROM {q(table)}) s"
        ).fetchone()
        return None if row is None or row[0] is None else tuple(row)

    def _after_version(self, conn, table, ds, bbox, stamp):  # type: ignore[no-untyped-def]
        if ds.kind == "features":
            conn.exec_driver_sql(
                f"CREATE INDEX IF NOT EXISTS {q(table + '_geom_idx')} "
                f"ON {q(table)} USING gist (geom)"
            )
        conn.exec_driver_sql(
            f"CREATE INDEX IF NOT EXISTS {q(table + '_qv_idx')} "
            f"ON {q(table)} ({VERSION_COL})"
        )
        conn.exec_driver_sql(f"ANALYZE {q(table)}")

    # ------------------------------------------------------------- reading
    def _select(self, table, fields, spatial, at, bbox, batch_size):  # type: ignore[no-untyped-def]
        cols = ["fid"] + [qs(f.name) for f in fields]
        if spatial:
            cols.insert(1, "ST_AsBinary(geom)")
        sel = ", ".join(cols)
        params: list[Any] = []
        where = ""
        if spatial and bbox is not None:
            where = "geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)"
            params = list(bbox)
        if at is None:
            sql = f"SELECT {sel} FROM {q(table)}" + (f" WHERE {where}" if where else "")
        else:
            extra = f" AND {where}" if where else ""
            sql = (
                f"SELECT {sel} FROM {q(table)} WHERE {VERSION_COL} <= %s{extra} "
                f"UNION ALL SELECT {sel} FROM {hist(table)} WHERE {VERSION_COL} <= %s "
                f"AND {VERSION_TO_COL} > %s{extra}"
            )
            params = [at, *params, at, at, *params]
        sql += " ORDER BY fid"
        with self.engine.connect() as conn:
            raw = conn.connection.driver_connection
            with raw.cursor(name="quartier_read") as cur:  # type: ignore[union-attr]
                cur.itersize = batch_size
                cur.execute(sql, params)
                while rows := cur.fetchmany(batch_size):
                    yield _to_batch(rows, fields, spatial)
            conn.rollback()

    def backup(self, path: str) -> None:
        if os.path.exists(path):
            raise InvalidInput(f"{path} already exists; choose a new file")
        exe = shutil.which("pg_dump")
        if exe is None:
            raise QuartierError(
                "pg_dump is needed to back up a PostGIS workspace: "
                "apt-get install postgresql-client"
            )
        url = self.url.replace("postgresql+psycopg://", "postgresql://", 1)
        done = subprocess.run(
            [exe, "--format=custom", "--file", str(path), url],
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise QuartierError(f"pg_dump failed: {done.stderr.strip()}")

    # --- API queries (storage/query.py): keyset pages and single features
    _API_DIALECT = Dialect(
        placeholder="%s",
        like=lambda col, pattern: (f"{col} LIKE %s", [pattern]),
        value=lambda v: v,
        quote=qs,
    )

    def _api_dialect(self) -> Dialect:
        return self._API_DIALECT

    def _api_page(self, request: PageRequest) -> pa.RecordBatch:
        filters = [request.where] if request.where else []
        key = "fid"
        if request.bbox is not None:
            # && through the GiST index, then the exact test the spec asks for
            filters.append(
                (
                    "ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))",
                    list(request.bbox),
                )
            )
            if not wide_bbox(request):
                # a small box: PostgreSQL would AND a bitmap of every fid past
                # the cursor (70 ms at 500k) with the GiST one; test fids after
                key = "(fid + 0)"
        select = self._api_columns(request.fields, request.spatial)
        table = q(request.table)
        sql, params = assemble(request, select, table, filters, "%s", key=key)
        rows = self._api_fetch(sql, params)
        if request.before is not None:
            rows.reverse()
        if not rows:
            return empty_batch(request.fields, request.spatial)
        return _to_batch(rows, request.fields, request.spatial)

    def _api_feature(
        self, table: str, fields: list[Field], spatial: bool, fid: int
    ) -> pa.RecordBatch | None:
        select = self._api_columns(fields, spatial)
        rows = self._api_fetch(
            f"SELECT {select} FROM {q(table)} WHERE fid = %s",
            [fid],
            page=False,
        )
        return _to_batch(rows, fields, spatial) if rows else None

    def _api_has_fid(self, table: str, fid: int, at: int | None) -> bool:
        sql, params = f"SELECT 1 FROM {q(table)} WHERE fid = %s", [fid]
        if at is not None:
            sql += (
                f" AND {VERSION_COL} <= %s UNION ALL SELECT 1 FROM {hist(table)} "
                f"WHERE fid = %s AND {VERSION_COL} <= %s AND {VERSION_TO_COL} > %s"
            )
            params += [at, fid, at, at]
        return bool(self._api_fetch(sql + " LIMIT 1", params, page=False))

    @staticmethod
    def _api_columns(fields: list[Field], spatial: bool) -> str:
        cols = ["fid"] + (["ST_AsBinary(geom)"] if spatial else [])
        return ", ".join(cols + [qs(f.name) for f in fields])

    def _api_fetch(
        self, sql: str, params: list[Any], *, page: bool = True
    ) -> list[tuple]:
        with self.engine.connect() as conn:
            raw = conn.connection.driver_connection
            # binary results: WKB and numbers arrive without text parsing
            with raw.cursor(binary=True) as cur:  # type: ignore[union-attr]
                # a page reads ~limit rows: starting parallel workers costs
                # more than the whole query (measured 40 ms on 1M rows)
                if page:
                    cur.execute("SET LOCAL max_parallel_workers_per_gather = 0")
                cur.execute(sql, params)
                rows = cur.fetchall()
            conn.rollback()
        return rows


_SRID_FLAG = 0x20000000
_SRID = {True: (4326).to_bytes(4, "little"), False: (4326).to_bytes(4, "big")}


def _ewkb_hex(values: list[bytes | None]) -> list[str | None]:
    """Hex EWKB with SRID 4326, by patching each WKB header (no parsing).

    PostGIS reads ISO dimension codes (1000s, 2000s, 3000s) together with the
    EWKB SRID flag, so only the outer header changes.
    """
    out: list[str | None] = []
    for w in values:
        if w is None:
            out.append(None)
            continue
        little = w[0] == 1
        order: Literal["little", "big"] = "little" if little else "big"
        code = int.from_bytes(w[1:5], order) | _SRID_FLAG
        out.append((w[:1] + code.to_bytes(4, order) + _SRID[little] + w[5:]).hex())
    return out


def _safe(url: str) -> str:
    """The URL without its password."""
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def _to_copy(col: pa.Array | pa.ChunkedArray, ftype: FieldType) -> pa.Array:
    if ftype is FieldType.BLOB:
        return pa.array(
            [None if v is None else "\\x" + v.hex() for v in col.to_pylist()],
            type=pa.string(),
        )
    if ftype is FieldType.DATETIME:
        return pc.strftime(col, format="%Y-%m-%dT%H:%M:%SZ")
    return col


def _to_batch(rows: list[tuple], fields: list[Field], spatial: bool) -> pa.RecordBatch:
    cols = list(zip(*rows, strict=True))
    arrays = [pa.array(cols[0], type=pa.int64())]
    names = ["fid"]
    offset = 1
    if spatial:
        arrays.append(
            pa.array(
                [None if b is None else bytes(b) for b in cols[1]], type=pa.binary()
            )
        )
        names.append("geometry")
        offset = 2
    for i, f in enumerate(fields):
        values = cols[offset + i]
        if f.type is FieldType.BLOB:
            values = tuple(None if v is None else bytes(v) for v in values)
        arrays.append(pa.array(values, type=ARROW_TYPES[f.type]))
        names.append(f.name)
    return pa.RecordBatch.from_arrays(arrays, names=names)

"""Vector tiles (MVT) from the store.

PostGIS builds tiles itself (``ST_AsMVTGeom`` + ``ST_AsMVT``), selecting rows
with ``&&`` against an EPSG:4326 envelope so the table's GiST index is used.
The GeoPackage selects rows through its R-tree and encodes them with
:mod:`quartier.io.mvt`. Both read over a lean connection (no pool ping, no
transaction on PostgreSQL): a tile server answers many small reads.

A tile never silently drops features: when more than ``max_features``
features touch it, the tile holds instead one feature per occupied cell of a
grid with the number of features whose centre falls in it (see
:func:`quartier.io.mvt.encode_cells`), and says so (``aggregated``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from quartier.domain import FieldType
from quartier.errors import InvalidInput, NotFound
from quartier.io import mvt
from quartier.storage import tiles_sql

#: more features than this touching a tile: the tile is aggregated
MAX_FEATURES = 20_000
MAX_ZOOM = 24  # the deepest level of the WebMercatorQuad tile matrix set


@dataclass(frozen=True)
class TileData:
    """A raw (uncompressed) MVT tile; ``data`` is empty when nothing is there."""

    data: bytes
    aggregated: bool = False


class TilesMixin:
    """Mixed into :class:`~quartier.storage.base.SqlStore`."""

    kind: str
    engine: sa.Engine

    def dataset_stamp(self, slug: str) -> tuple[int, str]:
        """``(current version, last change)`` of a dataset, in one cheap query.

        Caches of derived outputs (tiles) check it on every request: it
        changes with every new version and every metadata edit.
        """
        row = self._lean_row(
            "SELECT current_version, updated FROM quartier_datasets WHERE slug = ?",
            slug,
        )
        if row is None:
            raise NotFound(f"no dataset {slug!r}")
        return int(row[0]), str(row[1])

    def tile(
        self,
        slug: str,
        z: int,
        x: int,
        y: int,
        *,
        columns: Sequence[str],
        extent: int = mvt.EXTENT,
        buffer: int = mvt.BUFFER,
        max_features: int = MAX_FEATURES,
        tolerance: float | None = None,
    ) -> TileData:
        """Tile z/x/y (WebMercatorQuad) of the current version of ``slug``.

        One layer named ``slug``; feature ids are fids; properties are
        ``columns`` only (blob fields have no MVT type and are left out).
        ``tolerance`` (tile units) defaults to :func:`quartier.io.mvt.tolerance`.
        """
        _check_tile(z, x, y)
        table, fields, points = self._tile_source(slug)
        if table is None:
            return TileData(b"")
        by_name = {name: ftype for name, ftype in fields}
        unknown = [c for c in columns if c not in by_name]
        if unknown:
            raise InvalidInput(f"dataset {slug!r} has no field {unknown[0]!r}")
        wanted = [(c, by_name[c]) for c in columns if by_name[c] is not FieldType.BLOB]
        job = tiles_sql.TileJob(
            name=slug,
            table=table,
            columns=wanted,
            z=z,
            x=x,
            y=y,
            extent=extent,
            buffer=buffer,
            max_features=max_features,
            tolerance=mvt.tolerance(z) if tolerance is None else tolerance,
            points=points,
        )
        with self._lean() as conn:
            if self.kind == "postgis":
                data, aggregated = tiles_sql.postgis_tile(conn, job)
            else:
                data, aggregated = tiles_sql.gpkg_tile(conn, job)
        return TileData(data, aggregated)

    # ------------------------------------------------------------- helpers
    def _tile_source(
        self, slug: str
    ) -> tuple[str | None, list[tuple[str, FieldType]], bool]:
        """Table (None before version 1), typed fields, points-only layer."""
        row = self._lean_row(
            "SELECT kind, table_name, current_version, columns, geometry_type "
            "FROM quartier_datasets WHERE slug = ?",
            slug,
        )
        if row is None:
            raise NotFound(f"no dataset {slug!r}")
        kind, table, version, columns, gtype = row
        if kind != "features":
            raise NotFound(f"dataset {slug!r} has no geometry, hence no tiles")
        fields = [(c[0], FieldType(c[1])) for c in json.loads(columns or "[]")]
        points = str(gtype).upper().rstrip("ZM ") in ("POINT", "MULTIPOINT")
        return (table if version else None), fields, points

    def _lean_row(self, sql: str, *params: Any) -> Any:
        with self._lean() as conn:
            cur = conn.cursor()
            try:
                marker = "%s" if self.kind == "postgis" else "?"
                cur.execute(sql.replace("?", marker), params)
                return cur.fetchone()
            finally:
                cur.close()

    @contextmanager
    def _lean(self) -> Iterator[Any]:
        """A raw DB-API connection: autocommit, no pre-ping."""
        engine = self._lean_engine()
        raw = engine.raw_connection()
        try:
            yield raw.driver_connection
        finally:
            raw.close()

    def _lean_engine(self) -> sa.Engine:
        if self.kind != "postgis":
            # sqlite3 readers run in autocommit mode outside SQLAlchemy's begin
            return self.read_engine  # type: ignore[attr-defined,no-any-return]
        lean: sa.Engine | None = self.__dict__.get("_lean_pg")
        if lean is None:
            lean = sa.create_engine(
                self.engine.url, connect_args={"autocommit": True}, pool_size=8
            )
            # closing the store disposes of its engine: take ours along
            sa.event.listen(self.engine, "engine_disposed", lambda _: lean.dispose())
            self.__dict__["_lean_pg"] = lean
        return lean


def _check_tile(z: int, x: int, y: int) -> None:
    if not 0 <= z <= MAX_ZOOM:
        raise InvalidInput(f"zoom level {z} is outside 0–{MAX_ZOOM}")
    if not (0 <= x < 2**z and 0 <= y < 2**z):
        raise InvalidInput(f"tile {z}/{x}/{y} does not exist: x and y go to {2**z - 1}")

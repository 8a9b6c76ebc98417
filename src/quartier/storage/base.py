"""What both stores share: platform tables, catalogue and version bookkeeping.

A dataset's *current* features live in its feature table (a GeoPackage layer
or a PostGIS table) so GIS tools see the city as it is now. Each row carries
``quartier_version`` (the version whose import brought that feature state)
and ``quartier_hash`` (its identity). When a new version retires a state, the
row moves to the history table with ``quartier_version_to``: version N is the
union of current rows with ``quartier_version <= N`` and history rows with
``quartier_version <= N < quartier_version_to``. Nothing is ever overwritten.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, fields
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from quartier.domain import (
    AccessLevel,
    ActorKind,
    Dataset,
    Field,
    FieldType,
    Organisation,
    Version,
    Workspace,
)
from quartier.domain.catalogue import validate_slug
from quartier.domain.versioning import diff_states, row_hashes, summarise
from quartier.errors import Conflict, InvalidInput, NotFound, StaleVersion
from quartier.storage import schema as s
from quartier.storage.accounts import AccountsMixin
from quartier.storage.agreements import AgreementsMixin
from quartier.storage.audit import AuditMixin, now
from quartier.storage.campaigns import CampaignsMixin
from quartier.storage.ecosystem import EcosystemMixin
from quartier.storage.forms import FormsMixin
from quartier.storage.programme import ProgrammeMixin
from quartier.storage.query import QueryMixin
from quartier.storage.reference import ReferenceMixin
from quartier.storage.reports import ReportsMixin
from quartier.storage.rows import RowsMixin
from quartier.storage.tables import BBox, FeatureTables
from quartier.storage.tiles import TilesMixin

log = logging.getLogger(__name__)

VERSION_COL = "quartier_version"
VERSION_TO_COL = "quartier_version_to"
HASH_COL = "quartier_hash"
#: table-name prefixes of GeoPackage, SQLite and Quartier's own tables
RESERVED_PREFIXES = ("gpkg_", "rtree_", "sqlite_", "quartier_")
RESERVED_COLUMNS = {"fid", "geom", "geometry", VERSION_COL, VERSION_TO_COL, HASH_COL}
Progress = Callable[[int], None]


def _fields_json(fs: Iterable[Field]) -> str:
    return json.dumps(
        [
            [f.name, f.type.value] + ([f.source_name] if f.source_name else [])
            for f in fs
        ]
    )


def _fields_from_json(text: str) -> tuple[Field, ...]:
    return tuple(
        Field(item[0], FieldType(item[1]), item[2] if len(item) > 2 else None)
        for item in json.loads(text or "[]")
    )


def _clean(batch: pa.RecordBatch, fields: list[Field]) -> pa.RecordBatch:
    """NaN becomes null in real columns: SQLite cannot store NaN, and both
    stores must give back what was hashed."""
    for f in fields:
        if f.type is FieldType.REAL:
            i = batch.schema.get_field_index(f.name)
            col = batch.column(i)
            nan = pc.is_nan(col)
            if pc.any(nan).as_py():
                fixed = pc.if_else(nan, pa.scalar(None, col.type), col)
                batch = batch.set_column(i, f.name, fixed)
    return batch


def _union(boxes: list[BBox]) -> BBox | None:
    if not boxes:
        return None
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _upgrade(conn: sa.Connection, found: int) -> None:
    """Bring an older workspace to the current schema, in place."""
    if found < 2:  # users gained email, is_admin, active
        false = "0" if conn.dialect.name == "sqlite" else "false"
        true = "1" if conn.dialect.name == "sqlite" else "true"
        for ddl in (
            "ALTER TABLE quartier_users ADD COLUMN email TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE quartier_users ADD COLUMN is_admin BOOLEAN NOT NULL "
            f"DEFAULT {false}",
            "ALTER TABLE quartier_users ADD COLUMN active BOOLEAN NOT NULL "
            f"DEFAULT {true}",
        ):
            conn.exec_driver_sql(ddl)
    if found < 3:  # tokens gained a scope (api / collect)
        have = {c["name"] for c in sa.inspect(conn).get_columns("quartier_tokens")}
        if "scope" not in have:
            conn.exec_driver_sql(
                "ALTER TABLE quartier_tokens ADD COLUMN scope TEXT NOT NULL "
                "DEFAULT 'api'"
            )
    conn.execute(
        s.meta.update()
        .where(s.meta.c.key == "schema_version")
        .values(value=str(s.SCHEMA_VERSION))
    )


class SqlStore(
    AccountsMixin,
    AgreementsMixin,
    AuditMixin,
    CampaignsMixin,
    EcosystemMixin,
    FormsMixin,
    ProgrammeMixin,
    ReportsMixin,
    RowsMixin,
    QueryMixin,
    ReferenceMixin,
    TilesMixin,
    FeatureTables,
):
    """The store protocol, implemented once over SQLAlchemy Core (a mixin per
    area); subclasses supply the feature-table operations of their format."""

    kind: str = ""
    engine: sa.Engine

    def __init__(self, url: str) -> None:
        self.url = url

    @property
    def name(self) -> str:
        """The store as messages name it: a file's name, a database URL
        without its password (messages may reach web callers)."""
        if "://" in self.url:
            return sa.engine.make_url(self.url).render_as_string(hide_password=True)
        return os.path.basename(self.url)

    # ------------------------------------------------------------------ life
    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def ensure_schema(self) -> None:
        """Create platform tables when missing (idempotent)."""
        with self._write() as conn:
            s.metadata.create_all(conn)
            row = conn.execute(
                sa.select(s.meta.c.value).where(s.meta.c.key == "schema_version")
            ).first()
            if row is None:
                conn.execute(
                    s.meta.insert().values(
                        key="schema_version", value=str(s.SCHEMA_VERSION)
                    )
                )
            elif int(row[0]) > s.SCHEMA_VERSION:
                raise Conflict(
                    f"{self.url}: written by a newer Quartier (schema {row[0]}); "
                    "upgrade Quartier"
                )
            elif int(row[0]) < s.SCHEMA_VERSION:
                _upgrade(conn, int(row[0]))

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        """One write transaction (the GeoPackage takes the write lock)."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as conn:
            yield conn

    # ------------------------------------------------------------- workspace
    def get_workspace(self) -> Workspace:
        with self._read() as conn:
            row = conn.execute(sa.select(s.workspace)).mappings().first()
        if row is None:
            raise NotFound(f"{self.name}: no workspace yet; run `quartier init`")
        return Workspace(
            name=row["name"],
            working_crs=row["working_crs"],
            boundary_wkt=row["boundary_wkt"],
            admin_dataset=row["admin_dataset"],
            created=row["created"],
        )

    def set_workspace(self, ws: Workspace) -> None:
        values = {
            "name": ws.name,
            "working_crs": ws.working_crs,
            "boundary_wkt": ws.boundary_wkt,
            "admin_dataset": ws.admin_dataset,
            "created": ws.created or now(),
        }
        with self._write() as conn:
            if conn.execute(sa.select(s.workspace.c.id)).first() is None:
                conn.execute(s.workspace.insert().values(id=1, **values))
            else:
                if not ws.created:
                    del values["created"]  # keep the original creation stamp
                conn.execute(s.workspace.update().values(**values))

    # --------------------------------------------------------- organisations
    def add_organisation(self, org: Organisation, *, created: str = "") -> Organisation:
        validate_slug(org.slug)
        with self._write() as conn:
            if conn.execute(
                sa.select(s.organisations.c.slug).where(
                    s.organisations.c.slug == org.slug
                )
            ).first():
                raise Conflict(f"organisation {org.slug!r} already exists")
            conn.execute(
                s.organisations.insert().values(
                    slug=org.slug,
                    name=org.name,
                    kind=org.kind.value,
                    description=org.description,
                    website=org.website,
                    created=created or now(),
                )
            )
        return org

    def list_organisations(self) -> list[Organisation]:
        with self._read() as conn:
            rows = conn.execute(
                sa.select(s.organisations).order_by(s.organisations.c.slug)
            ).mappings()
            return [self._org(r) for r in rows]

    def get_organisation(self, slug: str) -> Organisation:
        with self._read() as conn:
            row = (
                conn.execute(
                    sa.select(s.organisations).where(s.organisations.c.slug == slug)
                )
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(f"no organisation {slug!r}")
        return self._org(row)

    @staticmethod
    def _org(row: Any) -> Organisation:
        return Organisation(
            slug=row["slug"],
            name=row["name"],
            kind=ActorKind(row["kind"]),
            description=row["description"],
            website=row["website"],
        )

    # -------------------------------------------------------------- datasets
    def create_dataset(self, ds: Dataset) -> Dataset:
        """Register a dataset (no features yet; its table comes with version 1)."""
        with self._write() as conn:
            self._insert_dataset(conn, ds)
        return self.get_dataset(ds.slug)

    def _insert_dataset(self, conn: sa.Connection, ds: Dataset) -> None:
        validate_slug(ds.slug)
        if ds.slug.startswith(RESERVED_PREFIXES):
            raise InvalidInput(f"dataset identifier {ds.slug!r} uses a reserved prefix")
        if self._dataset_row(conn, ds.slug, missing_ok=True) is not None:
            raise Conflict(f"dataset {ds.slug!r} already exists")
        table = ds.table_name or ds.slug
        validate_slug(table)
        if table.startswith(RESERVED_PREFIXES):
            raise InvalidInput(f"table name {table!r} uses a reserved prefix")
        if conn.execute(
            sa.select(s.datasets.c.slug).where(s.datasets.c.table_name == table)
        ).first():
            raise Conflict(f"table {table!r} already belongs to another dataset")
        self._check_orgs(conn, ds)
        stamp = ds.created or now()
        conn.execute(
            s.datasets.insert().values(
                **self._dataset_values(ds),
                table_name=ds.table_name or ds.slug,
                columns="[]",
                current_version=0,
                feature_count=0,
                created=stamp,
                updated=stamp,
            )
        )

    @staticmethod
    def _check_orgs(conn: sa.Connection, ds: Dataset) -> None:
        for org in (ds.producer, ds.steward):
            if (
                org
                and not conn.execute(
                    sa.select(s.organisations.c.slug).where(
                        s.organisations.c.slug == org
                    )
                ).first()
            ):
                raise NotFound(f"no organisation {org!r}")

    _EDITABLE = (
        "title title_en description description_en theme producer steward licence "
        "attribution access sensitive_fields update_frequency lineage "
        "temporal_start temporal_end key_field illustrative"
    ).split()

    def _dataset_values(self, ds: Dataset) -> dict[str, Any]:
        values = {k: getattr(ds, k) for k in self._EDITABLE}
        values["slug"] = ds.slug
        values["access"] = AccessLevel.parse(str(ds.access)).value
        values["sensitive_fields"] = json.dumps(list(ds.sensitive_fields))
        values["kind"] = ds.kind
        values["geometry_type"] = ds.geometry_type
        return values

    def update_dataset(self, slug: str, **changes: Any) -> Dataset:
        """Change metadata (never features: those change through versions)."""
        unknown = set(changes) - set(self._EDITABLE)
        if unknown:
            raise InvalidInput(f"cannot change {', '.join(sorted(unknown))}")
        current = self.get_dataset(slug)
        merged = Dataset(**{**asdict(current), **changes})
        values = self._dataset_values(merged)
        values = {k: values[k] for k in changes}
        with self._write() as conn:
            self._check_orgs(conn, merged)
            stamp = now()
            conn.execute(
                s.datasets.update()
                .where(s.datasets.c.slug == slug)
                .values(**values, updated=stamp)
            )
            self._record_change(
                conn,
                at=stamp,
                dataset=slug,
                version=None,
                kind="metadata",
                detail={"fields": sorted(changes)},
            )
        return self.get_dataset(slug)

    def get_dataset(self, slug: str) -> Dataset:
        with self._read() as conn:
            return self._to_dataset(self._dataset_row(conn, slug))

    def list_datasets(self) -> list[Dataset]:
        with self._read() as conn:
            rows = conn.execute(
                sa.select(s.datasets).order_by(s.datasets.c.slug)
            ).mappings()
            return [self._to_dataset(r) for r in rows]

    def _dataset_row(
        self,
        conn: sa.Connection,
        slug: str,
        *,
        missing_ok: bool = False,
        lock: bool = False,
    ) -> Any:
        query = sa.select(s.datasets).where(s.datasets.c.slug == slug)
        if lock:  # serialise writers of one dataset (PostgreSQL row lock)
            query = query.with_for_update()
        row = conn.execute(query).mappings().first()
        if row is None and not missing_ok:
            raise NotFound(f"no dataset {slug!r}")
        return row

    @staticmethod
    def _to_dataset(row: Any) -> Dataset:
        known = {f.name for f in fields(Dataset)}
        values = {k: row[k] for k in row.keys() if k in known}
        values["access"] = AccessLevel(row["access"])
        values["sensitive_fields"] = json.loads(row["sensitive_fields"])
        values["illustrative"] = bool(row["illustrative"])
        if row["min_x"] is not None:
            values["bbox"] = (row["min_x"], row["min_y"], row["max_x"], row["max_y"])
        return Dataset(**values)

    def _columns(self, row: Any) -> list[Field]:
        return list(_fields_from_json(row["columns"]))

    # -------------------------------------------------------------- versions
    def write_version(
        self,
        slug: str,
        batches: Iterable[pa.RecordBatch],
        *,
        fields: list[Field],
        message: str = "",
        source: str = "",
        checksum: str = "",
        author: str = "",
        restored_from: int | None = None,
        created: str | None = None,
        progress: Progress | None = None,
        geometry_type: str | Callable[[], str] | None = None,
        new: Dataset | None = None,
        expect_version: int | None = None,
    ) -> Version:
        """Write the complete content of a new version, atomically.

        ``batches`` hold the columns named in ``fields`` (canonical Arrow types)
        and, for feature datasets, ``geometry`` as WKB in EPSG:4326.
        ``geometry_type`` (or a function giving it once the batches are
        consumed) names the geometry type, e.g. ``"MULTIPOLYGON"``.
        ``new`` registers the dataset in the same transaction when it does not
        exist yet, so a failed first import leaves no trace.
        ``expect_version`` is the version the content was derived from: if
        another version landed since, :class:`StaleVersion` is raised and
        nothing is written (read-modify-write callers retry on the new one).
        """
        with self._write() as conn:
            if (
                new is not None
                and self._dataset_row(conn, slug, missing_ok=True) is None
            ):
                self._insert_dataset(conn, new)
            row = self._dataset_row(conn, slug, lock=True)
            ds = self._to_dataset(row)
            if expect_version is not None and ds.current_version != expect_version:
                raise StaleVersion(
                    f"{slug}: version {ds.current_version} was written since "
                    f"version {expect_version} was read"
                )
            n = ds.current_version + 1
            table = row["table_name"]
            columns = self._merge_columns(self._columns(row), fields)
            spatial = ds.kind == "features"
            if n == 1:
                self._create_table(conn, table, columns, ds)
            else:
                self._add_columns(conn, table, self._columns(row), columns)
            hashed = [f.name for f in fields] + (["geometry"] if spatial else [])
            written, bounds = 0, []
            try:
                for batch in batches:
                    batch = _clean(batch, fields)
                    hashes = row_hashes(batch, hashed)
                    box = self._insert_batch(
                        conn, table, fields, batch, hashes, n, spatial
                    )
                    if box is not None:
                        bounds.append(box)
                    written += batch.num_rows
                    if progress:
                        progress(batch.num_rows)
            except BaseException as e:
                self._end_inserts(conn, table, e)
                raise
            self._end_inserts(conn, table, None)
            summary = self._apply_diff(conn, table, n, ds.key_field, written)
            if spatial and geometry_type is not None:
                gtype = geometry_type() if callable(geometry_type) else geometry_type
                if n > 1 and gtype != ds.geometry_type:
                    gtype = "GEOMETRY"
                ds.geometry_type = gtype
                conn.execute(
                    s.datasets.update()
                    .where(s.datasets.c.slug == slug)
                    .values(geometry_type=gtype)
                )
            count = self._count(conn, table, None)
            bbox = None
            if spatial:
                # exact for a first version; the index's (padded) extent after
                # features were retired
                bbox = (
                    _union(bounds) if n == 1 and bounds else self._extent(conn, table)
                )
            stamp = created or now()
            box_values = dict(
                zip(
                    ("min_x", "min_y", "max_x", "max_y"),
                    bbox or (None,) * 4,
                    strict=True,
                )
            )
            conn.execute(
                s.versions.insert().values(
                    dataset=slug,
                    version=n,
                    created=stamp,
                    feature_count=count,
                    added=summary.added,
                    removed=summary.removed,
                    changed=summary.changed,
                    fields=_fields_json(fields),
                    message=message,
                    source=source,
                    checksum=checksum,
                    restored_from=restored_from,
                    author=author,
                    **box_values,
                )
            )
            conn.execute(
                s.datasets.update()
                .where(s.datasets.c.slug == slug)
                .values(
                    current_version=n,
                    feature_count=count,
                    columns=_fields_json(columns),
                    updated=stamp,
                    **box_values,
                )
            )
            self._after_version(conn, table, ds, bbox, stamp)
            self._record_change(
                conn,
                at=stamp,
                dataset=slug,
                version=n,
                kind="version",
                detail={
                    "added": summary.added,
                    "removed": summary.removed,
                    "changed": summary.changed,
                    "feature_count": count,
                },
            )
        return self.get_version(slug, n)

    @staticmethod
    def _merge_columns(existing: list[Field], new: list[Field]) -> list[Field]:
        by_name = {f.name: f for f in existing}
        merged = list(existing)
        for f in new:
            if f.name in RESERVED_COLUMNS:
                raise InvalidInput(f"field name {f.name!r} is reserved")
            if len(f.name.encode()) > 63 or not f.name:
                raise InvalidInput(
                    f"field name {f.name!r} must have 1 to 63 bytes of UTF-8"
                )
            old = by_name.get(f.name)
            if old is None:
                merged.append(f)
                by_name[f.name] = f
            elif old.type != f.type:
                raise InvalidInput(
                    f"field {f.name!r} was {old.type.value} in earlier versions and "
                    f"is {f.type.value} now; rename it or convert it before import"
                )
        return merged

    def _apply_diff(
        self, conn: sa.Connection, table: str, n: int, key: str | None, written: int
    ) -> Any:
        if n == 1:
            return summarise(None, None, 0, written)
        old_fids, old_hashes = self._states(conn, table, below=n)
        new_fids, new_hashes = self._states(conn, table, at=n)
        diff = diff_states(old_hashes, new_hashes)
        retire = old_fids[diff.retire]
        added = new_fids[diff.keep_new]
        retired_keys = added_keys = None
        if key:
            retired_keys = self._values(conn, table, key, retire)
            added_keys = self._values(conn, table, key, added)
        self._retire(conn, table, retire, n)
        self._delete(conn, table, new_fids[diff.drop_new])
        return summarise(retired_keys, added_keys, len(retire), len(added))

    def list_versions(self, slug: str) -> list[Version]:
        self.get_dataset(slug)
        with self._read() as conn:
            rows = conn.execute(
                sa.select(s.versions)
                .where(s.versions.c.dataset == slug)
                .order_by(s.versions.c.version)
            ).mappings()
            return [self._to_version(r) for r in rows]

    def get_version(self, slug: str, version: int) -> Version:
        with self._read() as conn:
            row = (
                conn.execute(
                    sa.select(s.versions).where(
                        s.versions.c.dataset == slug, s.versions.c.version == version
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            self.get_dataset(slug)
            raise NotFound(f"dataset {slug!r} has no version {version}")
        return self._to_version(row)

    @staticmethod
    def _to_version(row: Any) -> Version:
        bbox = None
        if row["min_x"] is not None:
            bbox = (row["min_x"], row["min_y"], row["max_x"], row["max_y"])
        return Version(
            dataset=row["dataset"],
            version=row["version"],
            created=row["created"],
            feature_count=row["feature_count"],
            added=row["added"],
            removed=row["removed"],
            changed=row["changed"],
            fields=_fields_from_json(row["fields"]),
            message=row["message"],
            source=row["source"],
            checksum=row["checksum"],
            restored_from=row["restored_from"],
            author=row["author"],
            bbox=bbox,
        )

    def read_batches(
        self,
        slug: str,
        *,
        version: int | None = None,
        bbox: BBox | None = None,
        batch_size: int = 65536,
    ) -> Iterator[pa.RecordBatch]:
        """Stream the features of a version (default: current), ordered by fid.

        Batches have ``fid``, the version's fields and, for feature datasets,
        ``geometry`` (WKB, EPSG:4326).
        """
        ds = self.get_dataset(slug)
        if ds.current_version == 0:
            return
        v = self.get_version(
            slug, version if version is not None else ds.current_version
        )
        at = None if v.version == ds.current_version else v.version
        yield from self._select(
            ds.table_name or slug,
            list(v.fields),
            ds.kind == "features",
            at,
            bbox,
            batch_size,
        )

    def count_features(self, slug: str, *, version: int | None = None) -> int:
        ds = self.get_dataset(slug)
        if version is None or version == ds.current_version:
            return ds.feature_count
        return self.get_version(slug, version).feature_count

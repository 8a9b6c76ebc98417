"""Features for a caller: the use-cases behind OGC API – Features.

Every read goes through :mod:`quartier.access`: a dataset the caller may not
read does not exist, sensitive fields they may not see are removed from the
output *and* from what they may filter or select on (so a filter cannot
probe a hidden value), and reads of protected datasets are audited.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import shapely

from quartier.access import Principal, hidden_fields, readable, require_read
from quartier.domain import Dataset, Field, FieldType
from quartier.domain.filters import (
    Compare,
    Const,
    Expr,
    In,
    Interval,
    bind,
    coerce_text,
    conjunction,
)
from quartier.errors import InvalidInput, NotFound
from quartier.services.audit import ReadAudit
from quartier.storage.base import SqlStore
from quartier.storage.query import BBox

#: the first date or datetime field is what ``datetime`` filters on
TEMPORAL = (FieldType.DATETIME, FieldType.DATE)


@dataclass(frozen=True)
class ItemsQuery:
    """A parsed ``/items`` request."""

    limit: int = 10
    bbox: BBox | None = None
    datetime: Interval | None = None
    filter: Expr | None = None
    #: ``?name=value`` pairs (repeated names mean "any of")
    equals: Sequence[tuple[str, str]] = ()
    properties: Sequence[str] | None = None
    after: int | None = None
    before: int | None = None
    offset: int | None = None

    @property
    def filtered(self) -> bool:
        return bool(
            self.bbox or self.datetime or self.filter is not None or self.equals
        )


@dataclass
class Items:
    """One page of GeoJSON features, first and last fid, and what comes next."""

    dataset: Dataset
    features: list[dict[str, Any]]
    more: bool
    number_matched: int | None
    fids: list[int] = field(default_factory=list)


def collections(store: SqlStore, p: Principal) -> list[Dataset]:
    return readable(p, store.list_datasets())


def collection(store: SqlStore, p: Principal, slug: str) -> Dataset:
    return require_read(p, store.get_dataset(slug))


def visible_fields(store: SqlStore, p: Principal, ds: Dataset) -> list[Field]:
    """The fields of the current version that ``p`` may see (and query)."""
    hidden = hidden_fields(p, ds)
    return [f for f in store.feature_fields(ds) if f.name not in hidden]


def items(
    store: SqlStore, audit: ReadAudit, p: Principal, slug: str, q: ItemsQuery
) -> Items:
    ds = collection(store, p, slug)
    fields = visible_fields(store, p, ds)
    types = {f.name: f.type for f in fields}
    selected = _selected(fields, q.properties)
    parts = [] if q.filter is None else [bind(q.filter, types)]
    parts += _equals(q.equals, types, ds) + _temporal(q.datetime, fields, ds)
    where = conjunction(parts)
    if where == Const(False):
        page_batch, more = None, False
    else:
        page = store.query_features(
            ds,
            bbox=q.bbox,
            where=where,
            after=q.after,
            before=q.before,
            offset=q.offset,
            limit=q.limit,
            columns=[f.name for f in selected],
        )
        page_batch, more = page.batch, page.more
    audit.record(p, ds, "items")
    if page_batch is None:
        return Items(ds, [], False, None if q.filtered else ds.feature_count)
    return Items(
        ds,
        to_features(page_batch, selected),
        more,
        None if q.filtered else ds.feature_count,
        page_batch.column("fid").to_pylist(),
    )


def item(
    store: SqlStore, audit: ReadAudit, p: Principal, slug: str, feature_id: str
) -> tuple[Dataset, dict[str, Any]]:
    """One feature by its id (the store's fid); unknown or malformed → 404."""
    ds = collection(store, p, slug)
    fields = visible_fields(store, p, ds)
    try:
        fid = int(feature_id)
    except ValueError:
        raise NotFound(f"no feature {feature_id!r} in dataset {slug!r}") from None
    batch = store.get_feature(ds, fid, columns=[f.name for f in fields])
    audit.record(p, ds, "items")
    return ds, to_features(batch, fields)[0]


# --------------------------------------------------------------- helpers
def _selected(fields: list[Field], names: Sequence[str] | None) -> list[Field]:
    if names is None:
        return fields
    known = {f.name for f in fields}
    for name in names:
        if name not in known:
            raise InvalidInput(f"properties: unknown property {name!r}")
    wanted = set(names)
    return [f for f in fields if f.name in wanted]


def _equals(
    pairs: Sequence[tuple[str, str]], types: dict[str, FieldType], ds: Dataset
) -> list[Expr]:
    """``?name=value`` filters; a name that is no visible field is unknown."""
    values: dict[str, list[str]] = defaultdict(list)
    for name, value in pairs:
        if name not in types:
            raise InvalidInput(
                f"unknown parameter {name!r}: neither a parameter of this request "
                f"nor a property of collection {ds.slug!r}"
            )
        values[name].append(value)
    exprs: list[Expr] = []
    for name, texts in values.items():
        typed = [coerce_text(t, types[name], prop=name) for t in texts]
        expr: Expr = (
            Compare(name, "=", typed[0]) if len(typed) == 1 else In(name, tuple(typed))
        )
        exprs.append(bind(expr, types))
    return exprs


def _temporal(
    interval: Interval | None, fields: list[Field], ds: Dataset
) -> list[Expr]:
    """``datetime`` as a filter on the first date field.

    Without one, the dataset's temporal extent stands for every feature:
    all match when it meets the interval, none when it does not. Without
    either, nothing is known about time and the parameter does not restrict.
    """
    if interval is None:
        return []
    start, end = interval
    field_ = next((f for f in fields if f.type in TEMPORAL), None)
    if field_ is not None:
        out: list[Expr] = []
        for op, bound in ((">=", start), ("<=", end)):
            if bound is not None:
                value = bound.date() if field_.type is FieldType.DATE else bound
                out.append(Compare(field_.name, op, value))
        return out
    extent = temporal_extent(ds)
    if extent is None:
        return []
    lo, hi = extent
    if (end is not None and lo is not None and lo > end) or (
        start is not None and hi is not None and hi < start
    ):
        return [Const(False)]
    return []


def temporal_extent(
    ds: Dataset,
) -> tuple[dt.datetime | None, dt.datetime | None] | None:
    """The catalogue's temporal extent as instants (None when unknown)."""
    if not ds.temporal_start and not ds.temporal_end:
        return None
    return _moment(ds.temporal_start, end=False), _moment(ds.temporal_end, end=True)


def _moment(text: str | None, *, end: bool) -> dt.datetime | None:
    """A catalogue date (or date-time) as an instant; an end date is its last ms."""
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    if end and len(text) == 10:
        value += dt.timedelta(days=1) - dt.timedelta(milliseconds=1)
    return value


def to_features(batch: pa.RecordBatch, fields: list[Field]) -> list[dict[str, Any]]:
    """GeoJSON features (``id`` = fid) from a page; geometries are built by GEOS
    in one vectorised call and embedded as ready-made JSON."""
    n = batch.num_rows
    if n == 0:
        return []
    fids = batch.column("fid").to_pylist()
    geometries: list[Any] = [None] * n
    if "geometry" in batch.schema.names:
        wkb = np.asarray(batch.column("geometry").to_numpy(zero_copy_only=False))
        geometries = [
            None if g is None else orjson.Fragment(g)
            for g in shapely.to_geojson(shapely.from_wkb(wkb)).tolist()
        ]
    columns = {f.name: _values(batch.column(f.name), f.type) for f in fields}
    return [
        {
            "type": "Feature",
            "id": fids[i],
            "geometry": geometries[i],
            "properties": {name: col[i] for name, col in columns.items()},
        }
        for i in range(n)
    ]


def _values(col: pa.Array, ftype: FieldType) -> list[Any]:
    values = col.to_pylist()
    if ftype is FieldType.JSON:
        return [_json(v) for v in values]
    if ftype is FieldType.BLOB:
        return [None if v is None else base64.b64encode(v).decode() for v in values]
    return values


def _json(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text  # not JSON after all: shown as text

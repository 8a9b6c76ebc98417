"""Feature queries for the APIs: filters, keyset pages, one feature by id.

Pages are *keyset* pages in ``fid`` order: the next page starts after the
last fid seen (``fid > after``), the previous one ends before the first
(``fid < before``). Each page reads ``limit + 1`` rows to know whether
another exists, so deep pages cost what the first does, and nothing counts
the matches. The bbox filter (features whose geometry *intersects* the box)
and the attribute filter run in SQL before the limit, so pages stay exact.
``offset`` is supported for clients that send it: the fid at that position
is found with the same filters on the primary key (an index scan of
``offset`` entries, no rows built) and the page starts there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from quartier.domain import Dataset, Field, Version
from quartier.domain.fieldtypes import ARROW_TYPES
from quartier.domain.filters import (
    And,
    Between,
    Compare,
    Const,
    Expr,
    In,
    IsNull,
    Like,
    Not,
    Or,
    bind,
)
from quartier.errors import InvalidInput, NotFound

BBox = tuple[float, float, float, float]
#: (SQL text, parameters) of one condition
Sql = tuple[str, list[Any]]


@dataclass(frozen=True)
class FeaturePage:
    """One page of features, in ascending fid order."""

    batch: pa.RecordBatch
    #: another page exists in the direction of travel (forward, or backward
    #: for a ``before`` page)
    more: bool


@dataclass(frozen=True)
class PageRequest:
    """What a backend runs: everything already checked and compiled."""

    table: str
    fields: list[Field]
    spatial: bool
    where: Sql | None
    bbox: BBox | None
    after: int | None
    before: int | None
    offset: int | None
    limit: int
    #: the dataset's extent and feature count (for the backend's plan choice)
    extent: BBox | None = None
    count: int = 0


@dataclass(frozen=True)
class Dialect:
    """How one backend writes a filter."""

    placeholder: str
    #: (quoted column, CQL2 LIKE pattern) → condition
    like: Callable[[str, str], Sql]
    value: Callable[[Any], Any]
    quote: Callable[[str], str]


def compile_filter(expr: Expr, d: Dialect) -> Sql:
    """Parameterised SQL for a filter checked by :func:`~.filters.bind`."""
    ph = d.placeholder
    if isinstance(expr, Compare):
        return f"{d.quote(expr.prop)} {expr.op} {ph}", [d.value(expr.value)]
    if isinstance(expr, Like):
        return d.like(d.quote(expr.prop), expr.pattern)
    if isinstance(expr, IsNull):
        return f"{d.quote(expr.prop)} IS NULL", []
    if isinstance(expr, In):
        marks = ", ".join(ph for _ in expr.values)
        return f"{d.quote(expr.prop)} IN ({marks})", [d.value(v) for v in expr.values]
    if isinstance(expr, Between):
        params = [d.value(expr.low), d.value(expr.high)]
        return f"{d.quote(expr.prop)} BETWEEN {ph} AND {ph}", params
    if isinstance(expr, Not):
        sql, params = compile_filter(expr.arg, d)
        return f"NOT ({sql})", params
    if isinstance(expr, And | Or):
        parts = [compile_filter(a, d) for a in expr.args]
        joiner = " AND " if isinstance(expr, And) else " OR "
        return (
            joiner.join(f"({s})" for s, _ in parts),
            [p for _, ps in parts for p in ps],
        )
    if isinstance(expr, Const):
        return ("1 = 1" if expr.value else "1 = 0"), []
    raise TypeError(f"not a filter expression: {expr!r}")


def like_to_glob(pattern: str) -> str:
    """A CQL2 LIKE pattern as an SQLite GLOB (case-sensitive, as CQL2 asks).

    >>> like_to_glob(r"a%b_c\\%[*")
    'a*b?c%[[][*]'
    """
    out, escaped = [], False
    for ch in pattern:
        if escaped:
            out.append(f"[{ch}]" if ch in "*?[" else ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "%":
            out.append("*")
        elif ch == "_":
            out.append("?")
        elif ch in "*?[":
            out.append(f"[{ch}]")
        else:
            out.append(ch)
    if escaped:
        out.append("\\")
    return "".join(out)


def sqlite_value(v: Any) -> Any:
    """Literals as the GeoPackage stores them (dates as ISO text, ms stamps)."""
    if isinstance(v, dt.datetime):
        return v.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
            f"{v.microsecond // 1000:03d}Z"
        )
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


class QueryMixin:
    """Mixed into :class:`~quartier.storage.base.SqlStore`."""

    if TYPE_CHECKING:  # provided by SqlStore

        def get_dataset(self, slug: str) -> Dataset: ...
        def get_version(self, slug: str, version: int) -> Version: ...

    def feature_fields(self, dataset: Dataset | str) -> list[Field]:
        """The fields of the current version (cached: versions never change)."""
        ds = self.get_dataset(dataset) if isinstance(dataset, str) else dataset
        if ds.current_version == 0:
            return []
        cache = self.__dict__.setdefault("_field_cache", {})
        key = (ds.slug, ds.current_version, ds.created)
        fields = cache.get(key)  # one lookup: other threads may clear the cache
        if fields is None:
            if len(cache) > 512:
                cache.clear()
            fields = list(self.get_version(ds.slug, ds.current_version).fields)
            cache[key] = fields
        return list(fields)

    def query_features(
        self,
        dataset: Dataset | str,
        *,
        bbox: BBox | None = None,
        where: Expr | None = None,
        after: int | None = None,
        before: int | None = None,
        offset: int | None = None,
        limit: int = 10,
        columns: Sequence[str] | None = None,
    ) -> FeaturePage:
        """One keyset page of current features matching ``bbox`` and ``where``.

        ``bbox`` (lon/lat) selects features whose geometry intersects it;
        ``after``/``before`` are the fids the page starts after / ends
        before; ``offset`` skips that many matches instead. The batch has
        ``fid``, ``geometry`` (WKB; feature datasets) and ``columns``
        (default: every field), in ascending fid order.
        """
        ds = self.get_dataset(dataset) if isinstance(dataset, str) else dataset
        if limit < 1:
            raise InvalidInput(f"limit must be at least 1, not {limit}")
        if sum(x is not None for x in (after, before, offset)) > 1:
            raise InvalidInput("give at most one of after, before and offset")
        fields = self.feature_fields(ds)
        selected = _select(fields, columns)
        spatial = ds.kind == "features"
        if ds.current_version == 0 or (bbox is not None and not spatial):
            return FeaturePage(empty_batch(selected, spatial), False)
        if bbox is not None:
            _check_bbox(bbox)
        compiled = None
        if where is not None:
            bound = bind(where, {f.name: f.type for f in fields})
            compiled = compile_filter(bound, self._api_dialect())
        request = PageRequest(
            table=ds.table_name or ds.slug,
            fields=selected,
            spatial=spatial,
            where=compiled,
            bbox=bbox,
            after=after,
            before=before,
            offset=offset,
            limit=limit,
            extent=ds.bbox,
            count=ds.feature_count,
        )
        batch = self._api_page(request)
        more = batch.num_rows > limit
        if before is not None:
            batch = batch.slice(batch.num_rows - min(batch.num_rows, limit))
        else:
            batch = batch.slice(0, limit)
        return FeaturePage(batch, more)

    def get_feature(
        self, dataset: Dataset | str, fid: int, *, columns: Sequence[str] | None = None
    ) -> pa.RecordBatch:
        """The current feature ``fid`` as a one-row batch; NotFound if none."""
        ds = self.get_dataset(dataset) if isinstance(dataset, str) else dataset
        selected = _select(self.feature_fields(ds), columns)
        batch = None
        if ds.current_version and -(2**63) <= fid < 2**63:
            batch = self._api_feature(
                ds.table_name or ds.slug, selected, ds.kind == "features", fid
            )
        if batch is None or batch.num_rows == 0:
            raise NotFound(f"no feature {fid} in dataset {ds.slug!r}")
        return batch

    def feature_exists(
        self, dataset: Dataset | str, fid: int, *, version: int | None = None
    ) -> bool:
        """Was feature ``fid`` part of ``version`` (default: the current one)?
        False for an unknown version or a fid out of the 64-bit range."""
        ds = self.get_dataset(dataset) if isinstance(dataset, str) else dataset
        at = ds.current_version if version is None else version
        if not (1 <= at <= ds.current_version and -(2**63) <= fid < 2**63):
            return False
        table = ds.table_name or ds.slug
        return self._api_has_fid(table, fid, None if at == ds.current_version else at)

    # ------------------------------------------------------ backend hooks
    def _api_dialect(self) -> Dialect:
        raise NotImplementedError

    def _api_page(self, request: PageRequest) -> pa.RecordBatch:
        """Up to ``limit + 1`` rows in the direction of travel, ascending fid."""
        raise NotImplementedError

    def _api_feature(
        self, table: str, fields: list[Field], spatial: bool, fid: int
    ) -> pa.RecordBatch | None:
        raise NotImplementedError

    def _api_has_fid(self, table: str, fid: int, at: int | None) -> bool:
        """Is ``fid`` in the current table (``at`` None) or in version ``at``?"""
        raise NotImplementedError


def _select(fields: list[Field], columns: Sequence[str] | None) -> list[Field]:
    if columns is None:
        return list(fields)
    by_name = {f.name: f for f in fields}
    unknown = [c for c in columns if c not in by_name]
    if unknown:
        raise InvalidInput(f"unknown property {unknown[0]!r}")
    wanted = set(columns)
    return [f for f in fields if f.name in wanted]


def _check_bbox(bbox: BBox) -> None:
    x0, y0, x1, y1 = bbox
    if not all(v == v and abs(v) != float("inf") for v in bbox):
        raise InvalidInput("bbox: coordinates must be finite numbers")
    if x0 > x1 or y0 > y1:
        raise InvalidInput(
            "bbox: give min lon, min lat, max lon, max lat (boxes across the "
            "antimeridian are not supported)"
        )


def empty_batch(fields: list[Field], spatial: bool) -> pa.RecordBatch:
    """A batch with no rows and the columns of a page."""
    arrays = [pa.array([], pa.int64())]
    names = ["fid"]
    if spatial:
        arrays.append(pa.array([], pa.binary()))
        names.append("geometry")
    for f in fields:
        arrays.append(pa.array([], ARROW_TYPES[f.type]))
        names.append(f.name)
    return pa.RecordBatch.from_arrays(arrays, names=names)


def wide_bbox(request: PageRequest) -> bool:
    """Would walking the table in fid order find the page sooner than listing
    the bbox's candidates from the spatial index first?

    Index first costs about one step per candidate (``m``); the walk reads
    about ``needed * count / m`` rows, each dearer (say two steps): they break
    even at ``m = sqrt(2 * needed * count)``. ``m`` is estimated from the
    dataset's extent and count as if features were spread evenly: a wrong
    guess changes the speed, never the result.
    """
    if request.extent is None or request.bbox is None:
        return False
    ex0, ey0, ex1, ey1 = request.extent
    x0, y0, x1, y1 = request.bbox
    w, h = min(x1, ex1) - max(x0, ex0), min(y1, ey1) - max(y0, ey0)
    if w < 0 or h < 0:
        return False
    area = (ex1 - ex0) * (ey1 - ey0)
    expected = request.count * (w * h / area if area > 0 else 1.0)
    needed = request.limit + 1 + (request.offset or 0)
    return expected > (2.0 * needed * max(request.count, 1)) ** 0.5


def assemble(
    request: PageRequest,
    select: str,
    table_sql: str,
    filters: list[Sql],
    ph: str,
    *,
    key: str = "fid",
) -> Sql:
    """``SELECT … WHERE filters AND paging ORDER BY fid LIMIT limit + 1``.

    ``filters`` are the conditions a match must meet (attributes, bbox);
    an ``offset`` becomes ``fid >= (the fid at that position among matches)``.
    ``key`` is how paging conditions name the fid (an expression such as
    ``fid + 0`` keeps a planner from using the primary key for them).
    """
    conds = list(filters)
    if request.after is not None:
        conds.append((f"{key} > {ph}", [request.after]))
    if request.before is not None:
        conds.append((f"{key} < {ph}", [request.before]))
    direction = "DESC" if request.before is not None else "ASC"
    if request.offset:
        where = " AND ".join(f"({s})" for s, _ in filters) or "1 = 1"
        conds.append(
            (
                f"{key} >= (SELECT fid FROM {table_sql} WHERE {where} "
                f"ORDER BY fid LIMIT 1 OFFSET {ph})",
                [p for _, ps in filters for p in ps] + [request.offset],
            )
        )
    where_sql = " AND ".join(f"({s})" for s, _ in conds) or "1 = 1"
    params = [p for _, ps in conds for p in ps] + [request.limit + 1]
    sql = (
        f"SELECT {select} FROM {table_sql} WHERE {where_sql} "
        f"ORDER BY fid {direction} LIMIT {ph}"
    )
    return sql, params

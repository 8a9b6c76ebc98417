"""Running analyses on the store and keeping their results as datasets.

An analysis reads its inputs (current versions) into GeoDataFrames in the
workspace's working CRS, calls a pure function of :mod:`quartier.analysis`,
and writes its result as a **new version of a catalogued dataset** whose
lineage records the analysis, the exact version of every input and every
parameter, so any figure can be traced and reproduced.

A result is never more open than its inputs: it takes the most restrictive
access level among them (with that input's producer and steward), and it is
``illustrative`` when any input is.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely

from quartier import __version__, access
from quartier.access import Principal
from quartier.domain import AccessLevel, Dataset, Field, FieldType, Version
from quartier.errors import Conflict, InvalidInput, NotFound
from quartier.io.normalise import geometry_type_name
from quartier.services.search import fold
from quartier.storage.base import SqlStore

T = TypeVar("T")
#: access levels from most open to most restricted
_OPENNESS = list(AccessLevel)


@dataclass
class Lineage:
    """What a result was computed from: analysis, input versions, parameters."""

    analysis: str
    #: who runs it: every input must be readable by them (None: the operator)
    reader: Principal | None = None
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    datasets: list[Dataset] = field(default_factory=list)

    def use(self, store: SqlStore, role: str, slug: str) -> Dataset:
        """Record ``slug``'s current version as the input ``role``.

        A dataset the reader may not see is refused like an unknown one.
        """
        ds = store.get_dataset(slug)
        if self.reader is not None:
            access.require_read(self.reader, ds)
        if not ds.current_version:
            raise InvalidInput(f"{role}: dataset {slug!r} has no version yet")
        self.inputs[role] = {"dataset": slug, "version": ds.current_version}
        self.datasets.append(ds)
        return ds

    def text(self) -> str:
        return json.dumps(
            {
                "analysis": self.analysis,
                "quartier": __version__,
                "inputs": self.inputs,
                "parameters": self.parameters,
            },
            ensure_ascii=False,
            sort_keys=True,
            default=str,
        )


def checked(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call an analysis; its input errors (``ValueError``) become ``InvalidInput``."""
    try:
        return function(*args, **kwargs)
    except ValueError as e:
        raise InvalidInput(str(e)) from None


def working_crs(store: SqlStore) -> int:
    return store.get_workspace().working_crs


def territory(store: SqlStore, crs: int, fallback: gpd.GeoDataFrame) -> Any:
    """The workspace's boundary in ``crs``, else the extent of ``fallback``."""
    boundary = store.get_workspace().boundary_wkt
    if boundary:
        return gpd.GeoSeries([shapely.from_wkt(boundary)], crs=4326).to_crs(crs).iloc[0]
    return shapely.box(*fallback.total_bounds)


#: who the current computation reads for (None: the local operator); their
#: hidden (sensitive) fields are dropped by every read below
_READER: ContextVar[Principal | None] = ContextVar("analysis_reader", default=None)


@contextmanager
def reading_as(reader: Principal | None) -> Iterator[None]:
    """Reads inside drop the fields ``reader`` may not see (e.g. a profile
    page built for a partner never sums a sensitive column)."""
    token = _READER.set(reader)
    try:
        yield
    finally:
        _READER.reset(token)


class PageCache(Generic[T]):
    """The last ``size`` results computed for pages, by key (least recently
    used dropped first); thread-safe; a result is built outside the lock."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._items: OrderedDict[Any, T] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_build(self, key: Any, build: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        built = build()
        with self._lock:
            self._items[key] = built
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return built


def seen_by(store: SqlStore, reader: Principal) -> tuple[Any, ...]:
    """What ``reader`` may see of the data, as a cache key: the readable
    datasets with their versions, their metadata's last change (title, theme,
    licence, access decide the diagnostic too) and the fields hidden from the
    reader. Two readers with the same key may share a computed page."""
    return tuple(
        sorted(
            (
                d.slug,
                d.current_version,
                d.updated,
                tuple(sorted(access.hidden_fields(reader, d))),
            )
            for d in access.readable(reader, store.list_datasets())
        )
    )


def current_table(store: SqlStore, ds: Dataset) -> pa.Table | None:
    """A dataset's current version whole (None without rows).

    Through the store's own reader — not GDAL's, fast as it is: GDAL links its
    own copy of SQLite, and two copies in one process break SQLite's locks on
    a GeoPackage (a read through GDAL missed a version just written)."""
    batches = list(store.read_batches(ds.slug))
    if not batches:
        return None
    table = pa.Table.from_batches(batches)
    reader = _READER.get()
    hidden = access.hidden_fields(reader, ds) if reader is not None else frozenset()
    return table.drop([c for c in table.column_names if c in hidden])


def read_frame(store: SqlStore, ds: Dataset, crs: int) -> gpd.GeoDataFrame:
    """A dataset's current version as a GeoDataFrame in ``crs``."""
    table = current_table(store, ds)
    if table is None or table.num_rows == 0:
        return gpd.GeoDataFrame(geometry=[], crs=crs)
    frame = table.drop(["geometry"]).to_pandas()
    geoms = shapely.from_wkb(table.column("geometry").to_numpy(zero_copy_only=False))
    gdf = gpd.GeoDataFrame(frame, geometry=geoms, crs=4326)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    return gdf[present].to_crs(crs)


def read_table(store: SqlStore, ds: Dataset) -> pd.DataFrame:
    table = current_table(store, ds)
    if table is None:
        return pd.DataFrame()
    if "geometry" in table.column_names:
        table = table.drop(["geometry"])
    return table.to_pandas()


# ---------------------------------------------------------- choosing inputs
def find(
    store: SqlStore,
    *,
    themes: Iterable[str] = (),
    slugs: Iterable[str] = (),
    geometry: str | None = None,
    kind: str = "features",
    reader: Principal | None = None,
) -> list[Dataset]:
    """Datasets of a theme (folded prefix) or slug prefix, by geometry word —
    only those ``reader`` may see (a default never names a hidden dataset)."""
    theme_prefixes = tuple(fold(t) for t in themes)
    slug_prefixes = tuple(slugs)
    found = []
    for ds in store.list_datasets():
        if ds.kind != kind or not ds.current_version or is_result(ds):
            continue
        if reader is not None and not access.can_read(reader, ds):
            continue
        if geometry and geometry not in ds.geometry_type.upper():
            continue
        theme = fold(ds.theme)
        if (theme_prefixes and theme.startswith(theme_prefixes)) or (
            slug_prefixes and ds.slug.startswith(slug_prefixes)
        ):
            found.append(ds)
    return sorted(found, key=lambda d: (d.illustrative, d.slug))


def is_result(ds: Dataset) -> bool:
    """Whether ``ds`` was written by an analysis (never a default input)."""
    return ds.lineage.startswith('{"analysis":')


def first(found: list[Dataset], what: str, hint: str) -> Dataset:
    if not found:
        raise InvalidInput(f"no {what} dataset found: {hint}")
    return found[0]


def get(store: SqlStore, slug: str, what: str) -> Dataset:
    try:
        return store.get_dataset(slug)
    except NotFound:
        raise InvalidInput(f"{what}: no dataset {slug!r}") from None


# ----------------------------------------------------------- writing results
def write_result(
    store: SqlStore,
    slug: str,
    data: pd.DataFrame,
    *,
    title: str,
    title_en: str,
    theme: str,
    lineage: Lineage,
    author: str,
    description: str = "",
) -> Version:
    """``data`` (a GeoDataFrame → features in EPSG:4326, else a table) as a
    new version of ``slug``, created if needed, with ``lineage`` recorded."""
    fields = [_field(name, data[name]) for name in data.columns if name != "geometry"]
    columns = {f.name: _arrow(data[f.name], f.type) for f in fields}
    is_features = isinstance(data, gpd.GeoDataFrame)
    geometry_type = None
    if is_features:
        geoms = np.asarray(data.geometry.to_crs(4326).values, dtype=object)
        columns["geometry"] = pa.array(shapely.to_wkb(geoms).tolist(), pa.binary())
        geometry_type = _geometry_type(geoms)
    batch = pa.record_batch(columns) if columns else pa.record_batch({})
    checksum = _checksum(lineage, batch)
    _refuse_foreign(store, slug, lineage.analysis)
    current = _current(store, slug)
    if current is not None and current.checksum == checksum:
        return current  # same inputs, same parameters, same result: no new version
    meta = _result_dataset(slug, title, title_en, theme, lineage, description)
    meta.kind = "features" if is_features else "attributes"
    _never_looser(store, slug, meta)
    version = store.write_version(
        slug,
        [batch],
        fields=fields,
        message=f"{lineage.analysis}: {json.dumps(lineage.inputs, sort_keys=True)}",
        source=f"quartier analyze {lineage.analysis}",
        checksum=checksum,
        author=author,
        geometry_type=geometry_type,
        new=meta,
    )
    store.update_dataset(
        slug,
        lineage=lineage.text(),
        access=meta.access,
        producer=meta.producer,
        steward=meta.steward,
        illustrative=meta.illustrative,
    )
    return version


def _checksum(lineage: Lineage, batch: pa.RecordBatch) -> str:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    digest = hashlib.sha256(lineage.text().encode())
    digest.update(sink.getvalue().to_pybytes())
    return digest.hexdigest()


def claim(store: SqlStore, slugs: Iterable[str], analysis: str) -> None:
    """Check every result dataset may be written, before writing any."""
    for slug in slugs:
        _refuse_foreign(store, slug, analysis)


def _refuse_foreign(store: SqlStore, slug: str, analysis: str) -> None:
    """Never write an analysis result into a dataset people made themselves."""
    try:
        ds = store.get_dataset(slug)
    except NotFound:
        return
    if not ds.lineage.startswith(f'{{"analysis": "{analysis}"'):
        raise Conflict(
            f"dataset {slug!r} exists and was not written by the {analysis} "
            "analysis: rename it, or choose other inputs"
        )


def _never_looser(store: SqlStore, slug: str, meta: Dataset) -> None:
    """Keep an existing result as closed as it is when a new run's inputs are
    more open: the access level covers every version, and earlier versions
    may come from more restricted data (a person may open it deliberately)."""
    try:
        ds = store.get_dataset(slug)
    except NotFound:
        return
    if _OPENNESS.index(ds.access) > _OPENNESS.index(meta.access):
        meta.access, meta.producer, meta.steward = ds.access, ds.producer, ds.steward
        meta.licence = ds.licence


def _current(store: SqlStore, slug: str) -> Version | None:
    try:
        ds = store.get_dataset(slug)
    except NotFound:
        return None
    return store.get_version(slug, ds.current_version) if ds.current_version else None


def _result_dataset(
    slug: str,
    title: str,
    title_en: str,
    theme: str,
    lineage: Lineage,
    description: str,
) -> Dataset:
    strictest = max(lineage.datasets, key=lambda d: _OPENNESS.index(d.access))
    return Dataset(
        slug=slug,
        title=title,
        title_en=title_en,
        theme=theme,
        description=description,
        access=strictest.access,
        producer=strictest.producer,
        steward=strictest.steward,
        licence=strictest.licence,
        illustrative=any(d.illustrative for d in lineage.datasets),
        lineage=lineage.text(),
    )


def _field(name: str, values: pd.Series) -> Field:
    if pd.api.types.is_bool_dtype(values):
        return Field(name, FieldType.BOOLEAN)
    if pd.api.types.is_integer_dtype(values):
        return Field(name, FieldType.INTEGER)
    if pd.api.types.is_float_dtype(values):
        return Field(name, FieldType.REAL)
    return Field(name, FieldType.TEXT)


def _arrow(values: pd.Series, ftype: FieldType) -> pa.Array:
    kind = {
        FieldType.BOOLEAN: pa.bool_(),
        FieldType.INTEGER: pa.int64(),
        FieldType.REAL: pa.float64(),
    }.get(ftype, pa.string())
    if kind == pa.string():
        if pd.api.types.is_string_dtype(values):  # text already: one call
            try:
                return pa.array(values, type=pa.string(), from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                pass  # mixed objects: one by one below
        return pa.array(
            [None if pd.isna(v) else str(v) for v in values], type=pa.string()
        )
    if ftype == FieldType.REAL:  # no infinities in the catalogue (JSON has none)
        values = values.replace([np.inf, -np.inf], np.nan)
    return pa.array(values.to_numpy(), type=kind, from_pandas=True)


def _geometry_type(geoms: np.ndarray) -> str:
    """The declared type, by the importer's rule (mixed kinds: ``GEOMETRY``)."""
    kinds = np.unique(shapely.get_type_id(geoms[~shapely.is_missing(geoms)]))
    return geometry_type_name(shapely.GeometryType(int(k)).name for k in kinds)

"""Finding places by name: admin units and named features the caller may read.

The search reads the name field (``nom``, ``name``…) of the caller's visible
point and polygon datasets, if that field is visible to them, and matches it
accent- and case-insensitively, every word. Names and boxes are cached per
dataset version (:class:`PlaceIndex`); access is checked on every search,
before the cache is used.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import shapely

from quartier import access
from quartier.access import Principal
from quartier.domain import Dataset, FieldType
from quartier.domain.filters import IsNull, Not
from quartier.services.features import visible_fields
from quartier.services.search import fold
from quartier.storage.base import SqlStore

NAME_FIELDS = ("nom", "name", "name_fr", "nom_fr", "libelle", "label", "toponyme")
MAX_SCAN = 200_000  # datasets larger than this are not searched by name


@dataclass(frozen=True)
class Place:
    label: str
    folded: str
    fid: int
    bbox: tuple[float, float, float, float]


class PlaceIndex:
    """Names and boxes of one dataset version's features, per name field."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._cache: OrderedDict[tuple[str, int, str], list[Place]] = OrderedDict()
        self._lock = threading.Lock()

    def places(self, store: SqlStore, ds: Dataset, field: str) -> list[Place]:
        key = (ds.slug, ds.current_version, field)
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
        found = _read_places(store, ds, field)
        with self._lock:
            self._cache[key] = found
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return found


def _read_places(store: SqlStore, ds: Dataset, field: str) -> list[Place]:
    found: list[Place] = []
    after: int | None = None
    while True:
        page_ = store.query_features(
            ds, where=Not(IsNull(field)), after=after, limit=10_000, columns=[field]
        )
        batch = page_.batch
        if batch.num_rows == 0:
            break
        boxes = shapely.bounds(
            shapely.from_wkb(batch.column("geometry").to_numpy(zero_copy_only=False))
        )
        names = batch.column(field).to_pylist()
        for fid, name, box in zip(
            batch.column("fid").to_pylist(), names, boxes, strict=True
        ):
            label = str(name).strip() if name is not None else ""
            if label and not any(v != v for v in box):  # NaN: empty geometry
                found.append(Place(label, fold(label), fid, tuple(box.tolist())))
        after = batch.column("fid")[-1].as_py()
        if not page_.more:
            break
    return found


def name_field(store: SqlStore, who: Principal, ds: Dataset) -> str | None:
    """The dataset's name-like text field, if the caller may see it."""
    fields = {
        f.name.casefold(): f.name
        for f in visible_fields(store, who, ds)
        if f.type == FieldType.TEXT
    }
    return next((fields[n] for n in NAME_FIELDS if n in fields), None)


def searchable(
    store: SqlStore, who: Principal, admin: str | None = None
) -> list[tuple[Dataset, str]]:
    """The caller's point and polygon datasets with a visible name field."""
    found = []
    for ds in access.readable(who, store.list_datasets()):
        if not _has_areas_or_points(ds) or ds.feature_count > MAX_SCAN:
            continue
        field = name_field(store, who, ds)
        if field and ds.current_version:
            found.append((ds, field))
    found.sort(key=lambda item: (item[0].slug != admin, item[0].slug))
    return found


def search(
    store: SqlStore,
    who: Principal,
    q: str,
    *,
    index: PlaceIndex,
    admin: str | None = None,
    audit: Callable[[Dataset], object] | None = None,
) -> list[tuple[Dataset, Place]]:
    """Places whose name has every word of ``q``: exact names first, then
    names starting with it, admin units (``admin``) before other datasets.
    ``audit`` is called for each dataset a match was found in."""
    words = fold(q).split()
    if not words:
        return []
    wanted = " ".join(words)
    hits: list[tuple[tuple[int, int, int, str], Dataset, Place]] = []
    for order, (ds, field) in enumerate(searchable(store, who, admin)):
        matched = [
            p
            for p in index.places(store, ds, field)
            if all(w in p.folded for w in words)
        ]
        if matched and audit is not None:
            audit(ds)
        for p in matched:
            rank = 0 if p.folded == wanted else 1 if p.folded.startswith(wanted) else 2
            hits.append(((rank, order, len(p.label), p.folded), ds, p))
    hits.sort(key=lambda hit: hit[0])
    return [(ds, p) for _, ds, p in hits]


def _has_areas_or_points(ds: Dataset) -> bool:
    """Point, polygon or mixed geometry (lines have no place to zoom to)."""
    g = ds.geometry_type.upper()
    return ds.kind == "features" and ("LINE" not in g or "GEOMETRY" in g)

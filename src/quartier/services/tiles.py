"""Vector tiles of every collection: who may see them, the cache, TileJSON.

Every tile passes :mod:`quartier.access`: a dataset the caller may not read
is unknown (404), sensitive fields they may not see are not in the tile, and
reads of protected datasets are audited (throttled, see
:mod:`quartier.services.audit`).

Tiles are cached in memory, gzip-compressed, in an LRU bounded by bytes
(``tile_cache_mb``). The key holds the dataset's current version and the
caller's visible columns: a new version invalidates by itself, and callers
who see different fields never share a tile. Dataset metadata is re-read
only when its stamp (version, last change) moves, one cheap query a request.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from quartier import __version__, access
from quartier.access import Principal
from quartier.domain import AccessLevel, Dataset, Field, FieldType
from quartier.errors import NotFound
from quartier.io import mvt
from quartier.services.audit import ReadAudit
from quartier.storage.base import SqlStore
from quartier.storage.tiles import MAX_FEATURES, MAX_ZOOM

TMS = "WebMercatorQuad"
MINZOOM = 0
#: public tiles may be reused this long by browsers and proxies, then revalidated
PUBLIC_MAX_AGE = 60
GZIP_LEVEL = 5
_TYPES = {
    FieldType.INTEGER: "Number",
    FieldType.REAL: "Number",
    FieldType.BOOLEAN: "Boolean",
}

Key = tuple[str, int, int, int, int, tuple[str, ...]]
_SLUG = re.compile(r"[a-z][a-z0-9_]{0,47}")


@dataclass(frozen=True)
class Tile:
    """A tile ready to send: ``gzipped`` is empty when the tile has no feature."""

    gzipped: bytes
    etag: str
    cache_control: str
    aggregated: bool = False


@dataclass(frozen=True)
class TileRequest:
    """What a tile request resolved to before any rendering."""

    key: Key
    etag: str
    cache_control: str
    #: a read of a protected dataset, to be written to the audit log
    audit: Dataset | None = None


class TileCache:
    """An LRU of gzipped tiles bounded by the bytes it holds."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.hits = self.misses = 0
        self._items: OrderedDict[Key, tuple[bytes, bool]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _cost(key: Key, value: tuple[bytes, bool]) -> int:
        return len(value[0]) + 200  # the key, the tuple, the dict slot

    def get(self, key: Key) -> tuple[bytes, bool] | None:
        with self._lock:
            value = self._items.get(key)
            if value is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: Key, value: tuple[bytes, bool]) -> None:
        cost = self._cost(key, value)
        if cost > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.size -= self._cost(key, old)
            self._items[key] = value
            self.size += cost
            while self.size > self.max_bytes:
                k, v = self._items.popitem(last=False)
                self.size -= self._cost(k, v)

    def drop_dataset(self, slug: str, *, keep_version: int) -> None:
        """Forget the tiles of older versions of ``slug`` (a new one arrived)."""
        with self._lock:
            stale = [k for k in self._items if k[0] == slug and k[1] != keep_version]
            for k in stale:
                self.size -= self._cost(k, self._items.pop(k))


class TileService:
    """Tiles and TileJSON of one store, for any caller."""

    def __init__(
        self,
        store: SqlStore,
        audit: ReadAudit,
        *,
        cache_bytes: int,
        max_features: int = MAX_FEATURES,
    ) -> None:
        self.store = store
        self.audit = audit
        #: more features than this touching a tile: the tile is aggregated
        self.max_features = max_features
        self.cache = TileCache(cache_bytes)
        self._meta: dict[str, tuple[tuple[int, str], Dataset, tuple[Field, ...]]] = {}

    # ------------------------------------------------------------- access
    def dataset(self, p: Principal, slug: str) -> tuple[Dataset, list[Field]]:
        """The dataset if ``p`` may read it and it has geometry; fields ``p`` sees."""
        if not _SLUG.fullmatch(slug):
            raise NotFound(f"no dataset {slug!r}")
        stamp = self.store.dataset_stamp(slug)
        meta = self._meta.get(slug)
        if meta is None or meta[0] != stamp:
            ds = self.store.get_dataset(slug)
            fields: tuple[Field, ...] = ()
            if ds.current_version:
                fields = self.store.get_version(slug, ds.current_version).fields
            if meta is not None and meta[1].current_version != ds.current_version:
                self.cache.drop_dataset(slug, keep_version=ds.current_version)
            meta = self._meta[slug] = (stamp, ds, fields)
        _, ds, fields = meta
        access.require_read(p, ds)
        if ds.kind != "features":
            raise NotFound(f"dataset {slug!r} has no geometry, hence no tiles")
        usable = [f.name for f in fields if f.type is not FieldType.BLOB]
        visible = set(access.visible_columns(p, ds, usable))
        return ds, [f for f in fields if f.name in visible]

    # -------------------------------------------------------------- tiles
    def resolve(self, p: Principal, slug: str, z: int, x: int, y: int) -> TileRequest:
        """Check access and the tile address; the cache key and headers.

        Reads only: the audit of a protected read is left to :meth:`audited`
        (a write, which the web layer runs off the event loop).
        """
        if not 0 <= z <= MAX_ZOOM or not (0 <= x < 2**z and 0 <= y < 2**z):
            raise NotFound(
                f"tile {z}/{x}/{y} is outside {TMS}: zoom 0–{MAX_ZOOM}, "
                "x and y from 0 to 2^zoom − 1"
            )
        ds, fields = self.dataset(p, slug)
        key: Key = (slug, ds.current_version, z, x, y, tuple(f.name for f in fields))
        # the encoder and the feature limit shape the bytes too (across restarts)
        tag = repr((key, self.max_features, __version__)).encode()
        digest = hashlib.blake2b(tag, digest_size=12).hexdigest()
        public = AccessLevel(ds.access) is AccessLevel.PUBLIC
        cache_control = (
            f"public, max-age={PUBLIC_MAX_AGE}" if public else "private, no-cache"
        )
        audit = ds if access.must_audit_read(ds) else None
        return TileRequest(key, f'W/"{digest}"', cache_control, audit)

    def audited(self, p: Principal, req: TileRequest) -> None:
        """Record the read of a protected dataset (throttled by ReadAudit)."""
        if req.audit is not None:
            self.audit.record(p, req.audit, "tiles")

    def cached(self, req: TileRequest) -> Tile | None:
        hit = self.cache.get(req.key)
        if hit is None:
            return None
        return Tile(hit[0], req.etag, req.cache_control, hit[1])

    def render(self, req: TileRequest) -> Tile:
        """Build the tile (a cache miss) and keep it."""
        slug, _, z, x, y, columns = req.key
        raw = self.store.tile(
            slug, z, x, y, columns=list(columns), max_features=self.max_features
        )
        gz = gzip.compress(raw.data, GZIP_LEVEL, mtime=0) if raw.data else b""
        self.cache.put(req.key, (gz, raw.aggregated))
        return Tile(gz, req.etag, req.cache_control, raw.aggregated)

    def tile(self, p: Principal, slug: str, z: int, x: int, y: int) -> Tile:
        req = self.resolve(p, slug, z, x, y)
        self.audited(p, req)
        return self.cached(req) or self.render(req)

    # ----------------------------------------------------------- TileJSON
    def tilejson(self, p: Principal, slug: str, base: str) -> dict[str, Any]:
        """TileJSON 3.0.0 of a collection; ``base`` is the server's public root."""
        ds, fields = self.dataset(p, slug)
        url = f"{base}/ogc/collections/{slug}/tiles/{TMS}"
        bounds = _bounds(ds.bbox)
        layer_fields = {f.name: _TYPES.get(f.type, "String") for f in fields}
        layer_fields.setdefault(mvt.COUNT_PROPERTY, _COUNT_NOTE)
        return {
            "tilejson": "3.0.0",
            "name": ds.title,
            "description": ds.description,
            "version": f"{ds.current_version}.0.0",
            "attribution": ds.attribution,
            "scheme": "xyz",
            "tiles": [url + "/{z}/{x}/{y}"],
            "minzoom": MINZOOM,
            "maxzoom": mvt.MAXZOOM,
            "bounds": bounds,
            "center": _center(bounds),
            "vector_layers": [
                {
                    "id": slug,
                    "description": ds.title,
                    "minzoom": MINZOOM,
                    "maxzoom": mvt.MAXZOOM,
                    "fields": layer_fields,
                }
            ],
            "quartier:aggregation": {
                "max_features": self.max_features,
                "cells": mvt.CELLS,
                "count_property": mvt.COUNT_PROPERTY,
                "header": "Quartier-Aggregated",
                "description": _aggregation_note(self.max_features),
            },
        }

    def tilesets(self, p: Principal, slug: str, base: str) -> dict[str, Any]:
        """The OGC API – Tiles style list of a collection's tilesets (one)."""
        ds, _ = self.dataset(p, slug)
        url = f"{base}/ogc/collections/{slug}/tiles"
        return {
            "links": [
                {"rel": "self", "href": url, "type": "application/json"},
                {"rel": "collection", "href": f"{base}/ogc/collections/{slug}"},
            ],
            "tilesets": [
                {
                    "title": ds.title,
                    "dataType": "vector",
                    "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
                    "tileMatrixSetURI": (
                        "http://www.opengis.net/def/tilematrixset/OGC/1.0/" + TMS
                    ),
                    "links": [
                        {
                            "rel": "self",
                            "href": f"{url}/{TMS}",
                            "type": "application/json",
                            "title": "TileJSON",
                        },
                        {
                            "rel": "item",
                            "href": f"{url}/{TMS}/{{z}}/{{x}}/{{y}}",
                            "templated": True,
                            "type": "application/vnd.mapbox-vector-tile",
                        },
                    ],
                }
            ],
        }


_COUNT_NOTE = (
    "Number: features in an aggregated cell (only in tiles over the feature limit)"
)


def _aggregation_note(limit: int) -> str:
    return (
        f"Une tuile touchée par plus de {limit} objets n'est pas tronquée : "
        f"elle agrège les objets en une grille de {mvt.CELLS}×{mvt.CELLS} "
        f"cellules (propriété {mvt.COUNT_PROPERTY}). / A tile met by more than "
        f"{limit} features is not truncated: it holds one feature per occupied "
        f"grid cell with the count in {mvt.COUNT_PROPERTY}."
    )


def _bounds(bbox: tuple[float, float, float, float] | None) -> list[float]:
    if bbox is None:
        return [-180.0, -mvt.MAX_LAT, 180.0, mvt.MAX_LAT]
    w, s, e, n = bbox
    lat = lambda v: max(-mvt.MAX_LAT, min(mvt.MAX_LAT, v))  # noqa: E731
    return [max(-180.0, w), lat(s), min(180.0, e), lat(n)]


def _center(bounds: list[float]) -> list[float]:
    """Middle of the bounds, at the zoom where they fill about one 512 px tile."""
    w, s, e, n = bounds
    span = max(e - w, (n - s) * 2, 1e-9)
    zoom = max(MINZOOM, min(mvt.MAXZOOM, math.floor(math.log2(360 / span))))
    return [round((w + e) / 2, 7), round((s + n) / 2, 7), zoom]

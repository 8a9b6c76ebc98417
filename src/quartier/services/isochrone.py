"""Isochrones from one point, for ``GET /api/isochrone``: the areas reached
within a few minutes on foot or by car.

The roads are those the accessibility analysis would pick: the first line
dataset of a *mobilité* (transport, voirie) theme among those the caller
may read — through :mod:`quartier.access`, like every output. The road
graph built from its current version is kept in the process, per (dataset,
version, profile, working CRS), in a small :class:`NetworkCache`: a warm
request reads no feature; it checks the dataset (access, current version),
snaps the point to the nearest node (KD-tree) and runs one Dijkstra bounded
by the longest time (:func:`~quartier.analysis.accessibility.point_isochrones`).
A new version of the roads is a new key: the next request builds again.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import shapely
from pyproj import Transformer

from quartier import access
from quartier.access import Principal
from quartier.analysis.accessibility import RoadGraph, point_isochrones, road_graph
from quartier.domain import Dataset
from quartier.errors import InvalidInput, NotFound
from quartier.services import analyses as an
from quartier.services.analysis_inputs import ROAD_THEMES
from quartier.services.audit import ReadAudit
from quartier.storage.base import SqlStore

PROFILES = ("walk", "drive")
MAX_MINUTES = 120.0
MAX_VALUES = 5
#: a point farther than this from every road is refused
MAX_WALK_M = 1000.0
#: decimals of the coordinates returned (1e-6° ≈ 0.1 m)
DECIMALS = 6


@dataclass(frozen=True)
class Network:
    """A road graph ready for requests, with the transforms to and from it."""

    slug: str
    version: int
    profile: str
    graph: RoadGraph
    to_metric: Transformer
    to_lonlat: Transformer


class NetworkCache:
    """The last few road graphs built in this process (least recently used
    dropped). Lookups never wait for a build; builds happen one at a time,
    so a burst of cold requests builds each graph once."""

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._items: OrderedDict[tuple[Any, ...], Network] = OrderedDict()
        self._lock = threading.Lock()
        self._building = threading.Lock()

    def get(self, key: tuple[Any, ...], build: Callable[[], Network]) -> Network:
        found = self._lookup(key)
        if found is not None:
            return found
        with self._building:
            found = self._lookup(key)  # built by the request we waited for
            if found is not None:
                return found
            network = build()
        with self._lock:
            self._items[key] = network
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return network

    def _lookup(self, key: tuple[Any, ...]) -> Network | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found


def isochrones(
    store: SqlStore,
    audit: ReadAudit | None,
    reader: Principal,
    cache: NetworkCache,
    *,
    lon: float,
    lat: float,
    minutes: str | Sequence[float],
    profile: str = "walk",
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection: one (multi)polygon per time, smallest
    first, each holding the point and the smaller ones (EPSG:4326).

    Geometries are GeoJSON text already (``orjson.Fragment``): the response
    embeds them as they are.
    """
    limits = parse_minutes(minutes)
    _check_point(lon, lat)
    if profile not in PROFILES:
        raise InvalidInput(f"profile: expected walk or drive, got {profile!r}")
    ds = roads_dataset(store, reader)
    if audit is not None:
        audit.record(reader, ds, "isochrone")
    crs = an.working_crs(store)
    key = (ds.slug, ds.current_version, profile, crs)
    network = cache.get(key, lambda: _build(store, ds, profile, crs))
    x, y = network.to_metric.transform(lon, lat)
    areas = an.checked(
        point_isochrones, network.graph, (x, y), limits, max_walk_m=MAX_WALK_M
    )
    features = [
        {
            "type": "Feature",
            "geometry": _geojson(geom, network.to_lonlat),
            "properties": {"minutes": int(m) if m.is_integer() else m},
        }
        for m, geom in zip(areas["minutes"].tolist(), areas.geometry, strict=True)
    ]
    return {
        "type": "FeatureCollection",
        "features": features,
        "origin": [lon, lat],
        "walk_m": float(areas["walk_m"].iloc[0]),
        "profile": profile,
        "roads": {"dataset": ds.slug, "version": ds.current_version},
    }


def parse_minutes(minutes: str | Sequence[float]) -> list[float]:
    """``"5,10,15"`` (or numbers) → sorted distinct minutes, each checked."""
    parts = minutes.split(",") if isinstance(minutes, str) else list(minutes)
    try:
        values = sorted({float(m) for m in parts})
    except (TypeError, ValueError):
        values = []
    if (
        not values
        or len(parts) > MAX_VALUES
        or not all(0 < v <= MAX_MINUTES for v in values)
    ):
        raise InvalidInput(
            f"minutes: expected 1 to {MAX_VALUES} comma-separated numbers, each "
            f"above 0 and at most {MAX_MINUTES:g}, got {str(minutes)[:60]!r}"
        )
    return values


def roads_dataset(store: SqlStore, reader: Principal) -> Dataset:
    """The roads dataset ``reader`` may read, as accessibility picks it."""
    found = an.find(store, themes=ROAD_THEMES, geometry="LINE", reader=reader)
    if not found:
        raise NotFound(
            "no roads dataset you may read: a line dataset of theme mobilité "
            "(transport, voirie) is needed"
        )
    return access.require_read(reader, found[0])


def _check_point(lon: float, lat: float) -> None:
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise InvalidInput("lon, lat: expected numbers")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInput(
            f"lon, lat: expected a longitude in [-180, 180] and a latitude in "
            f"[-90, 90] (EPSG:4326), got {lon:g}, {lat:g}"
        )


def _build(store: SqlStore, ds: Dataset, profile: str, crs: int) -> Network:
    roads = an.read_frame(store, ds, crs)
    graph = an.checked(road_graph, roads, profile=profile)
    return Network(
        ds.slug,
        ds.current_version,
        profile,
        graph,
        Transformer.from_crs(4326, crs, always_xy=True),
        Transformer.from_crs(crs, 4326, always_xy=True),
    )


def _geojson(geom: shapely.Geometry, to_lonlat: Transformer) -> orjson.Fragment:
    """The geometry in EPSG:4326 as GeoJSON text (rounded), ready to embed."""

    def lonlat(xy: np.ndarray) -> np.ndarray:
        lon, lat = to_lonlat.transform(xy[:, 0], xy[:, 1])
        return np.round(np.column_stack([lon, lat]), DECIMALS)

    return orjson.Fragment(shapely.to_geojson(shapely.transform(geom, lonlat)))

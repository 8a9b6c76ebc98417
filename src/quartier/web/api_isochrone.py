"""``GET /api/isochrone``: the areas reached from a point in a few minutes.

Read-only and open to anonymous callers when the roads dataset is public:
the roads are read through the one authorisation layer (see
:mod:`quartier.services.isochrone`), so a caller who may not read them gets
404, as for a dataset that does not exist.
"""

from __future__ import annotations

import threading
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from quartier.services import isochrone as service
from quartier.web.api_common import Caller, Ctx
from quartier.web.context import AppContext
from quartier.web.responses import GeoJSONResponse

router = APIRouter(prefix="/api", tags=["Analyses"])
_lock = threading.Lock()

Lon = Annotated[
    float, Query(ge=-180, le=180, description="Longitude (EPSG:4326)", examples=[15.3])
]
Lat = Annotated[
    float, Query(ge=-90, le=90, description="Latitude (EPSG:4326)", examples=[-4.41])
]
Minutes = Annotated[
    str,
    Query(
        max_length=60,
        description="Minutes, jusqu'à 5 valeurs séparées par des virgules, "
        "chacune ≤ 120 (minutes, up to 5 comma-separated values)",
        examples=["5,10,15"],
    ),
]


@router.get(
    "/isochrone",
    summary="Isochrones depuis un point (isochrones from a point)",
    response_class=GeoJSONResponse,
)
def isochrone(
    ctx: Ctx,
    who: Caller,
    lon: Lon,
    lat: Lat,
    minutes: Minutes = "5,10,15",
    profile: Literal["walk", "drive"] = "walk",
) -> GeoJSONResponse:
    """Areas reached from (``lon``, ``lat``) within each number of minutes, on
    foot or by car, on the workspace's roads: a GeoJSON FeatureCollection,
    one polygon per value, smallest first. 404 when no roads dataset is
    visible to the caller; 400 for a point more than 1 km from the roads."""
    doc = service.isochrones(
        ctx.store,
        ctx.audit,
        who,
        _networks(ctx),
        lon=lon,
        lat=lat,
        minutes=minutes,
        profile=profile,
    )
    return GeoJSONResponse(doc)


def _networks(ctx: AppContext) -> service.NetworkCache:
    """The process's road graphs, created on first use."""
    with _lock:
        cache = ctx.extras.get("isochrone_networks")
        if cache is None:
            cache = ctx.extras["isochrone_networks"] = service.NetworkCache()
        return cache  # type: ignore[no-any-return]

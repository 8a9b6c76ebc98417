"""Vector tiles (MVT) and TileJSON for every collection.

The cheap part of a tile request (who is asking, the dataset's stamp, the
cache) runs on the event loop; only a cache miss renders in the thread pool.
Empty tiles answer 204 No Content, as OGC API – Tiles allows and MapLibre
reads as an empty tile.
"""

from __future__ import annotations

import gzip
import threading
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from quartier.access import Principal
from quartier.errors import NotFound
from quartier.services.tiles import TMS, Tile, TileService
from quartier.web.context import AppContext
from quartier.web.deps import base_url, context, principal
from quartier.web.responses import JSONResponse

router = APIRouter(prefix="/ogc", tags=["Tuiles vectorielles"])

MVT = "application/vnd.mapbox-vector-tile"
_lock = threading.Lock()

Caller = Annotated[Principal, Depends(principal)]
CollectionId = Annotated[
    str,
    Path(
        description="Identifiant de la collection (collection identifier)",
        examples=["batiments"],
    ),
]
TileMatrixSet = Annotated[
    str, Path(description=f"Grille de tuiles : seule {TMS} est servie", examples=[TMS])
]
Coord = Annotated[int, Path(description="Niveau de zoom, colonne ou ligne")]


def tile_service(request: Request) -> TileService:
    """The process's tile service (and its cache), created on first use.

    A plain call, not a dependency: FastAPI runs synchronous dependencies in
    the thread pool, a hop that costs more than a cached tile.
    """
    ctx: AppContext = context(request)
    found = ctx.extras.get("tiles")
    if found is None:
        with _lock:
            found = ctx.extras.get("tiles")
            if found is None:
                found = ctx.extras["tiles"] = TileService(
                    ctx.store,
                    ctx.audit,
                    cache_bytes=ctx.settings.tile_cache_mb * 1024 * 1024,
                )
    return found  # type: ignore[no-any-return]


def _require_tms(tms: str) -> None:
    if tms != TMS:
        raise NotFound(f"unknown tile matrix set {tms!r}: only {TMS} is served")


@router.get("/collections/{collectionId}/tiles", summary="Jeux de tuiles")
async def tilesets(
    request: Request, collectionId: CollectionId, p: Caller
) -> JSONResponse:
    service = tile_service(request)
    return JSONResponse(service.tilesets(p, collectionId, base_url(request)))


@router.get(
    "/collections/{collectionId}/tiles/{tileMatrixSetId}",
    summary="TileJSON 3.0 de la collection",
)
async def tilejson(
    request: Request,
    collectionId: CollectionId,
    tileMatrixSetId: TileMatrixSet,
    p: Caller,
) -> JSONResponse:
    _require_tms(tileMatrixSetId)
    service = tile_service(request)
    return JSONResponse(service.tilejson(p, collectionId, base_url(request)))


@router.get(
    "/collections/{collectionId}/tiles/{tileMatrixSetId}/{z}/{x}/{y}",
    summary="Tuile vectorielle (MVT)",
    response_class=Response,
    responses={
        200: {"content": {MVT: {}}, "description": "La tuile"},
        204: {"description": "Tuile vide (aucun objet)"},
        304: {"description": "Inchangée depuis l'ETag donné"},
    },
)
async def tile(
    request: Request,
    collectionId: CollectionId,
    tileMatrixSetId: TileMatrixSet,
    z: Coord,
    x: Coord,
    y: Coord,
    p: Caller,
) -> Response:
    _require_tms(tileMatrixSetId)
    service = tile_service(request)
    req = service.resolve(p, collectionId, z, x, y)
    if req.audit is not None:  # a write: never on the event loop
        await run_in_threadpool(service.audited, p, req)
    headers = {
        "ETag": req.etag,
        "Cache-Control": req.cache_control,
        "Vary": "Accept-Encoding",
    }
    if _matches(request.headers.get("if-none-match"), req.etag):
        return Response(status_code=304, headers=headers)
    found = service.cached(req)
    if found is None:
        found = await run_in_threadpool(service.render, req)
    return _tile_response(found, headers, _accepts_gzip(request))


def _tile_response(found: Tile, headers: dict[str, str], gzip_ok: bool) -> Response:
    if found.aggregated:
        headers["Quartier-Aggregated"] = "true"
    if not found.gzipped:
        return Response(status_code=204, headers=headers)
    if gzip_ok:
        headers["Content-Encoding"] = "gzip"
        return Response(found.gzipped, media_type=MVT, headers=headers)
    return Response(gzip.decompress(found.gzipped), media_type=MVT, headers=headers)


def _accepts_gzip(request: Request) -> bool:
    for part in request.headers.get("accept-encoding", "").split(","):
        token, _, params = part.partition(";")
        if token.strip().lower() in ("gzip", "*"):
            q = params.strip().lower()
            return not (q.startswith("q=") and _qvalue(q[2:]) == 0)
    return False


def _qvalue(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 1.0


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    opaque = etag.removeprefix("W/")
    return any(
        t.strip() == "*" or t.strip().removeprefix("W/") == opaque
        for t in header.split(",")
    )

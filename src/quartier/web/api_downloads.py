"""Downloads of any version of a dataset, in every export format, streamed."""

from __future__ import annotations

import shutil
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import FileResponse, StreamingResponse
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from quartier import access
from quartier.access import Principal
from quartier.domain import Dataset
from quartier.services import downloads
from quartier.services.downloads import Format
from quartier.web.api_common import MAX_INT, Caller, Ctx, Slug, VersionNumber
from quartier.web.context import AppContext

router = APIRouter(prefix="/api", tags=["Téléchargements"])
FormatKey = Literal["geojson", "csv", "gpkg", "shp", "parquet", "kml"]
Extension = Literal["geojson", "csv", "gpkg", "zip", "parquet", "kml"]
_BY_EXTENSION = {f.extension: f for f in downloads.FORMATS.values()}
_FILE = {"description": "Le fichier (the file)", "content": {"*/*": {}}}


@router.get(
    "/datasets/{slug}/download", response_class=Response, responses={200: _FILE}
)
def download(
    slug: Slug,
    ctx: Ctx,
    who: Caller,
    format: Annotated[FormatKey, Query(description="Format du fichier")] = "geojson",
    version: Annotated[
        int | None, Query(ge=1, le=MAX_INT, description="Version (défaut : actuelle)")
    ] = None,
) -> Response:
    """A version (default: the current one) in one export format."""
    ds = access.require_read(who, ctx.store.get_dataset(slug))
    return _send(ctx, who, ds, version or ds.current_version, downloads.FORMATS[format])


@router.get(
    "/datasets/{slug}/versions/{n}/download.{ext}",
    response_class=Response,
    responses={200: _FILE},
)
def download_version(
    slug: Slug,
    n: VersionNumber,
    ext: Annotated[Extension, Path(description="Extension du fichier")],
    ctx: Ctx,
    who: Caller,
) -> Response:
    """Version ``n`` as a file: ``.geojson``, ``.csv``, ``.gpkg``, ``.zip``
    (Shapefile), ``.parquet`` or ``.kml``."""
    ds = access.require_read(who, ctx.store.get_dataset(slug))
    return _send(ctx, who, ds, n, _BY_EXTENSION[ext])


def _send(
    ctx: AppContext, who: Principal, ds: Dataset, n: int, fmt: Format
) -> Response:
    # a dataset registered without any version yet has nothing to download:
    # get_version says so (404) before anything is written
    v = ctx.store.get_version(ds.slug, n)
    hidden = access.hidden_fields(who, ds)
    ctx.audit.record(who, ds, "download", {"format": fmt.key, "version": v.version})
    name = downloads.filename(ds, v, fmt)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt.key == "geojson":
        body = downloads.geojson(ctx.store, ds, v, hidden)
        return StreamingResponse(body, media_type=fmt.media_type, headers=headers)
    if fmt.key == "csv":
        body = downloads.csv_rows(ctx.store, ds, v, hidden)
        return StreamingResponse(
            body, media_type="text/csv; charset=utf-8", headers=headers
        )
    path, folder = downloads.write_file(ctx.store, ds, v, fmt, hidden)
    return _TemporaryFile(path, folder, media_type=fmt.media_type, filename=name)


class _TemporaryFile(FileResponse):
    """A file streamed from a temporary folder, removed however the send ends
    (a client that hangs up included)."""

    def __init__(self, path: FilePath, folder: FilePath, **kwargs: Any) -> None:
        super().__init__(path, **kwargs)
        self.folder = folder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

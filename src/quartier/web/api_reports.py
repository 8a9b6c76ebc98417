"""``/api/reports``: residents' reports, and contests of dataset features.

Filing is open to everyone (rate-limited per client address); the client
sends its own UUID as ``id`` so a retry never files twice. Lists, pages,
GeoJSON and photos show what :mod:`quartier.services.reports` calls the
public view: never a name, a contact or an account, unless ``access`` says
the caller handles the report (or sent it).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Path, Query, UploadFile
from fastapi import Form as FormField
from fastapi.responses import Response
from pydantic import Field

from quartier import access
from quartier.domain.reports import Report, ReportKind, ReportStatus
from quartier.errors import InvalidInput, NotFound
from quartier.services import reports as service
from quartier.web.api_common import MAX_INT, Body, Caller, Ctx, Slug
from quartier.web.ratelimit import guarded_route
from quartier.web.responses import GeoJSONResponse, JSONResponse

router = APIRouter(prefix="/api", tags=["Reports"], default_response_class=JSONResponse)
#: anyone's uploads: rate limit and size cap checked before the body is read
#: (the photos, plus room for the text fields and the multipart framing)
MAX_BODY = service.MAX_PHOTOS * service.MAX_PHOTO_BYTES + 2**20
uploads = APIRouter(
    tags=["Reports"],
    default_response_class=JSONResponse,
    route_class=guarded_route("reports", MAX_BODY),
)

Uuid = Annotated[str, FormField(min_length=32, max_length=40, description="UUID")]
Text = Annotated[str, FormField(max_length=service.MAX_TEXT)]
Photos = Annotated[list[UploadFile], File(description="JPEG, PNG ou WebP")]


class StatusIn(Body):
    status: Literal["received", "in_progress", "resolved", "rejected"]
    note: Annotated[str, Field(max_length=service.MAX_TEXT)] = ""


class HideIn(Body):
    hidden: bool = True
    note: Annotated[str, Field(max_length=service.MAX_TEXT)] = ""


def _categories(ctx: Any) -> Any:
    return service.categories(ctx.settings.report_categories)


@router.get("/reports")
def list_reports(
    ctx: Ctx,
    who: Caller,
    status: Annotated[ReportStatus | None, Query()] = None,
    category: Annotated[str | None, Query(max_length=48)] = None,
    bbox: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
    format: Annotated[Literal["json", "geojson"], Query()] = "json",
) -> Response:
    """Visible reports, newest first (paged; GeoJSON with ``format=geojson``)."""
    found = ctx.store.list_reports(
        kind=ReportKind.REPORT,
        status=status,
        category=category,
        bbox=_bbox(bbox),
        limit=limit + 1,
        offset=offset,
    )
    more, found = len(found) > limit, found[:limit]
    views = [service.report_view(who, r) for r in found]
    if format == "geojson":
        return GeoJSONResponse(
            {
                "type": "FeatureCollection",
                "features": [_feature(v) for v in views],
                "more": more,
            }
        )
    return JSONResponse(
        {"reports": views, "more": more, "categories": _category_json(ctx)}
    )


@uploads.post("/reports", status_code=201)
async def file_report(
    ctx: Ctx,
    who: Caller,
    id: Uuid,
    lon: Annotated[float, FormField(ge=-180, le=180)],
    lat: Annotated[float, FormField(ge=-90, le=90)],
    category: Annotated[str, FormField(max_length=48)],
    description: Text = "",
    name: Annotated[str, FormField(max_length=100)] = "",
    contact: Annotated[str, FormField(max_length=200)] = "",
    photos: Photos = [],  # noqa: B006 (FastAPI reads it, never mutates it)
) -> JSONResponse:
    """File a report, signed in or not; the same ``id`` again is no change
    (200 with the stored report)."""
    new = service.NewReport(
        id=id,
        lon=lon,
        lat=lat,
        category=category,
        description=description,
        name=name,
        contact=contact,
    )
    files = await _read_photos(photos)
    report, created = service.file_report(
        ctx.store, who, new, files, cats=_categories(ctx)
    )
    body = service.report_view(who, report) | {"new": created}
    return JSONResponse(body, status_code=201 if created else 200)


@router.get("/reports/{report_id}")
def one_report(ctx: Ctx, who: Caller, report_id: str) -> dict[str, Any]:
    """A report and its history (who acted: the organisation, publicly)."""
    report = service.readable(ctx.store, who, report_id)
    return service.report_view(who, report) | {
        "history": service.history(ctx.store, who, report)
    }


@router.get("/reports/{report_id}/photos/{n}")
def report_photo(
    ctx: Ctx, who: Caller, report_id: str, n: Annotated[int, Path(ge=1, le=99)]
) -> Response:
    report = service.readable(ctx.store, who, report_id)
    content_type, data = ctx.store.get_report_photo(report.id, n)
    extension = content_type.split("/")[-1]
    return Response(
        data,
        media_type=content_type,
        headers={
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-cache",
            "Content-Disposition": (
                f'attachment; filename="signalement-{n}.{extension}"'
            ),
            "Content-Security-Policy": "sandbox; default-src 'none'",
        },
    )


@router.post("/reports/{report_id}/status")
def report_status(
    body: StatusIn, ctx: Ctx, who: Caller, report_id: str
) -> dict[str, Any]:
    """Moderators of the responsible organisation: move it on, with a note
    (a rejection needs one)."""
    access.require_signed_in(who)
    report = service.change_status(
        ctx.store, who, report_id, ReportStatus(body.status), body.note
    )
    return _full(ctx, who, report)


@router.post("/reports/{report_id}/hide")
def hide_report(body: HideIn, ctx: Ctx, who: Caller, report_id: str) -> dict[str, Any]:
    """Hide a report from every public output (its history is kept), or
    show it again with ``hidden: false``."""
    access.require_signed_in(who)
    report = service.set_hidden(ctx.store, who, report_id, body.hidden, body.note)
    return _full(ctx, who, report)


@router.get("/datasets/{slug}/contests")
def dataset_contests(
    ctx: Ctx,
    who: Caller,
    slug: Slug,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
) -> dict[str, Any]:
    """Staff of the dataset's steward (else producer): what residents said
    of its features, with the version they saw, and counts by verdict."""
    access.require_signed_in(who)
    ds = access.require_read(who, ctx.store.get_dataset(slug))
    if not access.can_handle_contests(who, ds):
        raise NotFound(f"no contests for dataset {slug!r}")
    found = ctx.store.list_reports(
        kind=ReportKind.CONTEST, dataset=slug, hidden=None, limit=limit, offset=offset
    )
    return {
        "dataset": slug,
        # hidden contests too, like the list
        "counts": ctx.store.count_reports(
            kind=ReportKind.CONTEST, dataset=slug, hidden=None
        ),
        "contests": [service.report_view(who, r) for r in found],
    }


@uploads.post("/datasets/{slug}/features/{feature_id}/contest", status_code=201)
async def contest_feature(
    ctx: Ctx,
    who: Caller,
    slug: Slug,
    feature_id: Annotated[str, Path(max_length=20, pattern=r"^-?[0-9]+$")],
    id: Uuid,
    verdict: Annotated[Literal["correct", "wrong"], FormField()],
    dataset_version: Annotated[int, FormField(ge=1, le=MAX_INT)],
    description: Text = "",
    lon: Annotated[float | None, FormField(ge=-180, le=180)] = None,
    lat: Annotated[float | None, FormField(ge=-90, le=90)] = None,
    name: Annotated[str, FormField(max_length=100)] = "",
    contact: Annotated[str, FormField(max_length=200)] = "",
    photos: Photos = [],  # noqa: B006
) -> JSONResponse:
    """Say a feature is right ("correct") or wrong here ("wrong"), for the
    version seen on the map; only for datasets the caller may read."""
    new = service.NewReport(
        id=id,
        lon=lon,
        lat=lat,
        description=description,
        name=name,
        contact=contact,
        dataset=slug,
        feature_id=feature_id,
        dataset_version=dataset_version,
        verdict=verdict,
    )
    files = await _read_photos(photos)
    report, created = service.file_report(ctx.store, who, new, files)
    body = service.report_view(who, report) | {"new": created}
    return JSONResponse(body, status_code=201 if created else 200)


router.include_router(uploads)


# ------------------------------------------------------------------ helpers
async def _read_photos(photos: list[UploadFile]) -> list[tuple[str, bytes]]:
    """The photos' bytes, once their number and sizes are known to be fine
    (the parser has spooled them; nothing is read into memory before)."""
    service.check_photo_sizes([(p.filename or "photo", p.size) for p in photos])
    return [(p.filename or "photo", await p.read()) for p in photos]


def _full(ctx: Any, who: Any, report: Report) -> dict[str, Any]:
    return service.report_view(who, report) | {
        "history": service.history(ctx.store, who, report)
    }


def _category_json(ctx: Any) -> list[dict[str, Any]]:
    return [
        {"code": c.code, "label": c.label, "label_en": c.label_en}
        for c in _categories(ctx)
    ]


def _feature(view: dict[str, Any]) -> dict[str, Any]:
    props = {k: v for k, v in view.items() if k not in ("lon", "lat")}
    geometry = (
        {"type": "Point", "coordinates": [view["lon"], view["lat"]]}
        if view["lon"] is not None
        else None
    )
    return {
        "type": "Feature",
        "id": view["id"],
        "geometry": geometry,
        "properties": props,
    }


def _bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if not text:
        return None
    try:
        x0, y0, x1, y1 = (float(v) for v in text.split(","))
    except ValueError:
        raise InvalidInput("bbox: four numbers, minlon,minlat,maxlon,maxlat") from None
    return x0, y0, x1, y1

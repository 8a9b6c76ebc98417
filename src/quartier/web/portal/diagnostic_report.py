"""``/diagnostic/rapport``: the diagnostic as one printable page (and, with
``?format=pdf``, as a PDF when the server has Chromium) — built from what
the visitor may read, like ``/diagnostic``."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from quartier.access import Principal
from quartier.errors import TooManyAttempts
from quartier.reports import diagnostic_report
from quartier.reports.pdf import html_to_pdf
from quartier.services import diagnostic as service
from quartier.web.deps import context, principal
from quartier.web.portal.render import page
from quartier.web.portal.routing import PortalRoute

router = APIRouter(
    include_in_schema=False,
    default_response_class=HTMLResponse,
    route_class=PortalRoute,
)
Caller = Annotated[Principal, Depends(principal)]
#: Chromium runs at most twice at once: a visitor cannot fill the server
_PRINTERS = threading.BoundedSemaphore(2)


@router.get("/diagnostic/rapport")
async def diagnostic_report_page(
    request: Request,
    who: Caller,
    format: Annotated[Literal["html", "pdf"], Query()] = "html",
) -> Response:
    pg = page(request, who)
    store = context(request).store

    def build() -> str:
        found = service.cached_diagnostic(store, who)
        return diagnostic_report.standalone(
            found,
            pg.t,
            city=store.get_workspace().name,
            organisations={o.slug: o.name for o in store.list_organisations()},
        )

    html = await run_in_threadpool(build)
    if format == "html":
        return HTMLResponse(
            html, headers={"Cache-Control": "no-cache", "Vary": "Cookie"}
        )
    data = await run_in_threadpool(_pdf, html)
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": 'attachment; filename="rapport_diagnostic.pdf"',
            "Cache-Control": "no-cache",
            "Vary": "Cookie",
        },
    )


def _pdf(html: str) -> bytes:
    if not _PRINTERS.acquire(timeout=60):
        raise TooManyAttempts("PDF printing is busy: try again in a minute")
    try:
        with tempfile.TemporaryDirectory(prefix="quartier-rapport-") as tmp:
            target = Path(tmp) / "rapport.pdf"
            html_to_pdf(html, target)
            return target.read_bytes()
    finally:
        _PRINTERS.release()

"""``/diagnostic/rapport``: the diagnostic as one printable page (and, with
``?format=pdf``, as a PDF when the server has Chromium) — built from what
the visitor may read, like ``/diagnostic``."""

from __future__ import annotations

import hashlib
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from quartier.access import Principal
from quartier.errors import InvalidInput, RateLimited
from quartier.reports import diagnostic_report
from quartier.reports.pdf import chromium, html_to_pdf
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
#: the last PDFs printed, by the page they print (a few hundred KB each)
_PRINTED: OrderedDict[str, bytes] = OrderedDict()
_PRINTED_LOCK = threading.Lock()


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
    if chromium() is None:
        raise InvalidInput(
            "pas de PDF sur ce serveur (Chromium absent) : ouvrez le rapport HTML et "
            "imprimez-le depuis le navigateur (no PDF on this server: print the "
            "HTML report from your browser)"
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
    """The page printed (the same page again: the same PDF, not printed
    twice); busy printers answer 429 at once rather than hold a worker."""
    key = hashlib.sha256(html.encode()).hexdigest()
    with _PRINTED_LOCK:
        if key in _PRINTED:
            _PRINTED.move_to_end(key)
            return _PRINTED[key]
    if not _PRINTERS.acquire(blocking=False):
        raise RateLimited(
            "l'impression PDF est occupée : réessayez dans 30 s "
            "(PDF printing is busy: retry in 30 s)",
            retry_after=30,
        )
    try:
        with tempfile.TemporaryDirectory(prefix="quartier-rapport-") as tmp:
            target = Path(tmp) / "rapport.pdf"
            html_to_pdf(html, target)
            data = target.read_bytes()
    finally:
        _PRINTERS.release()
    with _PRINTED_LOCK:
        _PRINTED[key] = data
        while len(_PRINTED) > 4:
            _PRINTED.popitem(last=False)
    return data

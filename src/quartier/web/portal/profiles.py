"""Neighbourhood profiles in the portal: ``/quartiers`` and one page per unit.

Built only from what the visitor may read (``access``), so a visitor's
profile uses public data and a partner's may use more. The page offers the
same profile as a standalone HTML file and as a PDF (when the server has
Chromium).
"""

from __future__ import annotations

import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from quartier.access import Principal
from quartier.domain.catalogue import make_slug
from quartier.errors import InvalidInput, NotFound, TooManyAttempts
from quartier.reports import fiche
from quartier.reports.pdf import chromium, html_to_pdf
from quartier.services.profile import Profiles, cached_profiles
from quartier.web.deps import context, principal
from quartier.web.portal.render import page, render
from quartier.web.portal.routing import PortalRoute

router = APIRouter(
    include_in_schema=False,
    default_response_class=HTMLResponse,
    route_class=PortalRoute,
)
Caller = Annotated[Principal, Depends(principal)]
SUMMARY = ("population", "density", "buildings", "vulnerability")


def _profiles(request: Request, who: Principal) -> Profiles:
    return cached_profiles(context(request).store, who)


@router.get("/quartiers")
def units(request: Request, who: Caller) -> HTMLResponse:
    pg = page(request, who)
    try:
        profiles = _profiles(request, who)
    except InvalidInput:  # no admin units in this workspace
        return render(pg, "units.html", active="units", columns=[], rows=[])
    columns = [i for i in profiles.indicators if i.key in SUMMARY]
    rows = [
        (
            str(name),
            make_slug(str(name)),
            [fiche.shown(profiles.table.loc[name, i.key], i, pg.t) for i in columns],
        )
        for name in sorted(profiles.table.index, key=lambda n: str(n).casefold())
    ]
    return render(
        pg,
        "units.html",
        active="units",
        columns=[fiche.label(i, pg.t) for i in columns],
        rows=rows,
    )


def _unit(profiles: Profiles, slug: str) -> str:
    for name in profiles.table.index:
        if make_slug(str(name)) == slug:
            return str(name)
    raise NotFound(f"no admin unit {slug!r}")


@router.get("/quartiers/{slug}")
def unit_page(request: Request, who: Caller, slug: str) -> Response:
    pg = page(request, who)
    profiles = _profiles(request, who)
    name = _unit(profiles, slug.removesuffix(".html").removesuffix(".pdf"))
    city = context(request).store.get_workspace().name
    if slug.endswith((".html", ".pdf")):
        html = fiche.standalone(profiles, name, pg.t, city=city)
        if slug.endswith(".html"):
            return HTMLResponse(
                html, headers={"Content-Disposition": _attachment(slug)}
            )
        return Response(
            _cached_pdf(profiles, name, pg.t.lang, html),
            media_type="application/pdf",
            headers={"Content-Disposition": _attachment(slug)},
        )
    return render(
        pg,
        "unit.html",
        active="units",
        unit=name,
        slug=make_slug(name),
        body=fiche.body(profiles, name, pg.t, city=city),
        pdf=chromium() is not None,
    )


def _attachment(name: str) -> str:
    return f'attachment; filename="fiche_{name}"'


#: (id of the profiles, unit, language) → (those profiles, PDF); the entry
#: keeps its profiles alive and is used only for that very object, so an id
#: reused by other profiles (another reader's) never matches
_PDF_CACHE: OrderedDict[tuple[object, ...], tuple[Profiles, bytes]] = OrderedDict()
_PDF_LOCK = threading.Lock()
#: Chromium runs at most twice at once: a visitor cannot fill the server
_PRINTERS = threading.BoundedSemaphore(2)


def _cached_pdf(profiles: Profiles, name: str, lang: str, html: str) -> bytes:
    key = (id(profiles), name, lang)
    with _PDF_LOCK:
        found = _PDF_CACHE.get(key)
        if found is not None and found[0] is profiles:
            _PDF_CACHE.move_to_end(key)
            return found[1]
    if not _PRINTERS.acquire(timeout=60):
        raise TooManyAttempts("PDF printing is busy: try again in a minute")
    try:
        data = _pdf(html)
    finally:
        _PRINTERS.release()
    with _PDF_LOCK:
        _PDF_CACHE[key] = (profiles, data)
        while len(_PDF_CACHE) > 32:
            _PDF_CACHE.popitem(last=False)
    return data


def _pdf(html: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="quartier-fiche-") as tmp:
        target = Path(tmp) / "fiche.pdf"
        html_to_pdf(html, target)
        return target.read_bytes()

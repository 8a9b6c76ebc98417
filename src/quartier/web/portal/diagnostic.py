"""``/diagnostic``: what the city knows of its territory — the essential
datasets with their maturity, and maps of where data is missing. Built from
what the visitor may read."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from quartier import access
from quartier.access import Principal
from quartier.reports.diagnostic_report import FRESHNESS, LEVELS, MISSING, SHADES
from quartier.reports.pdf import chromium
from quartier.reports.svg import Layer, map_svg
from quartier.services import diagnostic as service
from quartier.web.deps import context, principal
from quartier.web.portal.render import Page, page, render
from quartier.web.portal.routing import PortalRoute

router = APIRouter(
    include_in_schema=False,
    default_response_class=HTMLResponse,
    route_class=PortalRoute,
)
Caller = Annotated[Principal, Depends(principal)]


@router.get("/diagnostic")
async def diagnostic_page(request: Request, who: Caller) -> HTMLResponse:
    pg = page(request, who)
    store = context(request).store
    found = await run_in_threadpool(service.cached_diagnostic, store, who)
    data = service.to_json(found, pg.t.lang)
    return render(
        pg,
        "diagnostic.html",
        active="diagnostic",
        d=data,
        levels=[pg.t.gettext(x) for x in LEVELS],
        freshness={k: pg.t.gettext(v) for k, v in FRESHNESS.items()},
        gap_map=_gap_map(pg, found),
        can_edit_reference=access.can_edit_reference(who),
        shades=SHADES,
        missing_colour=MISSING,
        report_pdf=chromium() is not None,
    )


def _gap_map(pg: Page, d: service.Diagnostic) -> Any:
    """Quartiers shaded by the number of essential datasets they lack, and
    the grid cells where people live but no building is mapped."""
    if d.units is None:
        return None
    counts = [len(m) for m in service.missing_by_unit(d)]
    top = max(counts) if counts else 0
    low = min(counts) if counts else 0
    layers = []
    for n, shade in enumerate(SHADES):
        step = (top - low) / len(SHADES) or 1
        chosen = [
            g
            for g, c in zip(d.units.geometry, counts, strict=True)
            if min(int((c - low) / step), len(SHADES) - 1) == n
        ]
        layers.append(Layer(chosen, fill=shade, stroke="#607d8b", width=0.8))
    if d.cells is not None:
        gaps = d.cells.geometry[d.cells["missing"].to_numpy(dtype=bool)]
        layers.append(Layer(list(gaps), fill=MISSING, stroke="none"))
    bounds = tuple(d.units.total_bounds)
    return map_svg(
        layers,
        bounds,  # type: ignore[arg-type]
        width=640,
        height=440,
        title=pg.t.gettext(
            "Données manquantes par quartier, et cellules habitées sans bâtiment "
            "cartographié"
        ),
    )

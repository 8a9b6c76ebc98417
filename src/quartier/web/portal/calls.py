"""``/contribuer``: public calls for contributions generated from the
diagnostic's gaps — what data is missing where, and which form or campaign
to use (or whom to contact). Built from the visitor's own diagnostic, so a
call never names a dataset hidden from them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from quartier.access import Principal
from quartier.i18n import Translator
from quartier.reports.diagnostic_report import LEVELS, MISSING
from quartier.reports.svg import Layer, map_svg
from quartier.services import calls as service
from quartier.services import diagnostic as diag
from quartier.web.deps import context, principal
from quartier.web.portal.render import page, render
from quartier.web.portal.routing import PortalRoute

router = APIRouter(
    include_in_schema=False,
    default_response_class=HTMLResponse,
    route_class=PortalRoute,
)
Caller = Annotated[Principal, Depends(principal)]
GAP = "#e57373"


@router.get("/contribuer")
async def calls_page(request: Request, who: Caller) -> HTMLResponse:
    pg = page(request, who)
    store = context(request).store

    def build() -> tuple[dict[str, Any], dict[str, Any]]:
        d = diag.cached_diagnostic(store, who)
        found = service.calls(store, who, d)
        data = service.to_json(found, d, pg.t.lang)
        titles = {x["key"]: x["title"] for x in data["calls"]}
        maps = {c.key: _map(d, c, titles[c.key], pg.t) for c in found}
        return data, maps

    data, maps = await run_in_threadpool(build)
    return render(
        pg,
        "calls.html",
        active="contribuer",
        c=data,
        maps=maps,
        levels=[pg.t.gettext(x) for x in LEVELS],
    )


def _map(d: diag.Diagnostic, call: service.Call, title: str, t: Translator) -> Any:
    """The territory with the call's quartiers shaded (and, for buildings,
    the settled cells where none is mapped) — when only some lack the data."""
    if d.units is None or d.units.empty:
        return None
    partial = 0 < len(call.units) < len(d.units)
    if not partial and call.kind != "buildings":
        return None  # everywhere or nowhere: the sentence says it
    names = d.units["name"].astype(str)
    missing = names.isin(call.units).to_numpy()
    layers = [
        Layer(list(d.units.geometry[~missing]), fill="#f1f8e9", stroke="#90a4ae"),
        Layer(list(d.units.geometry[missing]), fill=GAP, stroke="#90a4ae"),
    ]
    if call.kind == "buildings" and d.cells is not None:
        gaps = d.cells.geometry[d.cells["missing"].to_numpy(dtype=bool)]
        layers.append(Layer(list(gaps), fill=MISSING, stroke="none"))
    return map_svg(
        layers,
        tuple(d.units.total_bounds),  # type: ignore[arg-type]
        width=240,
        height=170,
        title=t.gettext("Où manque : %(what)s", what=title),
    )

"""Analyses in the portal: ``/analyses`` and one page per analysis.

Each page shows the latest results the visitor may read: the map of the
main result dataset, a chart and the table, with what it was computed from
(every input's version and every parameter). Staff who may run analyses get
a button that starts a run through the API (``POST /api/analyses/{name}``)
and follows its job.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from quartier import access
from quartier.access import Principal
from quartier.errors import NotFound
from quartier.reports.svg import bars_svg
from quartier.services.analysis_results import (
    BY_NAME,
    SPECS,
    chart_rows,
    results,
    table_rows,
)
from quartier.web.deps import context, principal
from quartier.web.portal.render import page, render
from quartier.web.portal.routing import PortalRoute

router = APIRouter(
    include_in_schema=False,
    default_response_class=HTMLResponse,
    route_class=PortalRoute,
)
Caller = Annotated[Principal, Depends(principal)]


def can_run(who: Principal) -> bool:
    """Who the API lets run analyses (they write datasets)."""
    return bool(who.username) and (
        who.is_admin or any(access.can_create(who, org) for org in who.roles)
    )


@router.get("/analyses")
def index(request: Request, who: Caller) -> HTMLResponse:
    pg = page(request, who)
    store = context(request).store
    cards = [(spec, results(store, spec, who)) for spec in SPECS]
    return render(pg, "analyses.html", active="analyses", cards=cards)


@router.get("/analyses/{name}")
def analysis(request: Request, who: Caller, name: str) -> HTMLResponse:
    spec = BY_NAME.get(name)
    if spec is None:
        raise NotFound(f"no analysis {name!r}")
    pg = page(request, who)
    store = context(request).store
    found = results(store, spec, who)
    table = (
        table_rows(store, found.table, spec, who) if found.table is not None else None
    )
    chart = None
    if table is not None:
        bars = chart_rows(table, spec)
        if bars:
            chart = bars_svg(
                bars, title=pg._(spec.chart), shown=lambda v: pg.t.number(round(v, 1))
            )
    return render(
        pg,
        "analysis.html",
        active="analyses",
        spec=spec,
        found=found,
        columns=list(table.columns) if table is not None else [],
        rows=[[_cell(v, pg.t) for v in row] for row in table.itertuples(index=False)]
        if table is not None
        else [],
        chart=chart,
        runnable=can_run(who),
    )


def _cell(value: Any, t: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return t.gettext("oui") if value else t.gettext("non")
    if isinstance(value, float):
        return str(t.number(round(value, 2)))
    if isinstance(value, int):
        return str(t.number(value))
    return str(value)

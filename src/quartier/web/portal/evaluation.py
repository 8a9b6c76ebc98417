"""``/evaluation``: the diagnostic's score over its saved versions (a line
chart), contributions by actor kind and by quartier (bar charts and tables,
counts only), and each campaign's progress — as the visitor may see them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from quartier.access import Principal
from quartier.i18n import N_, Translator
from quartier.reports.diagnostic_report import FRESHNESS
from quartier.reports.evaluation_charts import line_svg
from quartier.reports.svg import bars_svg
from quartier.services import evaluation as service
from quartier.web.deps import context, principal
from quartier.web.portal import labels
from quartier.web.portal.render import page, render
from quartier.web.portal.routing import PortalRoute

router = APIRouter(
    include_in_schema=False,
    default_response_class=HTMLResponse,
    route_class=PortalRoute,
)
Caller = Annotated[Principal, Depends(principal)]
SOURCES = {
    "submissions_approved": N_("Formulaires acceptés"),
    "submissions_pending": N_("Formulaires en attente"),
    "reports": N_("Signalements"),
    "cells_mapped": N_("Cellules cartographiées"),
    "cells_validated": N_("Cellules validées"),
    "features_edited": N_("Entités modifiées"),
}
#: the last saved versions shown side by side in the per-entry table
SHOWN_VERSIONS = 6


@router.get("/evaluation")
async def evaluation_page(request: Request, who: Caller) -> HTMLResponse:
    pg = page(request, who)
    found = await run_in_threadpool(service.evaluate, context(request).store, who)
    data = service.to_json(found, pg.t.lang)
    kinds = dict(labels.actor_kinds(pg.t)) | {
        "unattributed": pg.t.gettext("Non attribué")
    }
    return render(
        pg,
        "evaluation.html",
        active="evaluation",
        e=data,
        shown=data["series"]["points"][-SHOWN_VERSIONS:],
        first=len(data["series"]["points"]) - SHOWN_VERSIONS,
        sources=[(k, pg.t.gettext(v)) for k, v in SOURCES.items()],
        freshness={k: pg.t.gettext(v) for k, v in FRESHNESS.items()},
        kinds=kinds,
        score_chart=_score_chart(data, pg.t),
        kind_chart=_bars(
            [(kinds.get(k, k), c) for k, c in data["contributions"]["by_kind"].items()],
            pg.t.gettext("Contributions de terrain par type d'acteur"),
        ),
        unit_chart=_bars(
            [(u["name"], u) for u in data["contributions"]["by_unit"]],
            pg.t.gettext("Contributions de terrain par quartier"),
        ),
    )


def _score_chart(data: dict[str, Any], t: Translator) -> Any:
    points = data["series"]["points"]
    if not points:
        return None
    return line_svg(
        [(f"v{p['version']} · {t.date(p['date'])}", p["score"]) for p in points],
        title=t.gettext("Score du diagnostic par version enregistrée"),
    )


def _bars(rows: list[tuple[str, dict[str, int]]], title: str) -> Any:
    values = [
        (label, float(sum(c[s] for s in service.FIELD_SOURCES))) for label, c in rows
    ]
    if not any(v for _, v in values):
        return None
    return bars_svg(values, title=title)

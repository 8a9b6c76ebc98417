"""Programme pages: ``/objectifs`` (objectives with their indicators computed
from the visitor's diagnostic, against their targets), ``/feuille-de-route``
(the roadmap by status or by quarter, suggested and chosen priority,
overdue items flagged) and the console's ``/console/programme`` (add
objectives and roadmap items, change their status and priority, put the
diagnostic's suggestions on the roadmap). Public programme information;
datasets a visitor may not read are never named. Writes go through
``/api/objectives`` and ``/api/roadmap``."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from quartier import access
from quartier.access import Principal
from quartier.domain.programme import (
    OBJECTIVE_MOVES,
    ROADMAP_MOVES,
    ObjectiveStatus,
    RoadmapStatus,
)
from quartier.i18n import N_
from quartier.services import objectives as objectives_service
from quartier.services import reference as reference_list
from quartier.services import roadmap as roadmap_service
from quartier.storage.base import SqlStore
from quartier.web.deps import context, principal
from quartier.web.portal.console_common import (
    ConsoleRoute,
    console,
    is_editor,
    require,
    signed_in,
)
from quartier.web.portal.render import Page, page, render
from quartier.web.portal.routing import PortalRoute

router = APIRouter(
    include_in_schema=False,
    default_response_class=HTMLResponse,
    route_class=PortalRoute,
)
console_router = APIRouter(
    include_in_schema=False,
    default_response_class=HTMLResponse,
    route_class=ConsoleRoute,
)
Caller = Annotated[Principal, Depends(principal)]

OBJECTIVE_LABELS = {
    "proposed": N_("Proposé"),
    "active": N_("En cours"),
    "achieved": N_("Atteint"),
    "abandoned": N_("Abandonné"),
}
ROADMAP_LABELS = {
    "planned": N_("Prévu"),
    "in_progress": N_("En cours"),
    "done": N_("Fait"),
    "dropped": N_("Abandonné"),
}
PRIORITY_LABELS = {"high": N_("Haute"), "medium": N_("Moyenne"), "low": N_("Basse")}
METRIC_LABELS = {
    "score": N_("Score du diagnostic"),
    "level": N_("Niveau de maturité"),
    "coverage": N_("Couverture"),
    "completeness": N_("Complétude"),
}


def _labels(pg: Page) -> dict[str, Any]:
    g = pg.t.gettext
    return {
        "objective_labels": {k: g(v) for k, v in OBJECTIVE_LABELS.items()},
        "roadmap_labels": {k: g(v) for k, v in ROADMAP_LABELS.items()},
        "priority_labels": {k: g(v) for k, v in PRIORITY_LABELS.items()},
        "metric_labels": {k: g(v) for k, v in METRIC_LABELS.items()},
    }


def _objectives(store: SqlStore, who: Principal, lang: str) -> list[dict[str, Any]]:
    fig = objectives_service.figures(store, who)
    cat = objectives_service.catalogue_of(store)
    return [
        objectives_service.as_json(
            store, who, o, fig, lang=lang, catalogue=cat, history=True
        )
        for o in store.list_objectives()
    ]


def _roadmap(store: SqlStore, who: Principal, lang: str) -> list[dict[str, Any]]:
    fig = objectives_service.figures(store, who)
    cat = objectives_service.catalogue_of(store)
    return [
        roadmap_service.as_json(store, who, i, fig, lang=lang, catalogue=cat)
        for i in store.list_roadmap_items()
    ]


@router.get("/objectifs")
async def objectives_page(request: Request, who: Caller) -> HTMLResponse:
    pg = page(request, who)
    store = context(request).store
    found = await run_in_threadpool(_objectives, store, who, pg.t.lang)
    return render(
        pg,
        "objectives.html",
        active="objectives",
        objectives=found,
        may_edit=_may_edit(store, who),
        **_labels(pg),
    )


@router.get("/feuille-de-route")
async def roadmap_page(
    request: Request,
    who: Caller,
    par: Annotated[Literal["etat", "trimestre"], Query()] = "etat",
) -> HTMLResponse:
    pg = page(request, who)
    store = context(request).store
    items = await run_in_threadpool(_roadmap, store, who, pg.t.lang)
    labels = _labels(pg)
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if par == "etat":
        for item in items:
            groups[item["status"]].append(item)
        ordered = [
            (labels["roadmap_labels"][s.value], groups[s.value])
            for s in RoadmapStatus
            if groups[s.value]
        ]
    else:
        for item in items:
            groups[item["quarter"] or ""].append(item)
        ordered = [
            (q or pg.t.gettext("Sans échéance"), groups[q])
            for q in sorted(groups, key=lambda q: (q == "", q))
        ]
    return render(
        pg,
        "roadmap.html",
        active="roadmap",
        groups=ordered,
        by=par,
        count=len(items),
        overdue=sum(i["overdue"] for i in items),
        rule=roadmap_service.PRIORITY_RULE_EN
        if pg.t.lang == "en"
        else roadmap_service.PRIORITY_RULE,
        may_edit=_may_edit(store, who),
        **labels,
    )


def _may_edit(store: SqlStore, who: Principal) -> bool:
    return who.authenticated and bool(_editable_orgs(store, who))


def _editable_orgs(store: SqlStore, who: Principal) -> list[Any]:
    return [
        o for o in store.list_organisations() if access.can_edit_programme(who, o.slug)
    ]


# ---------------------------------------------------------------- console
@console_router.get("/console/programme")
async def console_programme(request: Request, who: Caller) -> HTMLResponse:
    pg = signed_in(request, who)
    require(is_editor(pg.who), "the programme console takes an admin or steward role")
    store = context(request).store
    values = await run_in_threadpool(_console_values, store, pg.who, pg.t.lang)
    return console(pg, "programme.html", "programme", **values, **_labels(pg))


def _console_values(store: SqlStore, who: Principal, lang: str) -> dict[str, Any]:
    orgs = _editable_orgs(store, who)
    slugs = {o.slug for o in orgs}
    fig = objectives_service.figures(store, who)
    en = lang == "en"
    return {
        "orgs": orgs,
        "objectives": [o for o in _objectives(store, who, lang) if o["can_edit"]],
        "all_objectives": store.list_objectives(),
        "items": [i for i in _roadmap(store, who, lang) if i["can_edit"]],
        "stewards": sorted(
            (org, u.username, u.display_name or u.username)
            for u in store.list_users()
            if u.active
            for org in u.roles
            if org in slugs
        ),
        "entries": [
            (e.key, (e.title_en or e.title) if en else e.title)
            for e in reference_list.entries(store)
        ],
        "datasets": access.readable(who, store.list_datasets()),
        "suggestions": roadmap_service.suggestions(store, fig, lang),
        "objective_moves": {
            s.value: sorted(m.value for m in OBJECTIVE_MOVES[s])
            for s in ObjectiveStatus
        },
        "roadmap_moves": {
            s.value: sorted(m.value for m in ROADMAP_MOVES[s]) for s in RoadmapStatus
        },
    }

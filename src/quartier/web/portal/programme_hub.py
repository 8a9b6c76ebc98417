"""``/programme``: the city's data programme in the six steps of the
founding text, each with where it stands (figures from what the visitor
may see) and the pages that carry it."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from quartier.access import Principal
from quartier.domain.agreements import in_force
from quartier.domain.programme import overdue
from quartier.errors import NotFound
from quartier.i18n import N_
from quartier.services import agreements, campaigns, diagnostic
from quartier.storage.base import SqlStore
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

#: the six steps: (key, title, what it means, [(href, link text)])
STEPS = (
    (
        "objectives",
        N_("1. Clarifier les attentes"),
        N_("Ce que la ville attend du numérique, chaque objectif avec son "
           "organisation responsable et ses indicateurs."),
        [("/objectifs", N_("Objectifs"))],
    ),
    (
        "diagnostic",
        N_("2. Faire l'autodiagnostic des données"),
        N_("Les données essentielles à l'urbanisme et à la gestion des crises : "
           "qui les détient, ouvertes ou non, à jour, complètes, où elles manquent."),
        [("/diagnostic", N_("Diagnostic"))],
    ),
    (
        "ecosystem",
        N_("3. Identifier les partenaires"),
        N_("Les acteurs, leurs capacités, les données qu'ils détiennent ou "
           "pourraient produire, les conventions de partage."),
        [("/ecosysteme", N_("Écosystème"))],
    ),
    (
        "pilots",
        N_("4. Commencer par des projets pilotes"),
        N_("Des campagnes de collecte sur une zone pilote, découpée en cellules "
           "que les contributeur·ices cartographient et valident."),
        [("/campagnes", N_("Campagnes"))],
    ),
    (
        "roadmap",
        N_("5. Feuille de route et responsabilité publique"),
        N_("Qui fait quoi et pour quand ; qui est garant de chaque donnée, sous "
           "quelle licence et quelle politique d'accès."),
        [
            ("/feuille-de-route", N_("Feuille de route")),
            ("/charte", N_("Charte des données")),
        ],
    ),
    (
        "evaluation",
        N_("6. Évaluer, enrichir, communiquer"),
        N_("Les indicateurs dans le temps, les contributions par acteur et par "
           "quartier, et les appels à contribution là où les données manquent."),
        [("/evaluation", N_("Évaluation")), ("/contribuer", N_("Contribuer"))],
    ),
)  # fmt: skip


@router.get("/programme")
async def programme_page(request: Request, who: Caller) -> HTMLResponse:
    pg = page(request, who)
    store = context(request).store
    facts = await run_in_threadpool(_facts, store, who)
    kinds = dict(labels.actor_kinds(pg.t))
    return render(
        pg,
        "programme_hub.html",
        active="programme",
        steps=[
            {
                "key": key,
                "title": pg.t.gettext(title),
                "text": pg.t.gettext(text),
                "links": [(href, pg.t.gettext(label)) for href, label in links],
            }
            for key, title, text, links in STEPS
        ],
        facts=facts,
        kinds=kinds,
    )


def _facts(store: SqlStore, who: Principal) -> dict[str, Any]:
    """Where each step stands, from what ``who`` may see."""
    try:
        found: diagnostic.Diagnostic | None = diagnostic.cached_diagnostic(store, who)
    except NotFound:  # no workspace yet: nothing to diagnose
        found = None
    today = dt.date.today()
    by_kind: dict[str, int] = {}
    for org in store.list_organisations():
        by_kind[org.kind.value] = by_kind.get(org.kind.value, 0) + 1
    return {
        "score": found.score if found else None,
        "entries": len(found.entries) if found else 0,
        "missing": sum(1 for r in found.entries if r.level == 0) if found else 0,
        "organisations": by_kind,
        "campaigns": len(campaigns.visible_campaigns(store, who)),
        # objectives and roadmap items are public programme information
        "objectives": Counter(o.status.value for o in store.list_objectives()),
        "roadmap": Counter(i.status.value for i in store.list_roadmap_items()),
        "overdue": sum(1 for i in store.list_roadmap_items() if overdue(i, today)),
        "agreements": sum(
            1 for a in agreements.listed(store, who) if in_force(a, today)
        ),
    }

"""Campaign pages: ``/campagnes`` (list with progress), ``/campagnes/{slug}``
(the grid on a map, instructions, forms, statistics, and the cell actions for
a signed-in contributor), and the console's ``/console/campagnes`` (create a
campaign, change its status). What is shown comes from ``services.campaigns``
and ``access``; writes go through ``/api/campaigns``.
"""

from __future__ import annotations

from typing import Annotated

import shapely
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse

from quartier import access
from quartier.access import Principal
from quartier.domain.campaigns import CampaignStatus
from quartier.errors import NotFound
from quartier.services import campaigns as svc
from quartier.storage.base import SqlStore
from quartier.web.deps import base_url, context, principal
from quartier.web.portal.console_common import ConsoleRoute, console, signed_in
from quartier.web.portal.render import page, render
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
CampaignSlug = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_-]{0,47}$")]


@router.get("/campagnes")
def campaigns_page(request: Request, who: Caller) -> HTMLResponse:
    pg = page(request, who)
    store = context(request).store
    rows = [
        (c, svc.progress(store.list_cells(c.slug)))
        for c in svc.visible_campaigns(store, who)
    ]
    return render(pg, "campaigns.html", active="campaigns", rows=rows)


@router.get("/campagnes/{slug}")
def campaign_page(request: Request, who: Caller, slug: CampaignSlug) -> HTMLResponse:
    pg = page(request, who)
    store = context(request).store
    c = svc.visible(store, who, slug)
    forms = svc.shown_forms(store, who, c)  # to those who may fill them
    cells = store.list_cells(slug)
    shapes = shapely.from_wkt([cell.geometry_wkt for cell in cells] or [c.area_wkt])
    bounds = shapely.total_bounds(shapes)
    return render(
        pg,
        "campaign.html",
        active="campaigns",
        c=c,
        bbox=",".join(f"{v:.6f}" for v in bounds),
        stats=svc.stats(store, who, c),
        forms=forms,
        forms_for_members=not forms and bool(svc.campaign_forms(store, c)),
        dataset=svc.shown_dataset(store, who, c),
        server=f"{base_url(request)}/openrosa",
        can_map=access.can_map_campaign(who, c),
        can_validate=access.can_validate_campaign(who, c),
        can_manage=access.can_manage_campaign(who, c.organisation),
    )


@console_router.get("/console/campagnes")
def console_campaigns(request: Request, who: Caller) -> HTMLResponse:
    pg = signed_in(request, who)
    store = context(request).store
    orgs = [
        o
        for o in store.list_organisations()
        if access.can_manage_campaign(pg.who, o.slug)
    ]
    managed = [
        c
        for c in store.list_campaigns()
        if access.can_manage_campaign(pg.who, c.organisation)
    ]
    return console(
        pg,
        "campaigns.html",
        "campaigns",
        orgs=orgs,
        campaigns=managed,
        statuses=list(CampaignStatus),
        units=_units(store, pg.who),
        forms=[
            f for f in store.list_forms() if f.organisation in {o.slug for o in orgs}
        ],
    )


def _units(store: SqlStore, who: Principal) -> tuple[str, list[str]]:
    """The admin-units dataset and its unit names (the areas offered)."""
    try:
        slug = store.get_workspace().admin_dataset
        if not slug:
            return "", []
        ds = store.get_dataset(slug)
    except NotFound:
        return "", []
    # the area is chosen by ``name``: only if ``who`` may read it (not sensitive)
    if not access.can_read(who, ds) or not access.visible_columns(who, ds, ["name"]):
        return "", []
    names = sorted(
        {
            str(row["name"])
            for batch in store.read_batches(slug)
            for row in batch.to_pylist()
            if row.get("name")
        }
    )
    return slug, names

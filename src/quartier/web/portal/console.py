"""The staff console: dashboard, uploads, dataset editing (``/console…``).

Pages are rendered here from the store, through ``quartier.access``; their
small scripts (``static/js/console*.js``) write through the platform API
with the session's CSRF token, so authorisation and audit stay in one place.
Organisations, users, tokens and the audit log are in ``console_admin``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from quartier import access
from quartier.access import Principal
from quartier.services.uploads import SUFFIXES
from quartier.web.api_common import jobs_of
from quartier.web.deps import context
from quartier.web.portal import console_admin, labels
from quartier.web.portal.console_common import (
    Caller,
    ConsoleRoute,
    console,
    creatable_orgs,
    editable,
    is_editor,
    require,
    signed_in,
)
from quartier.web.portal.render import Page

router = APIRouter(
    include_in_schema=False,
    default_response_class=HTMLResponse,
    route_class=ConsoleRoute,
)
RECENT_JOBS = 10


@router.get("/console")
def dashboard(request: Request, who: Caller) -> HTMLResponse:
    pg = signed_in(request, who)
    store = context(request).store
    orgs = {o.slug: o for o in store.list_organisations()}
    mine = sorted(editable(store, pg.who), key=lambda d: _title(pg, d).casefold())
    return console(
        pg,
        "dashboard.html",
        "home",
        roles=sorted(pg.who.roles.items()),
        orgs=orgs,
        role_labels=dict(labels.roles(pg.t)),
        datasets=mine,
        jobs=_recent_jobs(request, pg.who),
        levels=dict(labels.access_levels(pg.t)),
    )


@router.get("/console/import")
def import_form(request: Request, who: Caller) -> HTMLResponse:
    pg = signed_in(request, who)
    require(is_editor(pg.who), "importing takes an admin or steward role")
    ctx = context(request)
    return console(
        pg,
        "import.html",
        "import",
        orgs=creatable_orgs(ctx.store, pg.who),
        datasets=editable(ctx.store, pg.who),
        levels=labels.access_levels(pg.t),
        max_mb=ctx.settings.max_upload_mb,
        accept=",".join(SUFFIXES),
    )


@router.get("/console/jeux/{slug}")
def edit_dataset(request: Request, who: Caller, slug: str) -> HTMLResponse:
    pg = signed_in(request, who)
    store = context(request).store
    ds = access.require_write(pg.who, store.get_dataset(slug))
    versions = sorted(store.list_versions(slug), key=lambda v: -v.version)
    return console(
        pg,
        "dataset.html",
        "home",
        ds=ds,
        versions=versions,
        fields=[f.name for f in versions[0].fields] if versions else [],
        orgs=_placeable(request, pg, ds.producer, ds.steward),
        levels=labels.access_levels(pg.t),
        level_help=labels.access_help(pg.t),
    )


router.include_router(console_admin.router)


# ----------------------------------------------------------------- helpers
def _title(pg: Page, ds: Any) -> str:
    return str(pg.t.pick(ds.title, ds.title_en))


def _recent_jobs(request: Request, p: Principal) -> list[dict[str, Any]]:
    """The caller's latest background jobs (administrators: everyone's)."""
    return [j.to_dict() for j in jobs_of(context(request)).list(p)[:RECENT_JOBS]]


def _placeable(
    request: Request, pg: Page, *current: str | None
) -> list[tuple[str, str]]:
    """Organisations a dataset may be moved to by the caller, plus its current
    producer and steward (kept as they are unless changed)."""
    store = context(request).store
    allowed = {o.slug for o in creatable_orgs(store, pg.who)}
    return [
        (o.slug, o.name)
        for o in store.list_organisations()
        if o.slug in allowed or o.slug in current
    ]

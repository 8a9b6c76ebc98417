"""Public pages: home, catalogue, dataset page (the data charter is in
``ecosystem.py``).

Everything shown goes through ``access``: a visitor sees the datasets, fields
and figures they may see, nothing else (a hidden dataset's page is a 404,
like an unknown one).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from quartier import access
from quartier.access import Principal
from quartier.domain import AccessLevel, Dataset
from quartier.domain.actors import ActorKind
from quartier.domain.reports import ReportKind
from quartier.i18n import Translator
from quartier.services.downloads import formats_for
from quartier.services.search import FRESHNESS, CatalogueQuery
from quartier.web.deps import base_url, context, principal
from quartier.web.portal import labels
from quartier.web.portal.figures import key_figures
from quartier.web.portal.render import Page, page, render
from quartier.web.portal.routing import PortalRoute

router = APIRouter(
    include_in_schema=False,
    default_response_class=HTMLResponse,
    route_class=PortalRoute,
)
Caller = Annotated[Principal, Depends(principal)]
PAGE_SIZE = 20


@router.get("/")
def home(request: Request, who: Caller) -> HTMLResponse:
    pg = page(request, who)
    store = context(request).store
    visible = access.readable(who, store.list_datasets())
    recent = sorted(visible, key=lambda d: d.updated or d.created, reverse=True)[:5]
    return render(
        pg,
        "home.html",
        active="home",
        figures=key_figures(store, visible),
        recent=recent,
        actors=labels.actor_entries(pg.t),
    )


def catalogue_query(
    q: Annotated[str | None, Query(max_length=200)] = None,
    theme: Annotated[str | None, Query(max_length=100)] = None,
    producer: Annotated[str | None, Query(max_length=100)] = None,
    kind: Annotated[str | None, Query(max_length=40)] = None,
    level: Annotated[str | None, Query(alias="access", max_length=20)] = None,
    freshness: Annotated[str | None, Query(max_length=10)] = None,
) -> CatalogueQuery:
    """The catalogue's filters from the query string (unknown values ignored)."""
    return CatalogueQuery(
        q=q or None,
        theme=theme or None,
        producer=producer or None,
        access=AccessLevel(level) if level in set(AccessLevel) else None,
        actor_kind=kind if kind in set(ActorKind) else None,
        freshness=freshness if freshness in FRESHNESS else None,
    )


@router.get("/catalogue")
def catalogue(
    request: Request,
    who: Caller,
    wanted: Annotated[CatalogueQuery, Depends(catalogue_query)],
    p: Annotated[int, Query(ge=1, le=100000)] = 1,
) -> HTMLResponse:
    pg = page(request, who)
    store = context(request).store
    orgs = {o.slug: o for o in store.list_organisations()}
    visible = access.readable(who, store.list_datasets())
    found = wanted.filter(visible, {s: o.kind.value for s, o in orgs.items()})
    found.sort(key=lambda d: pg.t.pick(d.title, d.title_en).casefold())
    return render(
        pg,
        "catalogue.html",
        active="catalogue",
        orgs=orgs,
        query=wanted,
        datasets=found[(p - 1) * PAGE_SIZE : p * PAGE_SIZE],
        total=len(found),
        page_number=p,
        pages=max(1, -(-len(found) // PAGE_SIZE)),
        **_choices(pg, visible),
    )


def _choices(pg: Page, visible: list[Dataset]) -> dict[str, Any]:
    """What the catalogue's filter lists offer."""
    return {
        "themes": sorted({d.theme for d in visible if d.theme}),
        "producers": sorted({d.producer for d in visible if d.producer}),
        "levels": labels.access_levels(pg.t),
        "kinds": labels.actor_kinds(pg.t),
        "freshnesses": labels.freshness(pg.t),
    }


@router.get("/catalogue/{slug}")
def dataset_page(request: Request, who: Caller, slug: str) -> HTMLResponse:
    pg = page(request, who)
    ctx = context(request)
    ds = access.require_read(who, ctx.store.get_dataset(slug))
    ctx.audit.record(who, ds, "page")
    versions = sorted(ctx.store.list_versions(slug), key=lambda v: -v.version)
    hidden = access.hidden_fields(who, ds)
    current = versions[0] if versions else None
    fields = [f for f in current.fields if f.name not in hidden] if current else []
    base = base_url(request)
    return render(
        pg,
        "dataset.html",
        active="catalogue",
        ds=ds,
        versions=versions,
        fields=fields,
        masked=len(hidden),
        formats=formats_for(ds) if current else [],
        orgs={o.slug: o for o in ctx.store.list_organisations()},
        services=_services(ds, base, pg.t),
        can_edit=access.can_write(who, ds),
        levels=dict(labels.access_levels(pg.t)),
        field_types=labels.field_types(pg.t),
        geometry=labels.geometry(pg.t, ds.geometry_type),
        contests=_contest_counts(ctx.store, who, ds),
    )


def _contest_counts(store: Any, who: Any, ds: Any) -> dict[str, int] | None:
    """Residents' opinions on the features, for the dataset's staff only."""
    if not access.can_handle_contests(who, ds):
        return None
    return store.count_reports(  # type: ignore[no-any-return]
        kind=ReportKind.CONTEST, dataset=ds.slug, hidden=None
    )


def _services(ds: Any, base: str, t: Translator) -> list[tuple[str, str]]:
    ogc = f"{base}/ogc/collections/{ds.slug}"
    out = [
        ("OGC API – Features", f"{ogc}/items"),
        (t.gettext("API de la plateforme"), f"{base}/api/datasets/{ds.slug}"),
    ]
    if ds.kind == "features":
        out.append(("TileJSON (MVT)", f"{ogc}/tiles/WebMercatorQuad"))
        out.append(("XYZ (MVT)", f"{ogc}/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}"))
    return out

"""``/ecosysteme`` (who does what with the city's data, and a graph of who
holds and shares what), ``/charte`` (the public data charter) and
``/demandes-acces`` (access requests: ask, decide, withdraw). Every figure
comes through the one authorisation layer; forms carry the CSRF token."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from quartier import access
from quartier.access import Principal
from quartier.domain.ecosystem import Capacity, CapacityKind
from quartier.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from quartier.i18n import N_
from quartier.services import access_requests as requests_service
from quartier.services import capacities, charter, ecosystem
from quartier.web.deps import context, principal
from quartier.web.portal import labels
from quartier.web.portal.render import Page, page, render
from quartier.web.portal.routing import PortalRoute

router = APIRouter(
    include_in_schema=False,
    default_response_class=HTMLResponse,
    route_class=PortalRoute,
)
Caller = Annotated[Principal, Depends(principal)]
Text = Annotated[str, Form(max_length=2000)]
RequestId = Annotated[int, Path(ge=1, le=2**31 - 1)]
#: the colour of each actor kind in the graph (colour-blind safe palette)
KIND_COLOURS = {
    "local_authority": "#0072b2",
    "business": "#e69f00",
    "startup": "#cc79a7",
    "university": "#009e73",
    "ngo": "#d55e00",
    "residents": "#56b4e9",
}
STATUSES = {
    "pending": N_("en attente"),
    "approved": N_("acceptée"),
    "refused": N_("refusée"),
    "withdrawn": N_("retirée"),
}


@router.get("/ecosysteme")
def ecosystem_page(request: Request, who: Caller) -> HTMLResponse:
    return _ecosystem(page(request, who))


def _ecosystem(pg: Page, error: str = "", status: int = 200) -> HTMLResponse:
    store = context(pg.request).store
    who = pg.who
    data = ecosystem.build(store, who)
    kinds = labels.actor_kinds(pg.t)
    managed = [
        o["slug"]
        for o in data["organisations"]
        if who.authenticated and access.can_declare_capacities(who, o["slug"])
    ]
    return render(
        pg,
        "ecosystem.html",
        status=status,
        active="ecosystem",
        managed=managed,
        reference=capacities.reference_titles(store) if managed else {},
        offerable=_offerable(store, who) if managed else [],
        error=error,
        groups=[
            (code, label, [o for o in data["organisations"] if o["kind"] == code])
            for code, label in kinds
        ],
        graph=data["graph"],
        names={o["slug"]: o["name"] for o in data["organisations"]},
        kinds=dict(kinds),
        colours=KIND_COLOURS,
        levels=dict(labels.access_levels(pg.t)),
    )


def _offerable(store: Any, who: Principal) -> list[Any]:
    """Non-public datasets ``who`` may offer on request for some holder."""
    return [
        d
        for d in access.readable(who, store.list_datasets())
        if d.access.value != "public" and access.sharing_holders(who, d)
    ]


@router.post("/ecosysteme/declarations")
def declare(
    request: Request,
    who: Caller,
    organisation: Text,
    kind: Text,
    ref: Text = "",
    label: Text = "",
    note: Text = "",
) -> Response:
    pg = page(request, access.require_signed_in(who))
    try:
        capacities.declare(
            context(request).store,
            who,
            Capacity(0, organisation, CapacityKind.parse(kind), ref, label, note),
        )
    except (InvalidInput, Conflict, PermissionDenied) as e:
        return _ecosystem(pg, str(e), _status(e))
    return RedirectResponse(f"/ecosysteme#org-{organisation}", status_code=303)


@router.get("/charte")
def charter_page(request: Request, who: Caller) -> HTMLResponse:
    pg = page(request, who)
    data = charter.build(context(request).store, who, pg.t.lang)
    return render(
        pg,
        "charter.html",
        active="charter",
        c=data,
        levels=labels.access_levels(pg.t),
        help=labels.access_help(pg.t),
    )


@router.get("/demandes-acces")
def requests_page(request: Request, who: Caller) -> HTMLResponse:
    return _requests(page(request, access.require_signed_in(who)))


def _requests(pg: Page, error: str = "", status: int = 200) -> HTMLResponse:
    store = context(pg.request).store
    decide = {r.id for r in requests_service.to_decide(store, pg.who)}
    found = requests_service.listed(store, pg.who)
    return render(
        pg,
        "access_requests.html",
        status=status,
        active="access_requests",
        mine=[r for r in found if r.requester == pg.who.label],
        others=[r for r in found if r.requester != pg.who.label],
        decide=decide,
        statuses={k: pg.t.gettext(v) for k, v in STATUSES.items()},
        error=error,
    )


@router.get("/demandes-acces/nouvelle")
def new_request(
    request: Request,
    who: Caller,
    dataset: Annotated[str, Query(max_length=48)] = "",
) -> HTMLResponse:
    pg = page(request, access.require_signed_in(who))
    return _form(pg, dataset)


def _form(
    pg: Page, dataset: str, error: str = "", status: int = 200, **values: str
) -> HTMLResponse:
    store = context(pg.request).store
    offers = capacities.on_request_for(store, pg.who)
    return render(
        pg,
        "access_request_new.html",
        status=status,
        active="access_requests",
        offers=offers,
        chosen=dataset,
        orgs=sorted(pg.who.roles),
        error=error,
        values=values,
    )


@router.post("/demandes-acces/nouvelle")
def ask(
    request: Request,
    who: Caller,
    dataset: Text,
    purpose: Text = "",
    starts: Text = "",
    ends: Text = "",
    organisation: Text = "",
) -> Response:
    pg = page(request, access.require_signed_in(who))
    try:
        requests_service.ask(
            context(request).store,
            who,
            dataset,
            purpose=purpose,
            starts=starts,
            ends=ends,
            organisation=organisation,
        )
    except (InvalidInput, Conflict, NotFound) as e:
        return _form(
            pg, dataset, str(e), 400, purpose=purpose, starts=starts, ends=ends
        )
    return RedirectResponse("/demandes-acces", status_code=303)


@router.post("/demandes-acces/{request_id}/decision")
def decide(
    request: Request,
    who: Caller,
    request_id: RequestId,
    decision: Text,
    reason: Text = "",
) -> Response:
    pg = page(request, access.require_signed_in(who))
    if decision not in ("approve", "refuse"):
        return _requests(pg, "decision: approve or refuse", 400)
    try:
        requests_service.decide(
            context(request).store,
            who,
            request_id,
            approve=decision == "approve",
            reason=reason,
        )
    except (InvalidInput, Conflict, PermissionDenied) as e:
        return _requests(pg, str(e), _status(e))
    return RedirectResponse("/demandes-acces", status_code=303)


@router.post("/demandes-acces/{request_id}/retrait")
def withdraw(request: Request, who: Caller, request_id: RequestId) -> Response:
    pg = page(request, access.require_signed_in(who))
    try:
        requests_service.withdraw(context(request).store, who, request_id)
    except (Conflict, PermissionDenied) as e:
        return _requests(pg, str(e), _status(e))
    return RedirectResponse("/demandes-acces", status_code=303)


def _status(e: Exception) -> int:
    """The page's status for a refused form (the API's mapping)."""
    if isinstance(e, InvalidInput):
        return 400
    return 403 if isinstance(e, PermissionDenied) else 409

"""``/api/ecosystem``, ``/api/organisations/{slug}/capacities`` and
``/api/charter``: the city's data ecosystem and its public data charter, as
the caller may see them (public; nothing hidden is named)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field

from quartier import access
from quartier.domain.ecosystem import Capacity, CapacityKind
from quartier.services import capacities, charter, ecosystem
from quartier.web.api_common import Body, Caller, Ctx, OrgSlug

router = APIRouter(prefix="/api", tags=["Programme"])
Lang = Annotated[Literal["fr", "en"], Query(description="Langue des textes")]


class CapacityIn(Body):
    kind: Literal["capacity", "produces", "could_produce", "on_request"]
    ref: str = Field(
        default="",
        max_length=100,
        description="Entrée de la liste de référence, ou jeu proposé sur demande",
    )
    label: str = Field(default="", max_length=200, examples=["Levés par drone"])
    note: str = Field(default="", max_length=2000)


@router.get("/ecosystem")
def ecosystem_json(ctx: Ctx, who: Caller) -> dict[str, Any]:
    """Organisations by actor kind with their capacities, the datasets they
    hold (that you may read), produce or could produce, offer on request,
    the agreements you may see, and the graph of who holds and shares what."""
    return ecosystem.build(ctx.store, who)


@router.get("/organisations/{slug}/capacities")
def list_capacities(slug: OrgSlug, ctx: Ctx, who: Caller) -> dict[str, Any]:
    """What the organisation declares it can do, produces or could produce."""
    ctx.store.get_organisation(slug)
    titles = capacities.reference_titles(ctx.store)
    found = capacities.listed(ctx.store, who, slug)
    return {"capacities": [capacities.as_json(c, titles) for c in found]}


@router.post("/organisations/{slug}/capacities", status_code=201)
def add_capacity(
    slug: OrgSlug, body: CapacityIn, ctx: Ctx, who: Caller
) -> dict[str, Any]:
    """A declaration of the organisation (its admins and stewards)."""
    p = access.require_signed_in(who)
    made = capacities.declare(
        ctx.store,
        p,
        Capacity(0, slug, CapacityKind(body.kind), body.ref, body.label, body.note),
    )
    return capacities.as_json(made, capacities.reference_titles(ctx.store))


@router.get("/charter")
def charter_json(ctx: Ctx, who: Caller, lang: Lang = "fr") -> dict[str, Any]:
    """The public data charter: principles, then per dataset you may see its
    steward, licence, access policy and update frequency; the agreements in
    force you may see; the datasets you may ask for and how."""
    return charter.build(ctx.store, who, lang)

"""``/api/agreements``: data-sharing agreements between organisations.

Seen by administrators and members of their parties; made and changed by
the holder's admins and stewards. While in force they open their datasets
to the partners' members on every output (``access.py``).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import Field

from quartier import access
from quartier.domain.agreements import Agreement, AgreementStatus
from quartier.services import agreements as service
from quartier.web.api_common import Body, Caller, Ctx

router = APIRouter(prefix="/api", tags=["Programme"])


class AgreementIn(Body):
    id: str = Field(max_length=63, examples=["convention-unikin-2026"])
    title: str = Field(max_length=200)
    holder: str = Field(max_length=100, description="Organisation détentrice")
    partners: list[str] = Field(max_length=50, description="Organisations partenaires")
    datasets: list[str] = Field(max_length=200, description="Jeux partagés")
    purpose: str = Field(max_length=2000, description="Finalité du partage")
    starts: str = Field(max_length=10, examples=["2026-01-01"])
    ends: str = Field(max_length=10, examples=["2026-12-31"])
    status: Literal["draft", "active"] = "draft"


class StatusIn(Body):
    status: Literal["draft", "active", "suspended", "ended"]


@router.get("/agreements")
def list_agreements(ctx: Ctx, who: Caller) -> dict[str, Any]:
    """The agreements you are a party to (administrators: all)."""
    p = access.require_signed_in(who)
    seen = service.readable_slugs(ctx.store, p)
    return {
        "agreements": [
            service.as_json_for(a, p, seen, store=ctx.store)
            for a in service.listed(ctx.store, p)
        ]
    }


@router.post("/agreements", status_code=201)
def add_agreement(body: AgreementIn, ctx: Ctx, who: Caller) -> dict[str, Any]:
    """A new agreement of the holder (its admins and stewards)."""
    p = access.require_signed_in(who)
    made = service.create(
        ctx.store,
        p,
        Agreement(
            id=body.id,
            title=body.title,
            holder=body.holder,
            partners=tuple(body.partners),
            datasets=tuple(body.datasets),
            purpose=body.purpose,
            starts=body.starts,
            ends=body.ends,
            status=AgreementStatus(body.status),
        ),
    )
    return service.as_json_for(made, p, store=ctx.store)


@router.get("/agreements/{agreement_id}")
def one_agreement(agreement_id: str, ctx: Ctx, who: Caller) -> dict[str, Any]:
    p = access.require_signed_in(who)
    return service.as_json_for(
        service.visible(ctx.store, p, agreement_id), p, store=ctx.store
    )


@router.post("/agreements/{agreement_id}/status")
def change_status(
    agreement_id: str, body: StatusIn, ctx: Ctx, who: Caller
) -> dict[str, Any]:
    """Activate, suspend or end an agreement (the holder's admins and stewards)."""
    p = access.require_signed_in(who)
    done = service.set_status(ctx.store, p, agreement_id, AgreementStatus(body.status))
    return service.as_json_for(done, p, store=ctx.store)

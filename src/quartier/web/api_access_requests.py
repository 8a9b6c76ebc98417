"""``/api/access-requests``: a partner asks for a restricted dataset offered
on request; its stewards approve (an agreement opens the access) or refuse.
Seen by the requester, the dataset's stewards and administrators only."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from pydantic import Field

from quartier import access
from quartier.services import access_requests as service
from quartier.web.api_common import MAX_INT, Body, Caller, Ctx

router = APIRouter(prefix="/api", tags=["Programme"])
RequestId = Annotated[int, Path(ge=1, le=MAX_INT, description="Numéro de la demande")]


class RequestIn(Body):
    dataset: str = Field(max_length=48, description="Jeu demandé")
    purpose: str = Field(max_length=2000, description="Finalité")
    starts: str = Field(default="", max_length=10, examples=["2026-12-01"])
    ends: str = Field(default="", max_length=10, examples=["2027-11-30"])
    organisation: str = Field(
        default="", max_length=100, description="Pour quelle organisation"
    )


class DecisionIn(Body):
    decision: Literal["approve", "refuse"]
    reason: str = Field(default="", max_length=2000)


@router.get("/access-requests")
def list_requests(ctx: Ctx, who: Caller) -> dict[str, Any]:
    """Your requests, and those about datasets you steward."""
    p = access.require_signed_in(who)
    return {"requests": [service.as_json(r) for r in service.listed(ctx.store, p)]}


@router.post("/access-requests", status_code=201)
def ask(body: RequestIn, ctx: Ctx, who: Caller) -> dict[str, Any]:
    """Ask for a dataset offered on request, saying why and for how long."""
    p = access.require_signed_in(who)
    made = service.ask(
        ctx.store,
        p,
        body.dataset,
        purpose=body.purpose,
        starts=body.starts,
        ends=body.ends,
        organisation=body.organisation,
    )
    return service.as_json(made)


@router.get("/access-requests/{request_id}")
def one_request(request_id: RequestId, ctx: Ctx, who: Caller) -> dict[str, Any]:
    p = access.require_signed_in(who)
    return service.as_json(service.visible(ctx.store, p, request_id))


@router.post("/access-requests/{request_id}/decision")
def decide(
    request_id: RequestId, body: DecisionIn, ctx: Ctx, who: Caller
) -> dict[str, Any]:
    """Approve (an agreement opens the access) or refuse (with a reason)."""
    p = access.require_signed_in(who)
    done = service.decide(
        ctx.store, p, request_id, approve=body.decision == "approve", reason=body.reason
    )
    return service.as_json(done)


@router.post("/access-requests/{request_id}/withdraw")
def withdraw(request_id: RequestId, ctx: Ctx, who: Caller) -> dict[str, Any]:
    """Withdraw your own pending request."""
    p = access.require_signed_in(who)
    return service.as_json(service.withdraw(ctx.store, p, request_id))

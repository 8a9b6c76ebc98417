"""``GET /api/evaluation`` and ``GET /api/calls``: the programme's evaluation
and the public calls for contributions, from what the caller may see (only
counts of contributions, never who made them)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from quartier.services import calls as call_service
from quartier.services import diagnostic as diag
from quartier.services import evaluation as service
from quartier.web.api_common import Caller, Ctx

router = APIRouter(prefix="/api", tags=["Programme"])
Lang = Annotated[Literal["fr", "en"], Query(description="Langue des textes")]


@router.get("/evaluation")
async def evaluation(ctx: Ctx, who: Caller, lang: Lang = "fr") -> dict[str, Any]:
    """The diagnostic's score and each entry's maturity, coverage and
    freshness over its saved versions; contributions by actor kind and by
    quartier (counts); each campaign's progress."""
    found = await run_in_threadpool(service.evaluate, ctx.store, who)
    return service.to_json(found, lang)


@router.get("/calls")
async def calls(ctx: Ctx, who: Caller, lang: Lang = "fr") -> dict[str, Any]:
    """Calls for contributions from the diagnostic's gaps: what is missing
    where, and the form or campaign to use (or whom to contact)."""

    def build() -> dict[str, Any]:
        d = diag.cached_diagnostic(ctx.store, who)
        return call_service.to_json(call_service.calls(ctx.store, who, d), d, lang)

    return await run_in_threadpool(build)

"""``GET /api/diagnostic``: the data self-diagnostic, from what the caller
may see (a visitor's diagnostic never names a dataset hidden from them)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from quartier.services import diagnostic as service
from quartier.web.api_common import Caller, Ctx

router = APIRouter(prefix="/api", tags=["Programme"])


@router.get("/diagnostic")
async def diagnostic(
    ctx: Ctx,
    who: Caller,
    lang: Annotated[Literal["fr", "en"], Query(description="Langue des textes")] = "fr",
) -> dict[str, Any]:
    """Each essential dataset: matching datasets, holder, openness, freshness,
    coverage and completeness computed from the data, maturity 0–4; the score;
    per quartier what is missing; where buildings are missing."""
    found = await run_in_threadpool(service.cached_diagnostic, ctx.store, who)
    return service.to_json(found, lang)

"""The DCAT(-AP) catalogue at ``/catalog.jsonld``: what the caller may see."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from quartier.access import Principal
from quartier.services import dcat
from quartier.web.context import AppContext
from quartier.web.deps import base_url, context, principal
from quartier.web.responses import JSONLDResponse

router = APIRouter(tags=["DCAT"])


@router.get("/catalog.jsonld", response_class=JSONLDResponse)
def catalog(
    ctx: Annotated[AppContext, Depends(context)],
    who: Annotated[Principal, Depends(principal)],
    base: Annotated[str, Depends(base_url)],
) -> JSONLDResponse:
    """DCAT-AP catalogue (JSON-LD) of the datasets the caller may see."""
    return JSONLDResponse(dcat.catalog(ctx.store, who, base))

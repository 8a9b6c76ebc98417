"""The DCAT(-AP) catalogue at ``/catalog.jsonld``."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["DCAT"])

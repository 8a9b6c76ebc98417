"""OGC API – Features, Part 1 (and Part 3 CQL2-text basics) at ``/ogc``."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/ogc", tags=["OGC API – Features"])

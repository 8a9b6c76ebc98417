"""Vector tiles (MVT) and TileJSON for every collection."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/ogc", tags=["Tuiles vectorielles"])

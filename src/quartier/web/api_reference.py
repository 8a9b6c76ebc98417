"""``/api/reference``: the city's list of essential datasets, which frames
the diagnostic. Read by everyone (datasets assigned by hand that the caller
may not see are left out); changed by platform administrators."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import Field

from quartier import access
from quartier.access import Principal
from quartier.domain.diagnostic import Entry
from quartier.services import reference as service
from quartier.web.api_common import Body, Caller, Ctx

router = APIRouter(prefix="/api", tags=["Programme"])
KEY = r"^[a-z0-9_]{1,63}$"


class EntryIn(Body):
    """One entry. Lists may also come as text: words separated by commas;
    attributes one per line, the names an attribute goes by separated by
    commas (``code, ref, id``)."""

    key: str = Field(pattern=KEY, examples=["batiments"])
    title: str = Field(min_length=1, max_length=200, description="Titre (français)")
    title_en: str = Field("", max_length=200)
    why: str = Field(min_length=1, max_length=2000, description="Pourquoi (français)")
    why_en: str = Field("", max_length=2000)
    category: Literal["planning", "crisis", "both"] = "both"
    geometry: Literal["point", "line", "polygon", "any", "raster"] = "any"
    frequency_days: int = Field(ge=1, le=36500, description="Mise à jour attendue")
    keywords: list[str] | str = Field(default_factory=list)
    attributes: list[list[str]] | str = Field(default_factory=list)
    datasets: list[str] | str = Field(default_factory=list)

    def document(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "category": self.category,
            "geometry": self.geometry,
            "frequency_days": self.frequency_days,
            "title": {"fr": self.title.strip(), "en": self.title_en.strip()},
            "why": {"fr": self.why.strip(), "en": self.why_en.strip()},
            "keywords": _words(self.keywords),
            "attributes": _attributes(self.attributes),
            "datasets": _words(self.datasets),
        }


class ListIn(Body):
    entries: list[dict[str, Any]] = Field(min_length=1, max_length=500)


@router.get("/reference")
def reference(ctx: Ctx, who: Caller) -> dict[str, Any]:
    """The list in use (``custom``: the city's own, else the shipped one)."""
    return service.export(ctx.store, who)


@router.put("/reference")
def replace_reference(body: ListIn, ctx: Ctx, who: Caller) -> dict[str, Any]:
    """Replace the whole list (all or nothing; administrators)."""
    service.replace_all(ctx.store, _admin(who), body.model_dump(), "entries")
    return service.export(ctx.store, who)


@router.delete("/reference", status_code=204)
def reset_reference(ctx: Ctx, who: Caller) -> Response:
    """Back to the list shipped with Quartier (administrators)."""
    service.reset(ctx.store, _admin(who))
    return Response(status_code=204)


@router.post("/reference/entries", status_code=201)
def add_entry(body: EntryIn, ctx: Ctx, who: Caller) -> dict[str, Any]:
    """Add an entry (administrators)."""
    return _json(service.save_entry(ctx.store, _admin(who), body.document()))


@router.put("/reference/entries/{key}")
def change_entry(key: str, body: EntryIn, ctx: Ctx, who: Caller) -> dict[str, Any]:
    """Replace entry ``key`` (its key may change; administrators)."""
    return _json(service.save_entry(ctx.store, _admin(who), body.document(), key=key))


@router.delete("/reference/entries/{key}", status_code=204)
def remove_entry(key: str, ctx: Ctx, who: Caller) -> Response:
    """Remove an entry (administrators; the list keeps at least one)."""
    service.remove_entry(ctx.store, _admin(who), key)
    return Response(status_code=204)


def _admin(who: Principal) -> Principal:
    return access.require_signed_in(who)


def _json(e: Entry) -> dict[str, Any]:
    return {"key": e.key, "title": e.title, "title_en": e.title_en}


def _words(value: list[str] | str) -> list[str]:
    items = value.split(",") if isinstance(value, str) else value
    return [w.strip() for w in items if w.strip()]


def _attributes(value: list[list[str]] | str) -> list[list[str]]:
    rows = (
        [line.split(",") for line in value.splitlines()]
        if isinstance(value, str)
        else value
    )
    out = [[n.strip() for n in row if n.strip()] for row in rows]
    return [row for row in out if row]

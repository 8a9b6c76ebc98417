"""``/api/campaigns``: mapping campaigns, their task cells, progress, stats.

Thin: every rule is in ``services.campaigns`` (and ``access``). A cell that
someone else holds is a 409 saying until when (and who, to validators).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import shapely
from fastapi import APIRouter, Path
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from quartier import access
from quartier.access import Principal
from quartier.domain.campaigns import (
    MAX_CELLS,
    Action,
    Campaign,
    CampaignStatus,
    Cell,
    Grid,
)
from quartier.errors import InvalidInput
from quartier.services import campaigns as svc
from quartier.web.api_common import Base, Body, Caller, Ctx
from quartier.web.responses import JSONResponse

router = APIRouter(
    prefix="/api", tags=["Campaigns"], default_response_class=JSONResponse
)

CampaignSlug = Annotated[
    str,
    Path(pattern=r"^[a-z][a-z0-9_-]{0,47}$", description="Identifiant de la campagne"),
]
CellNumber = Annotated[int, Path(ge=1, le=MAX_CELLS, description="Numéro de la case")]
Text = Annotated[str, Field(max_length=4000)]
DateText = Annotated[str, Field(max_length=10)]
FormId = Annotated[str, Field(max_length=100)]


class CampaignPatch(Body):
    title: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    description: Text | None = None
    instructions: Text | None = None
    status: CampaignStatus | None = None
    public: bool | None = None
    forms: Annotated[list[FormId], Field(max_length=50)] | None = None
    dataset: Annotated[str, Field(max_length=48)] | None = None
    starts: DateText | None = None
    ends: DateText | None = None
    lock_minutes: Annotated[int, Field(ge=5, le=10080)] | None = None


class CampaignIn(Body):
    slug: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,47}$")]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    organisation: Annotated[str, Field(max_length=48)]
    grid: Grid = Grid.SQUARE
    cell_size: Annotated[float, Field(ge=svc.MIN_CELL_M, le=svc.MAX_CELL_M)]
    #: one of: a GeoJSON geometry, a bbox, or features of a dataset
    area: dict[str, Any] | None = None
    bbox: Annotated[list[float], Field(min_length=4, max_length=4)] | None = None
    area_dataset: Annotated[str, Field(max_length=48)] | None = None
    where_field: Annotated[str, Field(max_length=100)] | None = None
    where_value: Annotated[str, Field(max_length=200)] | None = None
    description: Text = ""
    instructions: Text = ""
    status: CampaignStatus = CampaignStatus.DRAFT
    public: bool = True
    forms: Annotated[list[FormId], Field(max_length=50)] = []
    dataset: Annotated[str, Field(max_length=48)] | None = None
    starts: DateText = ""
    ends: DateText = ""
    lock_minutes: Annotated[int, Field(ge=5, le=10080)] = 120


class CommentIn(Body):
    comment: Annotated[str, Field(max_length=2000)] = ""


def _json(c: Campaign, who: Principal, base: str, store: Any) -> dict[str, Any]:
    """A campaign as its viewer may see it: the forms' ids only for those who
    may fill them, the target dataset only for those who may read it."""
    collect = access.can_see_campaign_forms(who, c)
    return {
        "slug": c.slug,
        "title": c.title,
        "description": c.description,
        "instructions": c.instructions,
        "organisation": c.organisation,
        "status": c.status.value,
        "public": c.public,
        "grid": c.grid.value,
        "cell_size": c.cell_size,
        "forms": list(c.forms) if collect else [],
        "dataset": svc.shown_dataset(store, who, c),
        "starts": c.starts,
        "ends": c.ends,
        "lock_minutes": c.lock_minutes,
        "created": c.created,
        "rights": {
            "map": access.can_map_campaign(who, c),
            "validate": access.can_validate_campaign(who, c),
            "manage": access.can_manage_campaign(who, c.organisation),
            "collect": collect,
        },
        "links": [
            {"rel": "tasks", "href": f"{base}/api/campaigns/{c.slug}/tasks"},
            {"rel": "stats", "href": f"{base}/api/campaigns/{c.slug}/stats"},
            {"rel": "alternate", "href": f"{base}/campagnes/{c.slug}"},
        ],
    }


def cell_json(cell: Cell, who: Principal, c: Campaign) -> dict[str, Any]:
    """A cell as a GeoJSON feature; names only for validators (and oneself)."""
    names = access.can_see_contributors(who, c)
    now = dt.datetime.now(dt.UTC)
    holder = cell.holder(now)

    def name(user: str) -> str:
        return user if names or (user and user == who.username) else ""

    return {
        "type": "Feature",
        "id": cell.cell,
        "geometry": shapely.geometry.mapping(shapely.from_wkt(cell.geometry_wkt)),
        "properties": {
            "cell": cell.cell,
            "state": cell.shown_state(now).value,
            "settled": cell.state.value,
            "locked_by": name(holder),
            "mine": bool(holder) and holder == who.username,
            "locked_until": cell.locked_until if holder else "",
            "lock_kind": cell.lock_kind if holder else "",
            "mapped_by": name(cell.mapped_by),
            "mapped_by_me": bool(cell.mapped_by) and cell.mapped_by == who.username,
            "validated_by": name(cell.validated_by),
        },
    }


@router.get("/campaigns")
def list_campaigns(ctx: Ctx, who: Caller, base: Base) -> dict[str, Any]:
    """The campaigns the caller may see, with their progress."""
    return {
        "campaigns": [
            _json(c, who, base, ctx.store)
            | {"progress": svc.progress(ctx.store.list_cells(c.slug))}
            for c in svc.visible_campaigns(ctx.store, who)
        ]
    }


@router.post("/campaigns", status_code=201)
async def create_campaign(
    body: CampaignIn, ctx: Ctx, who: Caller, base: Base
) -> dict[str, Any]:
    """Create a campaign and its grid of cells (admins and stewards of the
    organisation). Give the area as ``area`` (GeoJSON), ``bbox`` or
    ``area_dataset`` + ``where_field`` + ``where_value``."""
    access.require_signed_in(who)
    draft = Campaign(
        slug=body.slug,
        title=body.title,
        organisation=body.organisation,
        area_wkt="",
        grid=body.grid,
        cell_size=body.cell_size,
        description=body.description,
        instructions=body.instructions,
        status=body.status,
        public=body.public,
        forms=tuple(body.forms),
        dataset=body.dataset,
        starts=body.starts,
        ends=body.ends,
        lock_minutes=body.lock_minutes,
    )

    def made_with_grid() -> tuple[Campaign, int]:
        # reading the area's dataset and making the grid take a moment
        return svc.create_campaign(ctx.store, draft, _area(ctx, who, body), actor=who)

    made, n = await run_in_threadpool(made_with_grid)
    return _json(made, who, base, ctx.store) | {"cells": n}


def _area(ctx: Any, who: Principal, body: CampaignIn) -> Any:
    given = [body.area is not None, body.bbox is not None, bool(body.area_dataset)]
    if sum(given) != 1:
        raise InvalidInput("area: give exactly one of area, bbox or area_dataset")
    if body.area is not None:
        return svc.area_from_geojson(body.area)
    if body.bbox is not None:
        return svc.area_from_bbox(tuple(body.bbox))  # type: ignore[arg-type]
    if not body.where_field or body.where_value is None:
        raise InvalidInput("area_dataset: give where_field and where_value too")
    return svc.area_from_dataset(
        ctx.store, who, body.area_dataset or "", body.where_field, body.where_value
    )


@router.get("/campaigns/{slug}")
def get_campaign(slug: CampaignSlug, ctx: Ctx, who: Caller, base: Base) -> dict:
    """A campaign with its progress and attached forms (listed to those who
    may fill them; ``forms_for_members``: it has forms the caller may not
    fill — sign in or join the organisation)."""
    c = svc.visible(ctx.store, who, slug)
    shown = svc.shown_forms(ctx.store, who, c)
    forms = [
        {
            "form_id": f.form_id,
            "title": f.title,
            "href": f"{base}/formulaires/{f.form_id}",
        }
        for f in shown
    ]
    hidden = not shown and bool(svc.campaign_forms(ctx.store, c))
    progress = svc.progress(ctx.store.list_cells(slug))
    return _json(c, who, base, ctx.store) | {
        "progress": progress,
        "attached_forms": forms,
        "forms_for_members": hidden,
    }


@router.patch("/campaigns/{slug}")
def patch_campaign(
    slug: CampaignSlug, body: CampaignPatch, ctx: Ctx, who: Caller, base: Base
) -> dict[str, Any]:
    """Change status (draft, active, closed), texts, dates, forms."""
    access.require_signed_in(who)
    changes = body.model_dump(exclude_unset=True)
    # null clears the target dataset; for every other member it means "no change"
    changes = {k: v for k, v in changes.items() if v is not None or k == "dataset"}
    if "forms" in changes:
        changes["forms"] = tuple(changes["forms"])
    changed = svc.update_campaign(ctx.store, who, slug, **changes)
    return _json(changed, who, base, ctx.store)


@router.get("/campaigns/{slug}/tasks")
def campaign_tasks(slug: CampaignSlug, ctx: Ctx, who: Caller) -> dict[str, Any]:
    """The cells as GeoJSON, with their state (at most a few thousand)."""
    c = svc.visible(ctx.store, who, slug)
    cells = ctx.store.list_cells(slug)
    return {
        "type": "FeatureCollection",
        "features": [cell_json(cell, who, c) for cell in cells],
    }


@router.get("/campaigns/{slug}/tasks/{cell}")
def campaign_task(
    slug: CampaignSlug, cell: CellNumber, ctx: Ctx, who: Caller
) -> dict[str, Any]:
    """One cell with its history."""
    c = svc.visible(ctx.store, who, slug)
    feature = cell_json(ctx.store.get_cell(slug, cell), who, c)
    return feature | {"history": svc.history(ctx.store, who, c, cell)}


@router.post("/campaigns/{slug}/tasks/{cell}/{action}")
def cell_action(
    slug: CampaignSlug,
    cell: CellNumber,
    action: Literal["lock", "unlock", "mapped", "validate", "invalidate"],
    ctx: Ctx,
    who: Caller,
    body: CommentIn | None = None,
) -> dict[str, Any]:
    """Take a cell (lock), give it up (unlock), mark it mapped, validate or
    invalidate it. 409 when someone else holds it."""
    comment = body.comment if body else ""
    done = svc.act(ctx.store, who, slug, cell, Action(action), comment=comment)
    c = ctx.store.get_campaign(slug)
    return cell_json(done.cell, who, c) | {
        "history": svc.history(ctx.store, who, c, cell)
    }


@router.get("/campaigns/{slug}/stats")
def campaign_stats(slug: CampaignSlug, ctx: Ctx, who: Caller) -> dict[str, Any]:
    """Progress (by count of cells), activity per day, submissions through the
    campaign's forms, and per-contributor figures (names for validators and
    managers only; others see their own row)."""
    c = svc.visible(ctx.store, who, slug)
    return svc.stats(ctx.store, who, c)

"""``/api/objectives`` and ``/api/roadmap``: the city's data programme.

Public programme information: everyone reads objectives and roadmap items
(datasets a caller may not read are left out, never named). Their owner's
(objectives) or responsible organisation's (roadmap) admins and stewards
make and change them. Indicators and suggested priorities are computed from
the caller's diagnostic.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from quartier import access
from quartier.domain.programme import (
    Indicator,
    Objective,
    ObjectiveStatus,
    Priority,
    RoadmapItem,
    RoadmapStatus,
)
from quartier.services import objectives as objectives_service
from quartier.services import roadmap as roadmap_service
from quartier.web.api_common import Body, Caller, Ctx

router = APIRouter(prefix="/api", tags=["Programme"])
Lang = Annotated[Literal["fr", "en"], Query(description="Langue des textes")]
ItemId = Annotated[
    str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$", description="Identifiant")
]


class IndicatorIn(Body):
    label: str = Field(max_length=200)
    source: str = Field(
        "",
        max_length=100,
        description="'' (valeur déclarée), 'score', ou 'level:', 'coverage:', "
        "'completeness:' suivi d'une entrée de la liste de référence",
        examples=["coverage:batiments"],
    )
    target: float | None = Field(None, ge=-1e12, le=1e12)
    unit: str = Field("", max_length=20)
    value: float | None = Field(
        None, ge=-1e12, le=1e12, description="Valeur déclarée (sans source)"
    )


class ObjectiveIn(Body):
    id: str = Field(max_length=63, examples=["connaitre-le-bati"])
    title: str = Field(max_length=200)
    description: str = Field("", max_length=4000)
    owner: str = Field(max_length=100, description="Organisation responsable")
    indicators: list[IndicatorIn] = Field(default_factory=list, max_length=20)
    datasets: list[str] = Field(default_factory=list, max_length=100)
    status: Literal["proposed", "active"] = "proposed"


class ObjectiveChange(Body):
    """Only the fields sent change (null: unchanged)."""

    title: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=4000)
    indicators: list[IndicatorIn] | None = Field(None, max_length=20)
    datasets: list[str] | None = Field(None, max_length=100)


class ObjectiveStatusIn(Body):
    status: Literal["proposed", "active", "achieved", "abandoned"]
    note: str = Field("", max_length=1000)


class RoadmapIn(Body):
    id: str = Field(max_length=63, examples=["adresses-2027"])
    title: str = Field(max_length=200)
    description: str = Field("", max_length=4000)
    organisation: str = Field(max_length=100, description="Organisation responsable")
    steward: str = Field("", max_length=63, description="Gestionnaire (utilisateur)")
    target_date: str = Field("", max_length=10, examples=["2027-06-30"])
    reference: str = Field("", max_length=100, description="Entrée de référence")
    dataset: str = Field("", max_length=100)
    objective: str = Field("", max_length=63)
    priority: Literal["high", "medium", "low"] | None = None
    status: Literal["planned", "in_progress"] = "planned"


class RoadmapChange(Body):
    """Only the fields sent change (null: unchanged; "": cleared)."""

    title: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=4000)
    steward: str | None = Field(None, max_length=63)
    target_date: str | None = Field(None, max_length=10)
    reference: str | None = Field(None, max_length=100)
    dataset: str | None = Field(None, max_length=100)
    objective: str | None = Field(None, max_length=63)


class RoadmapStatusIn(Body):
    status: Literal["planned", "in_progress", "done", "dropped"]
    note: str = Field("", max_length=1000)


class PriorityIn(Body):
    priority: Literal["high", "medium", "low"] | None = Field(
        None, description="null : suivre la suggestion"
    )


class SuggestionsIn(Body):
    organisation: str = Field(max_length=100)
    steward: str = Field("", max_length=63)
    target_date: str = Field("", max_length=10)


async def _figures(ctx: Ctx, who: Caller) -> objectives_service.Figures:
    return await run_in_threadpool(objectives_service.figures, ctx.store, who)


# ------------------------------------------------------------ objectives
@router.get("/objectives")
async def list_objectives(ctx: Ctx, who: Caller, lang: Lang = "fr") -> dict[str, Any]:
    """The city's objectives, indicators computed from the diagnostic."""
    fig = await _figures(ctx, who)
    cat = objectives_service.catalogue_of(ctx.store)
    return {
        "objectives": [
            objectives_service.as_json(ctx.store, who, o, fig, lang=lang, catalogue=cat)
            for o in ctx.store.list_objectives()
        ]
    }


@router.post("/objectives", status_code=201)
async def add_objective(body: ObjectiveIn, ctx: Ctx, who: Caller) -> dict[str, Any]:
    """A new objective (admins and stewards of its owner organisation)."""
    p = access.require_signed_in(who)
    draft = Objective(
        id=body.id,
        title=body.title,
        owner=body.owner,
        description=body.description,
        indicators=tuple(Indicator(**i.model_dump()) for i in body.indicators),
        datasets=tuple(body.datasets),
        status=ObjectiveStatus(body.status),
    )
    made = await run_in_threadpool(objectives_service.create, ctx.store, p, draft)
    fig = await _figures(ctx, p)
    return objectives_service.as_json(ctx.store, p, made, fig, history=True)


@router.get("/objectives/{objective_id}")
async def one_objective(
    objective_id: ItemId, ctx: Ctx, who: Caller, lang: Lang = "fr"
) -> dict[str, Any]:
    """One objective with its status history."""
    o = ctx.store.get_objective(objective_id)
    fig = await _figures(ctx, who)
    return objectives_service.as_json(ctx.store, who, o, fig, lang=lang, history=True)


@router.patch("/objectives/{objective_id}")
async def change_objective(
    objective_id: ItemId, body: ObjectiveChange, ctx: Ctx, who: Caller
) -> dict[str, Any]:
    """Change title, description, indicators or datasets (owner's editors)."""
    p = access.require_signed_in(who)
    changes: dict[str, Any] = body.model_dump(exclude_none=True)
    if "indicators" in changes:
        changes["indicators"] = tuple(Indicator(**i) for i in changes["indicators"])
    if "datasets" in changes:
        changes["datasets"] = tuple(changes["datasets"])
    done = await run_in_threadpool(
        lambda: objectives_service.update(ctx.store, p, objective_id, **changes)
    )
    fig = await _figures(ctx, p)
    return objectives_service.as_json(ctx.store, p, done, fig, history=True)


@router.post("/objectives/{objective_id}/status")
async def objective_status(
    objective_id: ItemId, body: ObjectiveStatusIn, ctx: Ctx, who: Caller
) -> dict[str, Any]:
    """Change an objective's status (recorded with who and when)."""
    p = access.require_signed_in(who)
    done = objectives_service.set_status(
        ctx.store, p, objective_id, ObjectiveStatus(body.status), body.note
    )
    fig = await _figures(ctx, p)
    return objectives_service.as_json(ctx.store, p, done, fig, history=True)


# --------------------------------------------------------------- roadmap
@router.get("/roadmap")
async def list_roadmap(ctx: Ctx, who: Caller, lang: Lang = "fr") -> dict[str, Any]:
    """Roadmap items by target date, with suggested and chosen priority."""
    fig = await _figures(ctx, who)
    cat = objectives_service.catalogue_of(ctx.store)
    return {
        "priority_rule": roadmap_service.PRIORITY_RULE_EN
        if lang == "en"
        else roadmap_service.PRIORITY_RULE,
        "items": [
            roadmap_service.as_json(ctx.store, who, i, fig, lang=lang, catalogue=cat)
            for i in ctx.store.list_roadmap_items()
        ],
    }


@router.post("/roadmap", status_code=201)
async def add_roadmap_item(body: RoadmapIn, ctx: Ctx, who: Caller) -> dict[str, Any]:
    """A new roadmap item (admins and stewards of the responsible organisation)."""
    p = access.require_signed_in(who)
    draft = RoadmapItem(
        id=body.id,
        title=body.title,
        description=body.description,
        organisation=body.organisation,
        steward=body.steward,
        target_date=body.target_date,
        reference=body.reference,
        dataset=body.dataset,
        objective=body.objective,
        priority=Priority(body.priority) if body.priority else None,
        status=RoadmapStatus(body.status),
    )
    made = await run_in_threadpool(roadmap_service.create, ctx.store, p, draft)
    fig = await _figures(ctx, p)
    return roadmap_service.as_json(ctx.store, p, made, fig, history=True)


@router.get("/roadmap/suggestions")
async def roadmap_suggestions(
    ctx: Ctx, who: Caller, lang: Lang = "fr"
) -> dict[str, Any]:
    """One proposed item per reference entry at maturity ≤ 2 (nothing written)."""
    fig = await _figures(ctx, who)
    return {"suggestions": roadmap_service.suggestions(ctx.store, fig, lang)}


@router.post("/roadmap/suggestions", status_code=201)
async def add_roadmap_suggestions(
    body: SuggestionsIn, ctx: Ctx, who: Caller
) -> dict[str, Any]:
    """Put the suggestions not yet on the roadmap on it (idempotent)."""
    p = access.require_signed_in(who)
    fig = await _figures(ctx, p)
    made = await run_in_threadpool(
        lambda: roadmap_service.add_suggestions(
            ctx.store,
            p,
            fig,
            organisation=body.organisation,
            steward=body.steward,
            target_date=body.target_date,
        )
    )
    return {"added": [i.id for i in made]}


@router.get("/roadmap/{item_id}")
async def one_roadmap_item(
    item_id: ItemId, ctx: Ctx, who: Caller, lang: Lang = "fr"
) -> dict[str, Any]:
    """One roadmap item with its status history."""
    item = ctx.store.get_roadmap_item(item_id)
    fig = await _figures(ctx, who)
    return roadmap_service.as_json(ctx.store, who, item, fig, lang=lang, history=True)


@router.patch("/roadmap/{item_id}")
async def change_roadmap_item(
    item_id: ItemId, body: RoadmapChange, ctx: Ctx, who: Caller
) -> dict[str, Any]:
    """Change title, description, steward, target date or links (editors of
    the responsible organisation)."""
    p = access.require_signed_in(who)
    changes = body.model_dump(exclude_none=True)
    done = await run_in_threadpool(
        lambda: roadmap_service.update(ctx.store, p, item_id, **changes)
    )
    fig = await _figures(ctx, p)
    return roadmap_service.as_json(ctx.store, p, done, fig, history=True)


@router.post("/roadmap/{item_id}/status")
async def roadmap_status(
    item_id: ItemId, body: RoadmapStatusIn, ctx: Ctx, who: Caller
) -> dict[str, Any]:
    """Change a roadmap item's status (recorded with who and when)."""
    p = access.require_signed_in(who)
    done = roadmap_service.set_status(
        ctx.store, p, item_id, RoadmapStatus(body.status), body.note
    )
    fig = await _figures(ctx, p)
    return roadmap_service.as_json(ctx.store, p, done, fig, history=True)


@router.post("/roadmap/{item_id}/priority")
async def roadmap_priority(
    item_id: ItemId, body: PriorityIn, ctx: Ctx, who: Caller
) -> dict[str, Any]:
    """Choose the priority, overriding the suggestion (null: follow it again)."""
    p = access.require_signed_in(who)
    done = roadmap_service.set_priority(
        ctx.store,
        p,
        item_id,
        Priority(body.priority) if body.priority else None,
    )
    fig = await _figures(ctx, p)
    return roadmap_service.as_json(ctx.store, p, done, fig, history=True)

"""The roadmap: datasets and capabilities to build, each with a responsible
organisation, a steward (a user), a target date, a priority suggested from
the diagnostic's gaps (:func:`quartier.domain.programme.suggest_priority`)
that a person may override, and a status with its history.

``suggestions`` proposes one item per reference entry at maturity 2 or
less; ``add_suggestions`` creates those not yet on the roadmap (running it
twice adds nothing the second time).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from quartier import access
from quartier.access import Principal
from quartier.domain import Dataset
from quartier.domain.programme import (
    SUGGEST_UP_TO,
    Priority,
    RoadmapItem,
    RoadmapStatus,
    check_item,
    check_move,
    chosen_priority,
    overdue,
    quarter,
    suggest_priority,
    suggested_id,
)
from quartier.errors import Conflict, InvalidInput, NotFound
from quartier.services import objectives as obj
from quartier.services.objectives import Figures
from quartier.storage.base import SqlStore, now

PRIORITY_RULE = (
    "Priorité suggérée d'après le diagnostic : haute quand la donnée de "
    "référence est au niveau 0 ou 1 et compte pour la gestion des crises ; "
    "moyenne au niveau 0 ou 1 pour l'urbanisme seul, ou au niveau 2 ; basse "
    "aux niveaux 3 et 4. Sans donnée de référence, pas de suggestion. La "
    "priorité retenue est celle choisie par une personne, sinon la suggestion."
)
PRIORITY_RULE_EN = (
    "Priority suggested from the diagnostic: high when the reference entry is "
    "at level 0 or 1 and matters for crisis management; medium at level 0 or "
    "1 for planning only, or at level 2; low at levels 3 and 4. No reference "
    "entry, no suggestion. The chosen priority is the one a person set, else "
    "the suggestion."
)


def suggested(item: RoadmapItem, fig: Figures) -> Priority | None:
    entry = fig.entries.get(item.reference) if item.reference else None
    return None if entry is None else suggest_priority(entry.level, entry.category)


def as_json(
    store: SqlStore,
    who: Principal,
    item: RoadmapItem,
    fig: Figures,
    *,
    lang: str = "fr",
    catalogue: dict[str, Dataset] | None = None,
    today: dt.date | None = None,
    history: bool = False,
) -> dict[str, Any]:
    cat = catalogue if catalogue is not None else obj.catalogue_of(store)
    editor = access.can_edit_programme(who, item.organisation)
    hint = suggested(item, fig)
    entry = fig.entries.get(item.reference)
    shown = access.programme_datasets(who, [item.dataset] if item.dataset else [], cat)
    out: dict[str, Any] = {
        "id": item.id,
        "title": item.title,
        "description": item.description,
        "organisation": item.organisation,
        "organisation_name": obj.org_name(store, item.organisation),
        "steward_name": _display_name(store, item.steward),
        "has_steward": bool(item.steward),
        "target_date": item.target_date or None,
        "quarter": quarter(item.target_date) or None,
        "overdue": overdue(item, today or dt.date.today()),
        "reference": item.reference or None,
        "reference_title": fig.entry_title(item.reference, lang)
        if item.reference
        else None,
        "level": entry.level if entry else None,
        "dataset": (
            {"slug": shown[0], "title": cat[shown[0]].title} if shown else None
        ),
        "objective": _objective(store, item.objective),
        "suggested_priority": hint.value if hint else None,
        "priority": chosen_priority(item.priority, hint).value,
        "priority_set": item.priority is not None,
        "status": item.status.value,
        "created": item.created,
        "updated": item.updated,
        "can_edit": editor,
    }
    if editor:
        out["steward"] = item.steward or None
    if history:
        out["history"] = obj.events_json(
            store.list_programme_events("roadmap", item.id), authors=editor
        )
    return out


# ------------------------------------------------------------- use-cases
def create(store: SqlStore, who: Principal, draft: RoadmapItem) -> RoadmapItem:
    item = check_item(draft)
    obj.require_org(store, "organisation", item.organisation)
    access.require_edit_programme(
        who, item.organisation, f"the roadmap of {item.organisation!r}"
    )
    _check_links(store, who, item)
    made = store.add_roadmap_item(
        replace(item, created=now(), author=who.label, updated_by=who.label)
    )
    store.audit(actor=who.label, action="roadmap.add", target=item.id, detail={})
    return made


def update(
    store: SqlStore, who: Principal, item_id: str, **changes: Any
) -> RoadmapItem:
    """Change an item's title, description, steward, target date or links
    (the responsible organisation's admins and stewards); the links that
    change are checked as at creation."""
    item = store.get_roadmap_item(item_id)
    access.require_edit_programme(who, item.organisation, f"roadmap item {item.id!r}")
    check_item(replace(item, **changes))
    _check_links(
        store,
        who,
        replace(
            RoadmapItem(item.id, item.title, item.organisation), **changes
        ),  # fmt: skip
    )
    if not changes:
        return item
    done = store.update_roadmap_item(item.id, actor=who.label, at=now(), **changes)
    store.audit(
        actor=who.label, action="roadmap.edit", target=item.id,
        detail={"fields": sorted(changes)},
    )  # fmt: skip
    return done


def _check_links(store: SqlStore, who: Principal, item: RoadmapItem) -> None:
    if item.steward:
        try:
            user = store.get_user(item.steward)
        except NotFound:
            raise InvalidInput(f"steward: no user {item.steward!r}") from None
        if item.organisation not in user.roles:
            raise InvalidInput(
                f"steward: {item.steward!r} has no role in {item.organisation!r}"
            )
    if item.reference and item.reference not in obj.reference_keys(store):
        raise InvalidInput(f"reference: no reference entry {item.reference!r}")
    if item.dataset:
        obj.require_datasets(store, who, [item.dataset])
    if item.objective:
        try:
            store.get_objective(item.objective)
        except NotFound:
            raise InvalidInput(f"objective: no objective {item.objective!r}") from None


def set_status(
    store: SqlStore,
    who: Principal,
    item_id: str,
    status: RoadmapStatus,
    note: str = "",
) -> RoadmapItem:
    item = store.get_roadmap_item(item_id)
    access.require_edit_programme(who, item.organisation, f"roadmap item {item.id!r}")
    if not check_move(item.status, status):
        return item  # a retry: nothing changes, no event
    done = store.set_roadmap_status(
        item.id, status, expected=item.status, actor=who.label, at=now(), note=note
    )
    store.audit(
        actor=who.label, action=f"roadmap.{status.value}", target=item.id, detail={}
    )
    return done


def set_priority(
    store: SqlStore, who: Principal, item_id: str, priority: Priority | None
) -> RoadmapItem:
    item = store.get_roadmap_item(item_id)
    access.require_edit_programme(who, item.organisation, f"roadmap item {item.id!r}")
    if item.priority == priority:
        return item
    return store.set_roadmap_priority(item.id, priority, actor=who.label, at=now())


# ------------------------------------------------------------ suggestions
def suggestions(store: SqlStore, fig: Figures, lang: str = "fr") -> list[dict]:
    """One proposed item per reference entry at maturity ≤ 2, with its
    suggested priority and whether the roadmap already has one."""
    planned = {i.reference for i in store.list_roadmap_items() if i.reference}
    out = []
    for key, e in fig.entries.items():
        if e.level > SUGGEST_UP_TO:
            continue
        hint = suggest_priority(e.level, e.category)
        assert hint is not None
        out.append(
            {
                "id": suggested_id(key),
                "reference": key,
                "title": fig.entry_title(key, lang),
                "level": e.level,
                "category": e.category,
                "suggested_priority": hint.value,
                "on_roadmap": key in planned,
            }
        )
    order = {p.value: n for n, p in enumerate(Priority)}
    return sorted(out, key=lambda s: (order[s["suggested_priority"]], s["level"]))


def add_suggestions(
    store: SqlStore,
    who: Principal,
    fig: Figures,
    *,
    organisation: str,
    steward: str = "",
    target_date: str = "",
) -> list[RoadmapItem]:
    """Create the suggested items not yet on the roadmap (idempotent)."""
    made = []
    for s in suggestions(store, fig):
        if s["on_roadmap"]:
            continue
        title = fig.entries[s["reference"]].title
        draft = RoadmapItem(
            id=s["id"],
            title=f"Constituer : {title}",
            organisation=organisation,
            steward=steward,
            target_date=target_date,
            reference=s["reference"],
        )
        try:
            made.append(create(store, who, draft))
        except Conflict:  # the id is taken by an item of another entry
            continue
    return made


def _display_name(store: SqlStore, username: str) -> str | None:
    """The steward's display name; never the account name (personal data:
    shown to the item's editors only, as ``steward``)."""
    if not username:
        return None
    try:
        user = store.get_user(username)
    except NotFound:
        return None
    return user.display_name or None


def _objective(store: SqlStore, objective_id: str) -> dict[str, str] | None:
    if not objective_id:
        return None
    try:
        o = store.get_objective(objective_id)
    except NotFound:
        return None
    return {"id": o.id, "title": o.title}

"""Objectives: what the city expects from digitisation, each owned by an
organisation, measured by indicators and tied to datasets.

An indicator with a diagnostic source (the overall score, or one reference
entry's level, coverage or completeness) is computed for each reader from
:func:`quartier.services.diagnostic.cached_diagnostic` — never typed. The
datasets an objective names are shown only to those who may read them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from quartier import access
from quartier.access import Principal
from quartier.domain import Dataset
from quartier.domain.programme import (
    Indicator,
    Objective,
    ObjectiveStatus,
    StatusEvent,
    check_move,
    check_objective,
    default_unit,
    parse_source,
    progress,
)
from quartier.errors import InvalidInput, NotFound
from quartier.services import diagnostic as diag
from quartier.services import reference as reference_list
from quartier.storage.base import SqlStore, now


@dataclass(frozen=True)
class EntryFigures:
    """What the reader's diagnostic says of one reference entry."""

    key: str
    title: str
    title_en: str
    category: str
    level: int
    coverage: float | None  # percent
    completeness: float | None  # percent


@dataclass(frozen=True)
class Figures:
    #: None: no diagnostic (a store with no workspace yet)
    score: float | None
    entries: dict[str, EntryFigures]

    def entry_title(self, key: str, lang: str = "fr") -> str:
        e = self.entries.get(key)
        if e is None:
            return key
        return (e.title_en or e.title) if lang == "en" else e.title


def figures(store: SqlStore, who: Principal) -> Figures:
    """The diagnostic's figures as ``who`` may see them (cached per reader);
    none before the workspace exists (nothing can be computed yet)."""
    try:
        d = diag.cached_diagnostic(store, who)
    except NotFound:
        return Figures(score=None, entries={})
    return Figures(
        score=d.score,
        entries={
            r.entry.key: EntryFigures(
                key=r.entry.key,
                title=r.entry.title,
                title_en=r.entry.title_en,
                category=r.entry.category,
                level=r.level,
                coverage=_pct(r.facts.coverage),
                completeness=_pct(r.facts.completeness),
            )
            for r in d.entries
        },
    )


def reference_keys(store: SqlStore) -> set[str]:
    return {e.key for e in reference_list.entries(store)}


def current_value(ind: Indicator, fig: Figures) -> float | None:
    """The indicator's value now: computed from the diagnostic, or reported."""
    metric, key = parse_source(ind.source)
    if metric == "":
        return ind.value
    if metric == "score":
        return fig.score
    entry = fig.entries.get(key)
    if entry is None:
        return None
    return {
        "level": float(entry.level),
        "coverage": entry.coverage,
        "completeness": entry.completeness,
    }[metric]


# ------------------------------------------------------------------ output
def as_json(
    store: SqlStore,
    who: Principal,
    o: Objective,
    fig: Figures,
    *,
    lang: str = "fr",
    catalogue: dict[str, Dataset] | None = None,
    history: bool = False,
) -> dict[str, Any]:
    cat = catalogue if catalogue is not None else catalogue_of(store)
    shown = access.programme_datasets(who, o.datasets, cat)
    out: dict[str, Any] = {
        "id": o.id,
        "title": o.title,
        "description": o.description,
        "owner": o.owner,
        "owner_name": org_name(store, o.owner),
        "status": o.status.value,
        "indicators": [_indicator(i, fig, lang) for i in o.indicators],
        "datasets": [{"slug": s, "title": cat[s].title} for s in shown],
        "created": o.created,
        "updated": o.updated,
        "can_edit": access.can_edit_programme(who, o.owner),
    }
    if history:
        out["history"] = events_json(
            store.list_programme_events("objective", o.id),
            authors=access.can_edit_programme(who, o.owner),
        )
    return out


def _indicator(ind: Indicator, fig: Figures, lang: str) -> dict[str, Any]:
    current = current_value(ind, fig)
    _, key = parse_source(ind.source)
    return {
        "label": ind.label,
        "source": ind.source or None,
        "source_title": fig.entry_title(key, lang) if key else None,
        "computed": bool(ind.source),
        "current": current,
        "target": ind.target,
        "unit": ind.unit or default_unit(ind.source),
        "progress": _round(progress(current, ind.target)),
    }


def events_json(events: list[StatusEvent], *, authors: bool) -> list[dict[str, Any]]:
    """The status history; who made each change is shown to editors only."""
    return [
        {
            "at": e.at,
            "from": e.from_status or None,
            "to": e.to_status,
            "note": e.note,
            **({"actor": e.actor} if authors else {}),
        }
        for e in events
    ]


# ------------------------------------------------------------- use-cases
def create(store: SqlStore, who: Principal, draft: Objective) -> Objective:
    """Check and store an objective of ``draft.owner`` (its admins/stewards)."""
    o = check_objective(draft)
    require_org(store, "owner", o.owner)
    access.require_edit_programme(who, o.owner, f"the objectives of {o.owner!r}")
    keys = reference_keys(store)
    for n, ind in enumerate(o.indicators, start=1):
        _, key = parse_source(ind.source)
        if key and key not in keys:
            raise InvalidInput(f"indicators[{n}].source: no reference entry {key!r}")
    require_datasets(store, who, o.datasets)
    made = store.add_objective(
        replace(o, created=now(), author=who.label, updated_by=who.label)
    )
    store.audit(actor=who.label, action="objective.add", target=o.id, detail={})
    return made


def update(
    store: SqlStore, who: Principal, objective_id: str, **changes: Any
) -> Objective:
    """Change an objective's title, description, indicators or datasets (its
    owner's admins and stewards). Linked datasets the editor may not read
    stay linked: they cannot be seen, so they cannot be removed by mistake."""
    o = store.get_objective(objective_id)
    access.require_edit_programme(who, o.owner, f"objective {o.id!r}")
    if "datasets" in changes:
        cat = catalogue_of(store)
        kept = [s for s in o.datasets if s not in access.programme_datasets(
            who, o.datasets, cat)]  # fmt: skip
        changes["datasets"] = tuple(dict.fromkeys([*changes["datasets"], *kept]))
    new = check_objective(replace(o, **changes))
    _check_indicators(store, new)
    require_datasets(store, who, [s for s in new.datasets if s not in o.datasets])
    if not changes:
        return o
    done = store.update_objective(o.id, actor=who.label, at=now(), **changes)
    store.audit(
        actor=who.label, action="objective.edit", target=o.id,
        detail={"fields": sorted(changes)},
    )  # fmt: skip
    return done


def _check_indicators(store: SqlStore, o: Objective) -> None:
    keys = reference_keys(store)
    for n, ind in enumerate(o.indicators, start=1):
        _, key = parse_source(ind.source)
        if key and key not in keys:
            raise InvalidInput(f"indicators[{n}].source: no reference entry {key!r}")


def set_status(
    store: SqlStore,
    who: Principal,
    objective_id: str,
    status: ObjectiveStatus,
    note: str = "",
) -> Objective:
    o = store.get_objective(objective_id)
    access.require_edit_programme(who, o.owner, f"objective {o.id!r}")
    if not check_move(o.status, status):
        return o  # a retry: nothing changes, no event
    done = store.set_objective_status(
        o.id, status, expected=o.status, actor=who.label, at=now(), note=note
    )
    store.audit(
        actor=who.label, action=f"objective.{status.value}", target=o.id, detail={}
    )
    return done


def require_datasets(store: SqlStore, who: Principal, slugs: Any) -> None:
    """Every named dataset must exist and be readable by ``who`` (a hidden
    one is "unknown", as everywhere)."""
    for slug in slugs:
        try:
            ds = store.get_dataset(slug)
        except NotFound:
            raise InvalidInput(f"datasets: no dataset {slug!r}") from None
        if not access.can_read(who, ds):
            raise InvalidInput(f"datasets: no dataset {slug!r}")


def require_org(store: SqlStore, field: str, slug: str) -> None:
    try:
        store.get_organisation(slug)
    except NotFound:
        raise InvalidInput(f"{field}: no organisation {slug!r}") from None


def org_name(store: SqlStore, slug: str) -> str:
    try:
        return store.get_organisation(slug).name
    except NotFound:
        return slug


def catalogue_of(store: SqlStore) -> dict[str, Dataset]:
    return {d.slug: d for d in store.list_datasets()}


def _pct(share: float | None) -> float | None:
    return None if share is None else round(100 * share, 1)


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 3)

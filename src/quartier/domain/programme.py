"""The city's data programme: objectives (what the city expects from
digitisation) and the roadmap (datasets and capabilities to build, each
with a responsible organisation and a steward).

Pure rules: status transitions, the priority suggested from the
diagnostic's gaps, indicator sources and progress, and input checks.

**Suggested priority** (the rule the pages state): for a roadmap item tied
to an entry of the reference list, from that entry's maturity level in the
diagnostic:

- *high* — level 0 or 1 and the entry matters for crisis management
  (category ``crisis`` or ``both``);
- *medium* — level 0 or 1 for planning only, or level 2;
- *low* — level 3 or 4.

An item with no reference entry (a capability) has no suggestion. The
chosen priority is the one a person set, else the suggestion, else medium.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from quartier.errors import Conflict, InvalidInput

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


class ObjectiveStatus(StrEnum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    ACHIEVED = "achieved"
    ABANDONED = "abandoned"


class RoadmapStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DROPPED = "dropped"


class Priority(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


#: status → the statuses it may change to (a finished item may be reopened)
OBJECTIVE_MOVES: dict[ObjectiveStatus, frozenset[ObjectiveStatus]] = {
    ObjectiveStatus.PROPOSED: frozenset(
        {ObjectiveStatus.ACTIVE, ObjectiveStatus.ABANDONED}
    ),
    ObjectiveStatus.ACTIVE: frozenset(
        {ObjectiveStatus.ACHIEVED, ObjectiveStatus.ABANDONED}
    ),
    ObjectiveStatus.ACHIEVED: frozenset({ObjectiveStatus.ACTIVE}),
    ObjectiveStatus.ABANDONED: frozenset({ObjectiveStatus.PROPOSED}),
}
ROADMAP_MOVES: dict[RoadmapStatus, frozenset[RoadmapStatus]] = {
    RoadmapStatus.PLANNED: frozenset(
        {RoadmapStatus.IN_PROGRESS, RoadmapStatus.DONE, RoadmapStatus.DROPPED}
    ),
    RoadmapStatus.IN_PROGRESS: frozenset(
        {RoadmapStatus.PLANNED, RoadmapStatus.DONE, RoadmapStatus.DROPPED}
    ),
    RoadmapStatus.DONE: frozenset({RoadmapStatus.IN_PROGRESS}),
    RoadmapStatus.DROPPED: frozenset({RoadmapStatus.PLANNED}),
}


def check_move(current: StrEnum, target: StrEnum) -> bool:
    """May an objective or roadmap item go from ``current`` to ``target``?

    Returns False when nothing changes (a retry: no new event), True for an
    allowed move; raises :class:`Conflict` for a move the rules forbid.

    >>> check_move(RoadmapStatus.PLANNED, RoadmapStatus.DONE)
    True
    >>> check_move(RoadmapStatus.DONE, RoadmapStatus.DONE)
    False
    """
    if current == target:
        return False
    moves: dict = (
        OBJECTIVE_MOVES if isinstance(current, ObjectiveStatus) else ROADMAP_MOVES
    )
    if target not in moves[current]:
        allowed = ", ".join(sorted(s.value for s in moves[current]))
        raise Conflict(
            f"status: {current.value} cannot become {target.value} (allowed: {allowed})"
        )
    return True


def suggest_priority(level: int | None, category: str = "both") -> Priority | None:
    """The priority the diagnostic's gap suggests (module rule).

    >>> suggest_priority(1, "crisis"), suggest_priority(1, "planning")
    (<Priority.HIGH: 'high'>, <Priority.MEDIUM: 'medium'>)
    >>> suggest_priority(2), suggest_priority(4), suggest_priority(None)
    (<Priority.MEDIUM: 'medium'>, <Priority.LOW: 'low'>, None)
    """
    if level is None:
        return None
    if level <= 1:
        return Priority.HIGH if category in ("crisis", "both") else Priority.MEDIUM
    if level == 2:
        return Priority.MEDIUM
    return Priority.LOW


def chosen_priority(chosen: Priority | None, suggested: Priority | None) -> Priority:
    """The priority that counts: a person's choice, else the suggestion."""
    return chosen or suggested or Priority.MEDIUM


#: maturity up to which ``roadmap suggest`` proposes an item
SUGGEST_UP_TO = 2


# ------------------------------------------------------------ indicators
#: computed sources: the overall score, or one entry's level/coverage/completeness
METRICS = ("level", "coverage", "completeness")


@dataclass(frozen=True)
class Indicator:
    """One measure of an objective. With a ``source`` its current value is
    computed from the diagnostic for each reader; without one, ``value`` is
    what a person reported."""

    label: str
    #: "" (reported), "score", or "<metric>:<entry key>" (metric in METRICS)
    source: str = ""
    target: float | None = None
    unit: str = ""
    value: float | None = None


def parse_source(source: str) -> tuple[str, str]:
    """``"coverage:batiments"`` → ``("coverage", "batiments")``; ``"score"`` →
    ``("score", "")``; ``""`` → ``("", "")``."""
    if source in ("", "score"):
        return source, ""
    metric, _, key = source.partition(":")
    if metric not in METRICS or not key:
        raise InvalidInput(
            f"indicators: source {source!r} is 'score' or one of "
            f"{', '.join(m + ':ENTRY' for m in METRICS)}"
        )
    return metric, key


def default_unit(source: str) -> str:
    metric, _ = parse_source(source)
    return {"score": "/100", "level": "/4", "coverage": "%", "completeness": "%"}.get(
        metric, ""
    )


def progress(current: float | None, target: float | None) -> float | None:
    """Share of the target reached, between 0 and 1 (None: unknown).

    >>> progress(30, 60), progress(90, 60), progress(None, 60)
    (0.5, 1.0, None)
    """
    if current is None or target is None or target <= 0:
        return None
    return max(0.0, min(1.0, current / target))


# ------------------------------------------------------------ objectives
@dataclass(frozen=True)
class Objective:
    id: str
    title: str
    owner: str  # organisation slug
    description: str = ""
    indicators: tuple[Indicator, ...] = ()
    datasets: tuple[str, ...] = ()
    status: ObjectiveStatus = ObjectiveStatus.PROPOSED
    created: str = ""
    author: str = ""
    updated: str = ""
    updated_by: str = ""


@dataclass(frozen=True)
class RoadmapItem:
    id: str
    title: str
    organisation: str  # responsible organisation
    steward: str = ""  # a user name
    target_date: str = ""  # ISO date
    reference: str = ""  # entry key of the essential datasets list
    dataset: str = ""  # dataset slug
    objective: str = ""  # objective id
    priority: Priority | None = None  # chosen by a person (None: suggested)
    description: str = ""
    status: RoadmapStatus = RoadmapStatus.PLANNED
    created: str = ""
    author: str = ""
    updated: str = ""
    updated_by: str = ""


@dataclass(frozen=True)
class StatusEvent:
    """One status change of an objective or roadmap item (append-only)."""

    kind: str  # "objective" or "roadmap"
    subject: str
    at: str
    actor: str
    from_status: str
    to_status: str
    note: str = ""


def _check_id(value: str) -> None:
    if not _ID.match(value):
        raise InvalidInput(
            f"id {value!r}: lower-case letters, digits, '-' and '_' (up to 63)"
        )


def check_objective(o: Objective) -> Objective:
    """Refuse an objective that cannot mean anything, naming the field."""
    _check_id(o.id)
    if not o.title.strip():
        raise InvalidInput("title: an objective needs a title")
    if not o.owner.strip():
        raise InvalidInput("owner: name the organisation that owns the objective")
    for n, ind in enumerate(o.indicators, start=1):
        if not ind.label.strip():
            raise InvalidInput(f"indicators[{n}].label: an indicator needs a label")
        parse_source(ind.source)
        if ind.source and ind.value is not None:
            raise InvalidInput(
                f"indicators[{n}].value: computed from the diagnostic, not typed"
            )
    if len(set(o.datasets)) != len(o.datasets):
        raise InvalidInput("datasets: a dataset is named twice")
    return o


def check_item(item: RoadmapItem) -> RoadmapItem:
    _check_id(item.id)
    if not item.title.strip():
        raise InvalidInput("title: a roadmap item needs a title")
    if not item.organisation.strip():
        raise InvalidInput("organisation: name the responsible organisation")
    if item.target_date:
        try:
            date.fromisoformat(item.target_date)
        except ValueError:
            raise InvalidInput(
                f"target_date: {item.target_date!r} is not a date (YYYY-MM-DD)"
            ) from None
    return item


def overdue(item: RoadmapItem, today: date) -> bool:
    """Past its target date and neither done nor dropped."""
    if not item.target_date or item.status in (
        RoadmapStatus.DONE,
        RoadmapStatus.DROPPED,
    ):
        return False
    return date.fromisoformat(item.target_date) < today


def quarter(iso_date: str) -> str:
    """``"2027-05-02"`` → ``"2027-T2"`` ("" without a date)."""
    if not iso_date:
        return ""
    d = date.fromisoformat(iso_date)
    return f"{d.year}-T{(d.month - 1) // 3 + 1}"


def suggested_id(entry_key: str) -> str:
    """The id ``roadmap suggest --add`` gives the item of an entry."""
    return "donnee-" + re.sub(r"[^a-z0-9_-]", "-", entry_key.lower())[:56]

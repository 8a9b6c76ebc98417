"""Mapping campaigns and their task cells: dataclasses and the cell rules.

A campaign covers an area with a grid of cells (squares or hexagons); each
cell is a small task. Its *settled* state is one of ``ready``, ``mapped``,
``validated``, ``invalidated``; on top of it, a contributor may hold a
*lock* for a while (default two hours). A lock whose time has passed counts
as no lock at all — evaluated when the cell is read, no background job.

=================  ==============================  ==========================
action             allowed when                    result
=================  ==============================  ==========================
``lock``           no live lock; state ready or    locked (for mapping)
                   invalidated
``lock``           no live lock; state mapped;     locked (for validation)
                   a validator who did not map it
``unlock``         the caller holds the lock       back to the settled state
``mapped``         the caller holds a mapping      mapped (by the caller)
                   lock
``validate``       the caller holds a validation   validated
                   lock
``invalidate``     the caller holds a validation   invalidated (to remap)
                   lock
=================  ==============================  ==========================

A contributor holds at most one lock per campaign at a time (as in the HOT
Tasking Manager). Every action is an event (who, when, from → to, comment)
appended to the cell's history; nothing is overwritten.

An action repeated by the person who just did it (a retry after a lost
reply: ``lock`` by the lock's holder, or the same ``unlock``, ``mapped``,
``validate`` or ``invalidate`` as the cell's last event) changes nothing and
records nothing: it returns the cell as it is. A refusal names who holds the
cell only when the caller may see contributors' names.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from enum import StrEnum

from quartier.errors import Conflict, InvalidInput, PermissionDenied

_SLUG = re.compile(r"^[a-z][a-z0-9_-]{0,47}$")
#: the most cells a campaign's grid may have
MAX_CELLS = 3000
DEFAULT_LOCK_MINUTES = 120


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    CLOSED = "closed"


class Grid(StrEnum):
    SQUARE = "square"
    HEXAGON = "hexagon"


class CellState(StrEnum):
    READY = "ready"
    LOCKED = "locked"  # shown only: a live lock over a settled state
    MAPPED = "mapped"
    VALIDATED = "validated"
    INVALIDATED = "invalidated"


class Action(StrEnum):
    LOCK = "lock"
    UNLOCK = "unlock"
    MAPPED = "mapped"
    VALIDATE = "validate"
    INVALIDATE = "invalidate"


@dataclass(frozen=True)
class Campaign:
    slug: str
    title: str
    organisation: str
    area_wkt: str
    grid: Grid
    cell_size: float
    description: str = ""
    instructions: str = ""
    status: CampaignStatus = CampaignStatus.DRAFT
    #: visible to everyone once active (else to the organisation's members)
    public: bool = True
    forms: tuple[str, ...] = ()
    dataset: str | None = None
    starts: str = ""
    ends: str = ""
    lock_minutes: int = DEFAULT_LOCK_MINUTES
    created: str = ""
    author: str = ""


@dataclass(frozen=True)
class Cell:
    campaign: str
    cell: int
    geometry_wkt: str
    state: CellState = CellState.READY
    locked_by: str = ""
    locked_until: str = ""
    #: ``mapping`` or ``validation`` while locked
    lock_kind: str = ""
    mapped_by: str = ""
    validated_by: str = ""
    updated: str = ""

    def holder(self, now: dt.datetime) -> str:
        """Who holds a live lock on the cell ('' when nobody)."""
        if self.locked_by and self.locked_until and _when(self.locked_until) > now:
            return self.locked_by
        return ""

    def shown_state(self, now: dt.datetime) -> CellState:
        return CellState.LOCKED if self.holder(now) else self.state


@dataclass(frozen=True)
class CellEvent:
    campaign: str
    cell: int
    at: str
    actor: str
    action: Action
    from_state: CellState
    to_state: CellState
    comment: str = ""
    id: int = 0


@dataclass(frozen=True)
class Outcome:
    """A transition's result: the cell after it and the event recording it
    (``repeated``: a retry of the cell's last event; nothing to write)."""

    cell: Cell
    event: CellEvent
    repeated: bool = False


def check_slug(slug: str) -> str:
    """
    >>> check_slug("kisenso-2026")
    'kisenso-2026'
    """
    if not _SLUG.match(slug):
        raise InvalidInput(
            f"slug {slug!r}: expected lower-case letters, digits, '-' or '_' "
            "(48 at most), starting with a letter"
        )
    return slug


def stamp(when: dt.datetime) -> str:
    """The stored form of a time: UTC, ISO 8601, to the second."""
    return when.astimezone(dt.UTC).isoformat(timespec="seconds")


def _when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def transition(
    cell: Cell,
    action: Action,
    *,
    user: str,
    now: dt.datetime,
    may_validate: bool,
    lock_minutes: int = DEFAULT_LOCK_MINUTES,
    comment: str = "",
    last: CellEvent | None = None,
    names: bool = False,
) -> Outcome:
    """Apply ``action`` by ``user`` to ``cell`` at ``now`` (pure).

    ``last`` is the cell's latest event: the same action by the same user,
    the cell still as it left it, is a retry and changes nothing
    (``Outcome.repeated``). ``names``: may the user see who holds the cell
    (else a conflict says "another contributor").

    Raises :class:`Conflict` when the cell is not in a state for it (someone
    else holds it, already validated…) and :class:`PermissionDenied` when the
    user may not do it (validating one's own mapping, no validator right).
    """
    holder = cell.holder(now)
    if last is not None and _repeated(cell, action, user, holder, last):
        return Outcome(cell, last, repeated=True)
    shown = cell.shown_state(now)
    at = stamp(now)
    base = replace(cell, updated=at)
    free = replace(base, locked_by="", locked_until="", lock_kind="")
    if action is Action.LOCK:
        if holder:
            raise _held(cell, holder, names)
        kind = _lock_kind(cell, user=user, may_validate=may_validate)
        until = stamp(now + dt.timedelta(minutes=lock_minutes))
        after = replace(base, locked_by=user, locked_until=until, lock_kind=kind)
        return _outcome(after, action, user, at, shown, CellState.LOCKED, comment)
    if holder != user:
        if holder:
            raise _held(cell, holder, names)
        raise Conflict(
            f"cell {cell.cell}: take the cell first (lock it); a lock expires "
            f"after {lock_minutes} minutes"
        )
    if action is Action.UNLOCK:
        return _outcome(free, action, user, at, shown, cell.state, comment)
    if action is Action.MAPPED:
        if cell.lock_kind != "mapping":
            raise Conflict(f"cell {cell.cell} is locked for validation, not mapping")
        after = replace(free, state=CellState.MAPPED, mapped_by=user, validated_by="")
        return _outcome(after, action, user, at, shown, after.state, comment)
    if cell.lock_kind != "validation":
        raise Conflict(f"cell {cell.cell} is locked for mapping: mark it mapped first")
    state = CellState.VALIDATED if action is Action.VALIDATE else CellState.INVALIDATED
    after = replace(free, state=state, validated_by=user)
    return _outcome(after, action, user, at, shown, state, comment)


def _repeated(
    cell: Cell, action: Action, user: str, holder: str, last: CellEvent
) -> bool:
    """Is ``action`` by ``user`` a retry of the cell's last event? (Taking
    a cell one already holds always is.)"""
    if action is Action.LOCK:
        return holder == user
    if last.actor != user or last.action is not action:
        return False
    return not holder and cell.state is last.to_state


def _held(cell: Cell, holder: str, names: bool) -> Conflict:
    who = holder if names else "another contributor"
    return Conflict(f"cell {cell.cell} is locked by {who} until {cell.locked_until}")


def _lock_kind(cell: Cell, *, user: str, may_validate: bool) -> str:
    if cell.state in (CellState.READY, CellState.INVALIDATED):
        return "mapping"
    if cell.state is CellState.VALIDATED:
        raise Conflict(f"cell {cell.cell} is already validated")
    if not may_validate:
        raise PermissionDenied(
            f"cell {cell.cell} is mapped: only a validator (moderator, steward or "
            "admin of the campaign's organisation) may take it to validate it"
        )
    if cell.mapped_by == user:
        raise PermissionDenied(
            f"cell {cell.cell} was mapped by {user}: someone else must validate it"
        )
    return "validation"


def _outcome(
    after: Cell,
    action: Action,
    user: str,
    at: str,
    before: CellState,
    to: CellState,
    comment: str,
) -> Outcome:
    event = CellEvent(after.campaign, after.cell, at, user, action, before, to, comment)
    return Outcome(after, event)

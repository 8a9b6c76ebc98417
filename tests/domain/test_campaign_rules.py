"""The task cell rules as a table: state, action, who → result or refusal."""

from __future__ import annotations

import datetime as dt

import pytest

from quartier.domain.campaigns import Action, Cell, CellState, check_slug, transition
from quartier.errors import Conflict, InvalidInput, PermissionDenied

NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
LATER = "2026-11-26T11:00:00+00:00"
PAST = "2026-11-26T09:00:00+00:00"


def cell(state="ready", locked_by="", until="", kind="", mapped_by="") -> Cell:
    return Cell(
        "c",
        1,
        "POINT (0 0)",
        state=CellState(state),
        locked_by=locked_by,
        locked_until=until,
        lock_kind=kind,
        mapped_by=mapped_by,
    )


A, B = "awa", "bena"  # a contributor, a validator
OK = [
    # (cell before, action, user, may_validate) → (shown before, state after, lock kind)
    (cell(), "lock", A, False, "ready", "ready", "mapping"),
    (cell("invalidated"), "lock", A, False, "invalidated", "invalidated", "mapping"),
    (
        cell(locked_by=B, until=PAST, kind="mapping"),
        "lock",
        A,
        False,
        "ready",
        "ready",
        "mapping",
    ),
    (
        cell(locked_by=A, until=LATER, kind="mapping"),
        "unlock",
        A,
        False,
        "locked",
        "ready",
        "",
    ),
    (
        cell(locked_by=A, until=LATER, kind="mapping"),
        "mapped",
        A,
        False,
        "locked",
        "mapped",
        "",
    ),
    (
        cell("invalidated", A, LATER, "mapping"),
        "mapped",
        A,
        False,
        "locked",
        "mapped",
        "",
    ),
    (cell("mapped", mapped_by=A), "lock", B, True, "mapped", "mapped", "validation"),
    (
        cell("mapped", B, LATER, "validation", A),
        "validate",
        B,
        True,
        "locked",
        "validated",
        "",
    ),
    (
        cell("mapped", B, LATER, "validation", A),
        "invalidate",
        B,
        True,
        "locked",
        "invalidated",
        "",
    ),
    (
        cell("mapped", B, LATER, "validation", A),
        "unlock",
        B,
        True,
        "locked",
        "mapped",
        "",
    ),
]


@pytest.mark.parametrize(
    ("before", "action", "user", "may", "shown", "state", "kind"), OK
)
def test_allowed(before, action, user, may, shown, state, kind) -> None:
    out = transition(before, Action(action), user=user, now=NOW, may_validate=may)
    assert out.cell.state == state
    assert out.cell.lock_kind == kind
    assert out.event.from_state == shown and out.event.actor == user
    if action == "lock":
        assert out.cell.locked_by == user
        assert out.cell.locked_until == "2026-11-26T12:00:00+00:00"  # 2 h default
        assert out.event.to_state == "locked"
    else:
        assert out.cell.locked_by == "" and out.event.to_state == state


REFUSED = [
    (
        cell(locked_by=B, until=LATER, kind="mapping"),
        "lock",
        A,
        False,
        Conflict,
        "locked by another contributor until",
    ),
    (cell("validated"), "lock", B, True, Conflict, "already validated"),
    (cell("mapped", mapped_by=A), "lock", A, True, PermissionDenied, "someone else"),
    (cell("mapped", mapped_by=A), "lock", "carl", False, PermissionDenied, "validator"),
    (cell(), "mapped", A, False, Conflict, "take the cell first"),
    (
        cell(locked_by=A, until=PAST, kind="mapping"),
        "mapped",
        A,
        False,
        Conflict,
        "take the cell",
    ),
    (
        cell(locked_by=B, until=LATER, kind="mapping"),
        "unlock",
        A,
        False,
        Conflict,
        "locked by another contributor until",
    ),
    (
        cell(locked_by=A, until=LATER, kind="mapping"),
        "validate",
        A,
        True,
        Conflict,
        "mark it mapped",
    ),
    (
        cell("mapped", B, LATER, "validation", A),
        "mapped",
        B,
        True,
        Conflict,
        "for validation",
    ),
    (cell("mapped", mapped_by=A), "validate", B, True, Conflict, "take the cell first"),
]


@pytest.mark.parametrize(
    ("before", "action", "user", "may", "error", "message"), REFUSED
)
def test_refused(before, action, user, may, error, message) -> None:
    with pytest.raises(error, match=message):
        transition(before, Action(action), user=user, now=NOW, may_validate=may)


def test_holder_named_only_to_who_may_see_names() -> None:
    held = cell(locked_by=B, until=LATER, kind="mapping")
    for action in (Action.LOCK, Action.MAPPED):
        with pytest.raises(Conflict) as refused:
            transition(held, action, user=A, now=NOW, may_validate=False)
        assert "bena" not in str(refused.value)
        with pytest.raises(Conflict, match="locked by bena until"):
            transition(held, action, user=A, now=NOW, may_validate=False, names=True)


def test_a_retry_of_the_last_event_changes_nothing() -> None:
    """The same action again by who just did it (a lost reply) is a no-op."""
    first = transition(cell(), Action.LOCK, user=A, now=NOW, may_validate=False)
    again = transition(
        first.cell, Action.LOCK, user=A, now=NOW, may_validate=False, last=first.event
    )
    assert again.repeated and again.cell == first.cell and again.event == first.event
    for action in (Action.MAPPED, Action.UNLOCK):
        done = transition(
            first.cell, action, user=A, now=NOW, may_validate=False, last=first.event
        )
        assert not done.repeated
        retry = transition(
            done.cell, action, user=A, now=NOW, may_validate=False, last=done.event
        )
        assert retry.repeated and retry.cell == done.cell
        with pytest.raises(Conflict, match="take the cell first"):  # someone else
            transition(
                done.cell, action, user=B, now=NOW, may_validate=True, last=done.event
            )
    mapped = transition(
        first.cell, Action.MAPPED, user=A, now=NOW, may_validate=False
    ).cell
    taken = transition(mapped, Action.LOCK, user=B, now=NOW, may_validate=True)
    for action in (Action.VALIDATE, Action.INVALIDATE):
        done = transition(
            taken.cell, action, user=B, now=NOW, may_validate=True, last=taken.event
        )
        retry = transition(
            done.cell, action, user=B, now=NOW, may_validate=True, last=done.event
        )
        assert retry.repeated and retry.cell == done.cell
    # the cell moved on since (taken by a validator): not a retry any more
    with pytest.raises(Conflict):
        transition(
            taken.cell,
            Action.MAPPED,
            user=A,
            now=NOW,
            may_validate=False,
            last=taken.event,
        )


def test_lock_minutes_and_comment() -> None:
    out = transition(
        cell(),
        Action.LOCK,
        user=A,
        now=NOW,
        may_validate=False,
        lock_minutes=30,
        comment="go",
    )
    assert out.cell.locked_until == "2026-11-26T10:30:00+00:00"
    assert out.event.comment == "go"
    assert cell(locked_by=A, until=out.cell.locked_until).shown_state(NOW) == "locked"
    later = NOW + dt.timedelta(minutes=31)
    assert out.cell.shown_state(later) == "ready"  # expired: counts as ready


def test_slug() -> None:
    assert check_slug("kisenso-2026") == "kisenso-2026"
    with pytest.raises(InvalidInput, match="slug"):
        check_slug("Kisenso 2026")

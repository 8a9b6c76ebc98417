"""The programme's pure rules: suggested priority, status moves, checks."""

from __future__ import annotations

from datetime import date

import pytest

from quartier.domain.programme import (
    Indicator,
    Objective,
    ObjectiveStatus,
    Priority,
    RoadmapItem,
    RoadmapStatus,
    check_item,
    check_move,
    check_objective,
    chosen_priority,
    default_unit,
    overdue,
    parse_source,
    progress,
    quarter,
    suggest_priority,
    suggested_id,
)
from quartier.errors import Conflict, InvalidInput

H, M, L = Priority.HIGH, Priority.MEDIUM, Priority.LOW


@pytest.mark.parametrize(
    ("level", "category", "expected"),
    [
        (0, "crisis", H),
        (1, "crisis", H),
        (0, "both", H),
        (1, "both", H),
        (0, "planning", M),
        (1, "planning", M),
        (2, "crisis", M),
        (2, "planning", M),
        (2, "both", M),
        (3, "crisis", L),
        (4, "both", L),
        (3, "planning", L),
        (None, "crisis", None),
    ],
)
def test_the_suggested_priority_follows_the_stated_rule(level, category, expected):
    assert suggest_priority(level, category) is expected


def test_a_person_s_choice_beats_the_suggestion():
    assert chosen_priority(L, H) is L
    assert chosen_priority(None, H) is H
    assert chosen_priority(None, None) is M


OS, RS = ObjectiveStatus, RoadmapStatus


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (OS.PROPOSED, OS.ACTIVE),
        (OS.PROPOSED, OS.ABANDONED),
        (OS.ACTIVE, OS.ACHIEVED),
        (OS.ACTIVE, OS.ABANDONED),
        (OS.ACHIEVED, OS.ACTIVE),
        (OS.ABANDONED, OS.PROPOSED),
        (RS.PLANNED, RS.IN_PROGRESS),
        (RS.PLANNED, RS.DONE),
        (RS.PLANNED, RS.DROPPED),
        (RS.IN_PROGRESS, RS.DONE),
        (RS.IN_PROGRESS, RS.PLANNED),
        (RS.DONE, RS.IN_PROGRESS),
        (RS.DROPPED, RS.PLANNED),
    ],
)
def test_allowed_moves(current, target):
    assert check_move(current, target) is True


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (OS.PROPOSED, OS.ACHIEVED),
        (OS.ACHIEVED, OS.ABANDONED),
        (OS.ABANDONED, OS.ACTIVE),
        (RS.DONE, RS.DROPPED),
        (RS.DONE, RS.PLANNED),
        (RS.DROPPED, RS.DONE),
    ],
)
def test_forbidden_moves_name_what_is_allowed(current, target):
    with pytest.raises(Conflict, match="allowed"):
        check_move(current, target)


def test_the_same_status_again_is_a_retry_not_a_move():
    assert check_move(OS.ACTIVE, OS.ACTIVE) is False
    assert check_move(RS.DONE, RS.DONE) is False


def test_indicator_sources_and_progress():
    assert parse_source("coverage:batiments") == ("coverage", "batiments")
    assert parse_source("score") == ("score", "")
    assert parse_source("") == ("", "")
    for bad in ("coverage", "volume:batiments", "level:"):
        with pytest.raises(InvalidInput, match="source"):
            parse_source(bad)
    assert default_unit("score") == "/100"
    assert default_unit("level:routes") == "/4"
    assert default_unit("") == ""
    assert progress(25, 100) == 0.25
    assert progress(120, 100) == 1.0
    assert progress(-5, 100) == 0.0
    assert progress(None, 100) is None and progress(5, None) is None
    assert progress(5, 0) is None


def test_objective_checks_name_the_field():
    good = Objective("o1", "Titre", "ville")
    assert check_objective(good) is good
    cases = [
        (Objective("O 1", "T", "ville"), "id"),
        (Objective("o1", " ", "ville"), "title"),
        (Objective("o1", "T", ""), "owner"),
        (Objective("o1", "T", "v", indicators=(Indicator(""),)), r"indicators\[1\]"),
        (
            Objective("o1", "T", "v", indicators=(Indicator("x", "score", value=3),)),
            "value",
        ),
        (Objective("o1", "T", "v", datasets=("a", "a")), "datasets"),
    ]
    for o, field in cases:
        with pytest.raises(InvalidInput, match=field):
            check_objective(o)


def test_item_checks_overdue_and_quarters():
    with pytest.raises(InvalidInput, match="target_date"):
        check_item(RoadmapItem("r1", "T", "ville", target_date="30/06/2027"))
    with pytest.raises(InvalidInput, match="organisation"):
        check_item(RoadmapItem("r1", "T", ""))
    item = RoadmapItem("r1", "T", "ville", target_date="2026-03-31")
    assert overdue(item, date(2026, 4, 1))
    assert not overdue(item, date(2026, 3, 31))
    done = RoadmapItem("r1", "T", "ville", target_date="2026-03-31", status=RS.DONE)
    assert not overdue(done, date(2027, 1, 1))
    assert not overdue(RoadmapItem("r1", "T", "ville"), date(2027, 1, 1))
    assert quarter("2027-05-02") == "2027-T2"
    assert quarter("2027-12-31") == "2027-T4"
    assert quarter("") == ""
    assert suggested_id("alea_inondation") == "donnee-alea_inondation"

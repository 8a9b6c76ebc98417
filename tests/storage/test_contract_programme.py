"""Objectives, roadmap items and their status history, on both stores."""

from __future__ import annotations

import pytest

from quartier.domain import ActorKind, Organisation
from quartier.domain.programme import (
    Indicator,
    Objective,
    ObjectiveStatus,
    Priority,
    RoadmapItem,
    RoadmapStatus,
)
from quartier.errors import Conflict, InvalidInput, NotFound


@pytest.fixture
def orgs(store):  # type: ignore[no-untyped-def]
    store.ensure_schema()
    store.add_organisation(Organisation("ville", "Ville", ActorKind.LOCAL_AUTHORITY))
    return store


def test_objectives_are_kept_listed_and_change_status_with_history(orgs):
    store = orgs
    o = Objective(
        "connaitre-le-bati",
        "Connaître le bâti",
        "ville",
        description="Tous les bâtiments",
        indicators=(
            Indicator("Couverture", "coverage:batiments", 95.0, "%"),
            Indicator("Agents formés", value=3.0, target=10.0),
        ),
        datasets=("batiments", "routes"),
        created="2026-01-01T00:00:00Z",
        author="cheffe",
    )
    store.add_objective(o)
    got = store.get_objective("connaitre-le-bati")
    assert got.indicators == o.indicators
    assert got.datasets == ("batiments", "routes")
    assert (got.status, got.updated, got.updated_by) == (
        ObjectiveStatus.PROPOSED,
        "2026-01-01T00:00:00Z",
        "cheffe",
    )
    with pytest.raises(Conflict):
        store.add_objective(o)
    done = store.set_objective_status(
        o.id,
        ObjectiveStatus.ACTIVE,
        expected=ObjectiveStatus.PROPOSED,
        actor="maire",
        at="2026-02-01",
        note="voté",
    )
    assert (done.status, done.updated, done.updated_by) == (
        ObjectiveStatus.ACTIVE,
        "2026-02-01",
        "maire",
    )
    # a change from a status that is no longer current is refused, unchanged
    with pytest.raises(Conflict, match="now active"):
        store.set_objective_status(
            o.id,
            ObjectiveStatus.ABANDONED,
            expected=ObjectiveStatus.PROPOSED,
            actor="x",
            at="2026-02-02",
        )
    events = store.list_programme_events("objective", o.id)
    assert [(e.from_status, e.to_status, e.actor, e.note) for e in events] == [
        ("", "proposed", "cheffe", ""),
        ("proposed", "active", "maire", "voté"),
    ]
    assert [x.id for x in store.list_objectives()] == [o.id]
    assert [x.id for x in store.list_objectives(status=ObjectiveStatus.ACTIVE)] == [
        o.id
    ]
    assert store.list_objectives(status=ObjectiveStatus.ACHIEVED) == []
    with pytest.raises(NotFound):
        store.get_objective("autre")
    with pytest.raises(NotFound):
        store.set_objective_status(
            "autre",
            ObjectiveStatus.ACTIVE,
            expected=ObjectiveStatus.PROPOSED,
            actor="x",
            at="x",
        )


def test_roadmap_items_status_priority_and_filters(orgs):
    store = orgs
    a = RoadmapItem(
        "adresses",
        "Adressage",
        "ville",
        steward="cheffe",
        target_date="2027-06-30",
        reference="adresses",
        dataset="adresses",
        objective="connaitre-le-bati",
        priority=Priority.HIGH,
        description="Nommer les rues",
        created="2026-01-01T00:00:00Z",
        author="cheffe",
    )
    b = RoadmapItem("ecoles", "Écoles", "ville", target_date="2026-12-31",
                    created="2026-01-02T00:00:00Z")  # fmt: skip
    store.add_roadmap_item(a)
    store.add_roadmap_item(b)
    with pytest.raises(Conflict):
        store.add_roadmap_item(b)
    got = store.get_roadmap_item("adresses")
    assert got == a.__class__(**{**a.__dict__, "updated": a.created,
                                 "updated_by": "cheffe"})  # fmt: skip
    assert store.get_roadmap_item("ecoles").priority is None
    # by target date
    assert [i.id for i in store.list_roadmap_items()] == ["ecoles", "adresses"]
    assert [i.id for i in store.list_roadmap_items(reference="adresses")] == [
        "adresses"
    ]
    done = store.set_roadmap_status(
        "ecoles",
        RoadmapStatus.IN_PROGRESS,
        expected=RoadmapStatus.PLANNED,
        actor="cheffe",
        at="2026-03-01",
    )
    assert done.status is RoadmapStatus.IN_PROGRESS
    with pytest.raises(Conflict):
        store.set_roadmap_status(
            "ecoles",
            RoadmapStatus.DONE,
            expected=RoadmapStatus.PLANNED,
            actor="cheffe",
            at="2026-03-02",
        )
    assert [i.id for i in store.list_roadmap_items(status=RoadmapStatus.PLANNED)] == [
        "adresses"
    ]
    assert [e.to_status for e in store.list_programme_events("roadmap", "ecoles")] == [
        "planned",
        "in_progress",
    ]
    assert store.list_programme_events("objective", "ecoles") == []
    chosen = store.set_roadmap_priority("ecoles", Priority.LOW, actor="m", at="t")
    assert (chosen.priority, chosen.updated_by) == (Priority.LOW, "m")
    back = store.set_roadmap_priority("ecoles", None, actor="m", at="t2")
    assert back.priority is None
    for call in (
        lambda: store.get_roadmap_item("rien"),
        lambda: store.set_roadmap_priority("rien", None, actor="m", at="t"),
        lambda: store.set_roadmap_status(
            "rien",
            RoadmapStatus.DONE,
            expected=RoadmapStatus.PLANNED,
            actor="m",
            at="t",
        ),
    ):
        with pytest.raises(NotFound):
            call()


def test_objectives_and_items_are_edited_field_by_field(orgs):
    store = orgs
    store.add_objective(Objective("o1", "Avant", "ville", created="t0"))
    done = store.update_objective(
        "o1",
        actor="cheffe",
        at="t1",
        title="Après",
        indicators=(Indicator("Score", "score", 80.0),),
        datasets=("batiments",),
    )
    assert (done.title, done.indicators[0].source, done.datasets) == (
        "Après",
        "score",
        ("batiments",),
    )
    assert (done.updated, done.updated_by, done.description) == ("t1", "cheffe", "")
    store.add_roadmap_item(RoadmapItem("r1", "Avant", "ville", created="t0"))
    item = store.update_roadmap_item(
        "r1", actor="cheffe", at="t2", target_date="2027-01-01", reference="adresses"
    )
    assert (item.target_date, item.reference, item.title) == (
        "2027-01-01",
        "adresses",
        "Avant",
    )
    with pytest.raises(InvalidInput, match="owner"):
        store.update_objective("o1", actor="x", at="t", owner="ong")
    with pytest.raises(InvalidInput, match="status"):
        store.update_roadmap_item("r1", actor="x", at="t", status="done")
    with pytest.raises(NotFound):
        store.update_objective("rien", actor="x", at="t", title="T")
    with pytest.raises(NotFound):
        store.update_roadmap_item("rien", actor="x", at="t", title="T")
    # edits are not status changes: the history has only the creations
    assert len(store.list_programme_events("objective", "o1")) == 1

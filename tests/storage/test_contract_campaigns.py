"""The store contract for campaigns, task cells and their history (both stores)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading

import pytest

from quartier.domain import ActorKind, Organisation
from quartier.domain.campaigns import (
    Action,
    Campaign,
    CampaignStatus,
    CellState,
    Grid,
)
from quartier.errors import Conflict, NotFound, PermissionDenied

T0 = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
SQUARES = [f"POLYGON (({x} 0, {x + 1} 0, {x + 1} 1, {x} 1, {x} 0))" for x in range(4)]


def campaign(**kw) -> Campaign:
    values = dict(
        slug="kisenso",
        title="Cartographier Kisenso",
        organisation="ong",
        area_wkt="POLYGON ((0 0, 4 0, 4 1, 0 1, 0 0))",
        grid=Grid.SQUARE,
        cell_size=250.0,
        description="Les bâtiments",
        status=CampaignStatus.ACTIVE,
        forms=("profil",),
        lock_minutes=60,
        created="2026-11-26T09:00:00+00:00",
        author="ong",
    )
    values.update(kw)
    return Campaign(**values)


@pytest.fixture
def camp(store):
    store.ensure_schema()
    store.add_organisation(Organisation("ong", "ONG", ActorKind.NGO))
    store.add_campaign(campaign(), SQUARES)
    return store


def act(store, cell, action, user, *, at=T0, validator=False, comment="", names=False):
    return store.transition_cell(
        "kisenso",
        cell,
        Action(action),
        user=user,
        now=at,
        may_validate=validator,
        comment=comment,
        names=names,
    )


def test_add_get_list_update(camp) -> None:
    got = camp.get_campaign("kisenso")
    assert got == campaign()
    with pytest.raises(Conflict, match="already exists"):
        camp.add_campaign(campaign(), SQUARES)
    camp.add_campaign(campaign(slug="autre", created="2026-11-27T09:00:00+00:00"), [])
    assert [c.slug for c in camp.list_campaigns()] == ["autre", "kisenso"]
    closed = dataclasses.replace(
        got, status=CampaignStatus.CLOSED, title="Fini", area_wkt="POINT (9 9)"
    )
    after = camp.update_campaign(closed)
    assert after.status == "closed" and after.title == "Fini"
    assert after.area_wkt == got.area_wkt  # the area stays
    with pytest.raises(NotFound):
        camp.get_campaign("nope")
    with pytest.raises(NotFound):
        camp.update_campaign(campaign(slug="nope"))


def test_cells_numbered_from_one(camp) -> None:
    cells = camp.list_cells("kisenso")
    assert [c.cell for c in cells] == [1, 2, 3, 4]
    assert cells[0].geometry_wkt == SQUARES[0] and cells[0].state == "ready"
    assert camp.get_cell("kisenso", 2).geometry_wkt == SQUARES[1]
    with pytest.raises(NotFound, match="no cell 9"):
        camp.get_cell("kisenso", 9)
    assert camp.list_cells("nope") == []


def test_lifecycle_and_history(camp) -> None:
    act(camp, 1, "lock", "awa", comment="je prends")
    act(camp, 1, "mapped", "awa", at=T0 + dt.timedelta(minutes=10))
    act(camp, 1, "lock", "bena", validator=True, at=T0 + dt.timedelta(minutes=20))
    out = act(camp, 1, "invalidate", "bena", validator=True, comment="toits manquants")
    assert out.cell.state == "invalidated" and out.cell.validated_by == "bena"
    act(camp, 1, "lock", "awa", at=T0 + dt.timedelta(minutes=30))
    act(camp, 1, "mapped", "awa", at=T0 + dt.timedelta(minutes=40))
    act(camp, 1, "lock", "bena", validator=True, at=T0 + dt.timedelta(minutes=50))
    act(camp, 1, "validate", "bena", validator=True)
    cell = camp.get_cell("kisenso", 1)
    assert (cell.state, cell.mapped_by, cell.validated_by, cell.locked_by) == (
        "validated",
        "awa",
        "bena",
        "",
    )
    history = camp.list_cell_events("kisenso", cell=1)
    assert [(e.action, e.from_state, e.to_state) for e in history] == [
        ("lock", "ready", "locked"),
        ("mapped", "locked", "mapped"),
        ("lock", "mapped", "locked"),
        ("invalidate", "locked", "invalidated"),
        ("lock", "invalidated", "locked"),
        ("mapped", "locked", "mapped"),
        ("lock", "mapped", "locked"),
        ("validate", "locked", "validated"),
    ]
    assert history[0].comment == "je prends" and history[3].comment == "toits manquants"
    assert [e.id for e in history] == sorted(e.id for e in history)
    assert camp.list_cell_events("kisenso", cell=2) == []
    assert len(camp.list_cell_events("kisenso")) == 8


def test_refusals_change_nothing(camp) -> None:
    act(camp, 1, "lock", "awa")
    with pytest.raises(Conflict, match="locked by awa until 2026-11-26T11:00:00"):
        act(camp, 1, "lock", "bena", names=True)
    with pytest.raises(Conflict) as refused:
        act(camp, 1, "lock", "bena")
    assert "awa" not in str(refused.value)
    with pytest.raises(Conflict, match="one cell at a time"):
        act(camp, 2, "lock", "awa")
    with pytest.raises(NotFound):
        act(camp, 99, "lock", "bena")
    with pytest.raises(NotFound):
        camp.transition_cell(
            "nope", 1, Action.LOCK, user="x", now=T0, may_validate=False
        )
    assert len(camp.list_cell_events("kisenso")) == 1
    assert camp.get_cell("kisenso", 1).locked_by == "awa"


def test_lazy_expiry_with_an_injected_clock(camp) -> None:
    act(camp, 1, "lock", "awa")  # campaign's lock: 60 minutes
    assert camp.get_cell("kisenso", 1).shown_state(T0) == CellState.LOCKED
    late = T0 + dt.timedelta(minutes=61)
    assert camp.get_cell("kisenso", 1).shown_state(late) == CellState.READY
    with pytest.raises(Conflict, match="take the cell first"):
        act(camp, 1, "mapped", "awa", at=late)
    act(camp, 2, "lock", "awa", at=late)  # the expired lock does not count
    out = act(camp, 1, "lock", "bena", at=late)
    assert out.event.from_state == "ready"


def test_two_people_locking_at_once_exactly_one_wins(camp) -> None:
    barrier = threading.Barrier(6)
    results: list[str] = []

    def take(user: str) -> None:
        barrier.wait()
        try:
            act(camp, 3, "lock", user)
            results.append(f"won:{user}")
        except Conflict:
            results.append("lost")

    threads = [threading.Thread(target=take, args=(f"u{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [r for r in results if r.startswith("won")]
    assert len(winners) == 1 and results.count("lost") == 5
    assert camp.get_cell("kisenso", 3).locked_by == winners[0][4:]
    assert len(camp.list_cell_events("kisenso", cell=3)) == 1


def test_a_retry_after_a_lost_reply_changes_nothing(camp) -> None:
    """The same action again by who just did it returns the cell as it is,
    with no second event."""
    first = act(camp, 1, "lock", "awa")
    again = act(camp, 1, "lock", "awa", at=T0 + dt.timedelta(minutes=5))
    assert again.repeated and again.cell == first.cell
    assert camp.get_cell("kisenso", 1).locked_until == first.cell.locked_until
    mapped = act(camp, 1, "mapped", "awa")
    assert act(camp, 1, "mapped", "awa").cell == mapped.cell
    act(camp, 1, "lock", "bena", validator=True)
    done = act(camp, 1, "validate", "bena", validator=True)
    assert act(camp, 1, "validate", "bena", validator=True).cell == done.cell
    act(camp, 2, "lock", "awa")
    act(camp, 2, "unlock", "awa")
    assert act(camp, 2, "unlock", "awa").repeated
    with pytest.raises(Conflict, match="take the cell first"):
        act(camp, 2, "unlock", "bena")  # not who did it
    assert [e.action for e in camp.list_cell_events("kisenso")] == [
        "lock",
        "mapped",
        "lock",
        "validate",
        "lock",
        "unlock",
    ]


def test_status_checked_inside_the_transaction(camp) -> None:
    """A campaign closed (or back to draft) between the caller's check and
    the write: the cell does not change."""
    for status in (CampaignStatus.CLOSED, CampaignStatus.DRAFT):
        camp.update_campaign(campaign(status=status))
        with pytest.raises(Conflict, match=f"is {status.value}: its cells change"):
            act(camp, 1, "lock", "awa")
    assert camp.list_cell_events("kisenso") == []
    assert camp.get_cell("kisenso", 1).locked_by == ""
    camp.update_campaign(campaign())
    assert act(camp, 1, "lock", "awa").cell.locked_by == "awa"


def test_rights_checked_on_the_campaign_as_locked_for_the_write(camp) -> None:
    """``check`` sees the campaign as it is inside the transaction (here made
    non-public meanwhile) and its refusal changes nothing."""
    seen: list[Campaign] = []

    def public_only(c: Campaign) -> None:
        seen.append(c)
        if not c.public:
            raise PermissionDenied("not public any more")

    camp.update_campaign(campaign(public=False))
    with pytest.raises(PermissionDenied, match="not public any more"):
        camp.transition_cell(
            "kisenso",
            1,
            Action.LOCK,
            user="awa",
            now=T0,
            may_validate=False,
            check=public_only,
        )
    assert seen == [campaign(public=False)]
    assert camp.list_cell_events("kisenso") == []
    assert camp.get_cell("kisenso", 1).locked_by == ""

"""Capacities and access requests in the store, on both stores."""

from __future__ import annotations

import pytest

from quartier.domain.ecosystem import (
    AccessRequest,
    Capacity,
    CapacityKind,
    RequestStatus,
)
from quartier.errors import Conflict, NotFound


def test_capacities_are_added_listed_and_removed(store):
    store.ensure_schema()
    drone = store.add_capacity(
        Capacity(0, "unikin", CapacityKind.CAPACITY, label="Drone", created="t1")
    )
    roads = store.add_capacity(
        Capacity(0, "unikin", CapacityKind.PRODUCES, ref="routes", created="t2")
    )
    other = store.add_capacity(
        Capacity(0, "ong", CapacityKind.COULD_PRODUCE, label="Points d'eau")
    )
    assert drone.id != roads.id != other.id
    with pytest.raises(Conflict):
        store.add_capacity(Capacity(0, "unikin", CapacityKind.CAPACITY, label="Drone"))
    assert [c.id for c in store.list_capacities(organisation="unikin")] == [
        drone.id,
        roads.id,
    ]
    assert [c.label for c in store.list_capacities(kind=CapacityKind.CAPACITY)] == [
        "Drone"
    ]
    assert len(store.list_capacities()) == 3
    assert store.remove_capacity(drone.id).label == "Drone"
    with pytest.raises(NotFound):
        store.remove_capacity(drone.id)
    assert [c.id for c in store.list_capacities()] == [other.id, roads.id]


def _request(dataset: str = "zones", requester: str = "chercheur") -> AccessRequest:
    return AccessRequest(
        0, dataset, requester, "unikin", "Thèse", "2026-01-01", "2026-12-31",
        created="2026-11-26T10:00:00Z",
    )  # fmt: skip


def test_access_requests_are_decided_once(store):
    store.ensure_schema()
    first = store.add_access_request(_request())
    second = store.add_access_request(_request("routes", "autre"))
    assert first.status is RequestStatus.PENDING and first.decided_by == ""
    assert store.get_access_request(first.id) == first
    assert [r.id for r in store.list_access_requests()] == [second.id, first.id]
    assert [r.id for r in store.list_access_requests(requester="chercheur")] == [
        first.id
    ]
    assert [
        r.id for r in store.list_access_requests(requester="x", datasets=["routes"])
    ] == [second.id]
    assert store.list_access_requests(datasets=[]) == []
    done = store.decide_access_request(
        first.id, RequestStatus.APPROVED, by="cheffe", at="t", agreement="demande-1"
    )
    assert (done.status, done.decided_by, done.agreement) == (
        RequestStatus.APPROVED,
        "cheffe",
        "demande-1",
    )
    with pytest.raises(Conflict):
        store.decide_access_request(
            first.id, RequestStatus.REFUSED, by="x", at="t2", reason="non"
        )
    assert store.get_access_request(first.id).decided_at == "t"
    assert [r.id for r in store.list_access_requests(status=RequestStatus.PENDING)] == [
        second.id
    ]
    with pytest.raises(NotFound):
        store.get_access_request(999)
    with pytest.raises(NotFound):
        store.decide_access_request(999, RequestStatus.REFUSED, by="x", at="t")


def test_one_pending_request_per_requester_and_dataset_even_at_once(store):
    import threading

    store.ensure_schema()
    outcomes: list[str] = []
    start = threading.Barrier(4)

    def ask() -> None:
        start.wait()
        try:
            store.add_access_request(_request())
            outcomes.append("made")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "made"]
    (only,) = store.list_access_requests()
    # once decided, the same person may ask again
    store.decide_access_request(only.id, RequestStatus.REFUSED, by="x", at="t")
    assert store.add_access_request(_request()).status is RequestStatus.PENDING

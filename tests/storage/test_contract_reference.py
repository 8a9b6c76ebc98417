"""The city's reference list in the store, on both stores: kept whole, in
order, under a revision that refuses a stale write."""

from __future__ import annotations

import threading

import pytest

from quartier.errors import StaleVersion


def doc(key: str) -> dict:
    return {"key": key, "title": {"fr": key}, "geometry": "any", "frequency_days": 9}


def test_the_list_is_replaced_whole_in_order_under_a_revision(store):
    store.ensure_schema()
    assert store.reference_documents() == (0, [])
    rev = store.replace_reference_documents(
        [doc("b"), doc("a")], expect=0, at="2026-11-26T10:00:00Z", author="ana"
    )
    assert rev == 1
    assert store.reference_documents() == (1, [doc("b"), doc("a")])
    with pytest.raises(StaleVersion):  # written by someone else meanwhile
        store.replace_reference_documents([doc("c")], expect=0, at="x", author="bo")
    assert store.reference_documents() == (1, [doc("b"), doc("a")])
    assert store.replace_reference_documents([], expect=1, at="y", author="ana") == 2
    assert store.reference_documents() == (2, [])  # back to the shipped list


def test_two_writers_on_the_same_revision_one_wins(store):
    store.ensure_schema()
    store.replace_reference_documents([doc("a")], expect=0, at="t", author="x")
    outcomes: list[str] = []
    start = threading.Barrier(4)

    def write(n: int) -> None:
        start.wait()
        try:
            store.replace_reference_documents(
                [doc(f"w{n}")], expect=1, at="t", author=f"w{n}"
            )
            outcomes.append("won")
        except StaleVersion:
            outcomes.append("stale")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["stale", "stale", "stale", "won"]
    rev, docs = store.reference_documents()
    assert rev == 2 and len(docs) == 1 and docs[0]["key"].startswith("w")

"""``GET /api/audit``: platform administrators only, newest first, paged, filtered."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from apiutil import city
from fastapi.testclient import TestClient
from webutil import make_client

from quartier.storage.base import SqlStore
from quartier.web import api_audit
from quartier.web.api_audit import AuditQuery, audit_page


@pytest.fixture
def town(store: SqlStore) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    headers = city(store)
    store.audit(actor="gardienne", action="import", target="marches@2")
    store.audit(actor="gardienne", action="restore", target="marches@3")
    store.audit(actor="agent", action="import", target="marches_bis@1")
    with make_client(store) as c:
        yield c, headers


@pytest.mark.parametrize(
    ("user", "status"),
    [
        ("anonymous", 401),
        ("lecteur", 403),
        ("gardienne", 403),
        ("cheffe", 403),
        ("admin", 200),
    ],
)
def test_only_platform_administrators(town, user: str, status: int) -> None:
    client, headers = town
    assert client.get("/api/audit", headers=headers[user]).status_code == status


def test_newest_first_with_paging_links(town) -> None:
    client, headers = town
    admin = headers["admin"]
    everything = client.get("/api/audit?limit=1000", headers=admin).json()["entries"]
    ids = [e["id"] for e in everything]
    assert ids == sorted(ids, reverse=True)
    assert everything[0]["target"] == "marches_bis@1"
    assert isinstance(everything[0]["detail"], dict)

    first = client.get("/api/audit?limit=4", headers=admin).json()
    assert [e["id"] for e in first["entries"]] == ids[:4]
    rels = {link["rel"]: link["href"] for link in first["links"]}
    assert "prev" not in rels and "offset=4" in rels["next"]
    second = client.get(rels["next"], headers=admin).json()
    assert [e["id"] for e in second["entries"]] == ids[4:8]
    assert {link["rel"] for link in second["links"]} >= {"self", "prev"}
    last = client.get(f"/api/audit?limit=4&offset={len(ids) - 1}", headers=admin).json()
    assert last["numberReturned"] == 1
    assert "next" not in {link["rel"] for link in last["links"]}


def test_filters(town) -> None:
    client, headers = town

    def entries(query: str) -> list[dict]:
        r = client.get(f"/api/audit?{query}", headers=headers["admin"])
        assert r.status_code == 200
        return r.json()["entries"]

    # a dataset's slug also finds its slug@version entries, not a longer slug's
    assert [e["target"] for e in entries("target=marches")] == [
        "marches@3",
        "marches@2",
    ]
    assert {e["action"] for e in entries("action=user")} == {"user.add", "user.grant"}
    assert [e["target"] for e in entries("action=import&actor=agent")] == [
        "marches_bis@1"
    ]
    assert entries("actor=GARDIENNE&action=restore")[0]["target"] == "marches@3"
    assert entries("actor=personne") == []
    narrow = client.get(
        "/api/audit?action=user&limit=2", headers=headers["admin"]
    ).json()
    assert narrow["numberReturned"] == 2
    assert (
        "action=user" in {link["rel"]: link["href"] for link in narrow["links"]}["next"]
    )


def test_bad_parameters_are_400(town) -> None:
    client, headers = town
    assert client.get("/api/audit?limit=0", headers=headers["admin"]).status_code == 400
    assert (
        client.get("/api/audit?offset=-1", headers=headers["admin"]).status_code == 400
    )
    # PostgreSQL holds no NUL in text: refused for every path and query string
    for url in ("/api/audit?action=%00", "/api/datasets/a%00b", "/catalogue?q=%00"):
        r = client.get(url, headers=headers["admin"])
        assert r.status_code == 400, url
        assert r.json()["code"] == "InvalidInput"


def test_filtered_pages_past_the_first_window(store: SqlStore, monkeypatch) -> None:
    """Rare matches deep in the log are found: the window grows until full."""
    store.ensure_schema()
    monkeypatch.setattr(api_audit, "FIRST_ROUND", 5)
    for i in range(60):
        store.audit(
            actor="a", action="rare" if i % 10 == 0 else "common", target=f"t{i}"
        )
    page, more = audit_page(store, AuditQuery(action="rare"), offset=2, limit=2)
    assert [e["target"] for e in page] == ["t30", "t20"]
    assert more
    page, more = audit_page(store, AuditQuery(action="rare"), offset=4, limit=5)
    assert [e["target"] for e in page] == ["t10", "t0"] and not more
    unfiltered, more = audit_page(store, AuditQuery(), offset=0, limit=3)
    assert [e["target"] for e in unfiltered] == ["t59", "t58", "t57"] and more

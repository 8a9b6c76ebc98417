"""``/api/reference`` and ``/console/reference`` on both stores: everyone
reads the list, administrators change it, hidden datasets stay hidden."""

from __future__ import annotations

import pytest
from apiutil import city
from webutil import make_client

from quartier.domain.diagnostic import shipped_documents

SHIPPED = len(shipped_documents())
ENTRY = {
    "key": "bornes_fontaines",
    "title": "Bornes-fontaines",
    "title_en": "Standpipes",
    "why": "Accès à l'eau potable",
    "geometry": "point",
    "frequency_days": 365,
    # as the console's form sends them: text
    "keywords": "borne, fontaine",
    "attributes": "etat, state\ndebit",
    "datasets": "marches, dossiers",
}


@pytest.fixture
def town(store):  # type: ignore[no-untyped-def]
    headers = city(store)
    with make_client(store) as client:
        yield client, headers


def test_administrators_add_change_and_remove_entries(town):
    client, headers = town
    admin = headers["admin"]
    shipped = client.get("/api/reference").json()
    assert shipped["custom"] is False and len(shipped["entries"]) == SHIPPED
    r = client.post("/api/reference/entries", json=ENTRY, headers=admin)
    assert r.status_code == 201, r.text
    listed = client.get("/api/reference", headers=admin).json()
    assert listed["custom"] is True and len(listed["entries"]) == SHIPPED + 1
    added = listed["entries"][-1]
    assert added["keywords"] == ["borne", "fontaine"]
    assert added["attributes"] == [["etat", "state"], ["debit"]]
    assert added["title"] == {"fr": "Bornes-fontaines", "en": "Standpipes"}
    changed = ENTRY | {"frequency_days": 30, "keywords": ["robinet"]}
    r = client.put(
        "/api/reference/entries/bornes_fontaines", json=changed, headers=admin
    )
    assert r.status_code == 200, r.text
    entry = client.get("/api/reference").json()["entries"][-1]
    assert (entry["frequency_days"], entry["keywords"]) == (30, ["robinet"])
    assert (
        client.delete(
            "/api/reference/entries/bornes_fontaines", headers=admin
        ).status_code
        == 204
    )
    assert len(client.get("/api/reference").json()["entries"]) == SHIPPED
    assert client.delete("/api/reference", headers=admin).status_code == 204
    assert client.get("/api/reference").json()["custom"] is False


def test_hand_assigned_datasets_hidden_from_the_reader_are_left_out(town):
    client, headers = town
    client.post("/api/reference/entries", json=ENTRY, headers=headers["admin"])
    seen = client.get("/api/reference").json()["entries"][-1]["datasets"]
    assert seen == ["marches"]  # "dossiers" is restricted
    own = client.get("/api/reference", headers=headers["admin"]).json()
    assert own["entries"][-1]["datasets"] == ["marches", "dossiers"]


def test_others_may_not_change_the_list_and_bad_entries_change_nothing(town):
    client, headers = town
    assert client.post("/api/reference/entries", json=ENTRY).status_code == 401
    r = client.post("/api/reference/entries", json=ENTRY, headers=headers["cheffe"])
    assert r.status_code == 403
    bad = client.post(
        "/api/reference/entries",
        json=ENTRY | {"key": "Bornes Fontaines"},
        headers=headers["admin"],
    )
    assert bad.status_code == 400
    taken = client.post(
        "/api/reference/entries",
        json=ENTRY | {"key": shipped_documents()[0]["key"]},
        headers=headers["admin"],
    )
    assert taken.status_code == 400 and "exists" in taken.text
    whole = client.put(
        "/api/reference",
        json={"entries": [shipped_documents()[0], {"key": "x"}]},
        headers=headers["admin"],
    )
    assert whole.status_code == 400 and "entry 2" in whole.text
    missing = client.put(
        "/api/reference/entries/nowhere", json=ENTRY, headers=headers["admin"]
    )
    assert missing.status_code == 404
    assert client.get("/api/reference").json()["custom"] is False


def test_the_console_page_lists_the_entries_with_their_forms(town):
    client, headers = town
    page = client.get("/console/reference", headers=headers["admin"]).text
    assert page.count('data-method="PUT"') == SHIPPED
    assert 'id="reference-add"' in page and "Liste livrée avec Quartier" in page
    client.post("/api/reference/entries", json=ENTRY, headers=headers["admin"])
    page = client.get("/console/reference", headers=headers["admin"]).text
    assert "Liste propre à la ville" in page and "etat, state\ndebit" in page


def test_the_diagnostic_page_links_administrators_to_the_list(town, store):
    from quartier.domain import Workspace

    client, headers = town
    store.set_workspace(Workspace("Ville", 32733))
    link = 'href="/console/reference"'
    assert link in client.get("/diagnostic", headers=headers["admin"]).text
    assert link not in client.get("/diagnostic", headers=headers["cheffe"]).text
    assert link not in client.get("/diagnostic").text

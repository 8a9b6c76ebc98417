"""``/api/objectives`` and ``/api/roadmap`` on both stores: public reading,
indicators computed from the reader's diagnostic, edits by the owner's
admins and stewards, status history, suggested vs chosen priority."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from programmeutil import SECRET, build_city
from webutil import make_client

from quartier.access import LOCAL
from quartier.domain.programme import Objective
from quartier.services import objectives as service


@pytest.fixture
def city(store):  # type: ignore[no-untyped-def]
    headers = build_city(store)
    with make_client(store) as client:
        yield client, store, headers


def objective(**change) -> dict:  # type: ignore[no-untyped-def]
    return {
        "id": "connaitre-le-bati",
        "title": "Connaître le bâti",
        "description": "Savoir où sont les maisons",
        "owner": "ville",
        "indicators": [
            {"label": "Score", "source": "score", "target": 75},
            {"label": "Bâti couvert", "source": "coverage:batiments", "target": 100},
            {"label": "Agents formés", "value": 3, "target": 12, "unit": "agents"},
        ],
        "datasets": ["batiments"],
        **change,
    }


def test_objectives_are_public_with_indicators_computed_for_the_reader(city):
    client, store, h = city
    r = client.post("/api/objectives", json=objective(), headers=h["cheffe"])
    assert r.status_code == 201, r.text
    listed = client.get("/api/objectives").json()["objectives"]
    assert [o["id"] for o in listed] == ["connaitre-le-bati"]
    o = listed[0]
    assert o["owner_name"] == "VILLE" and o["status"] == "proposed"
    diagnostic = client.get("/api/diagnostic").json()
    batiments = next(e for e in diagnostic["entries"] if e["key"] == "batiments")
    score, covered, trained = o["indicators"]
    assert score["computed"] and score["current"] == diagnostic["score"]
    assert score["unit"] == "/100"
    assert covered["current"] == batiments["coverage"] == 50.0
    assert covered["progress"] == 0.5 and covered["unit"] == "%"
    assert (trained["computed"], trained["current"], trained["progress"]) == (
        False,
        3,
        0.25,
    )
    assert o["datasets"] == [{"slug": "batiments", "title": "Bâtiments"}]
    assert o["can_edit"] is False
    one = client.get("/api/objectives/connaitre-le-bati", headers=h["cheffe"]).json()
    assert one["can_edit"] is True
    assert one["history"][0]["to"] == "proposed"
    assert one["history"][0]["actor"] == "cheffe"
    # who changed it is shown to editors only
    anon = client.get("/api/objectives/connaitre-le-bati").json()
    assert "actor" not in anon["history"][0]
    assert client.get("/api/objectives/rien").status_code == 404


def test_only_admins_and_stewards_of_the_owner_make_and_change_objectives(city):
    client, store, h = city
    assert client.post("/api/objectives", json=objective()).status_code == 401
    for name in ("lecteur", "gardien", "partenaire"):
        r = client.post("/api/objectives", json=objective(), headers=h[name])
        assert r.status_code == 403, name
    assert store.list_objectives() == []
    # bad input names the field and changes nothing
    for change, field in (
        ({"owner": "personne"}, "owner"),
        ({"datasets": ["zones_secretes"]}, "no dataset 'zones_secretes'"),
        ({"indicators": [{"label": "x", "source": "coverage:rien"}]}, "rien"),
        ({"indicators": [{"label": "x", "source": "score", "value": 4}]}, "value"),
        ({"id": "Pas Bon"}, "id"),
    ):
        r = client.post(
            "/api/objectives", json=objective(**change), headers=h["cheffe"]
        )
        assert r.status_code == 400 and field in r.text, (change, r.text)
    r = client.post("/api/objectives", json={"id": "x"}, headers=h["cheffe"])
    assert r.status_code == 400 and "title" in r.text  # request validation
    assert store.list_objectives() == []
    client.post("/api/objectives", json=objective(), headers=h["cheffe"])
    url = "/api/objectives/connaitre-le-bati/status"
    assert client.post(url, json={"status": "active"}).status_code == 401
    r = client.post(url, json={"status": "active"}, headers=h["gardien"])
    assert r.status_code == 403
    r = client.post(url, json={"status": "active", "note": "voté"}, headers=h["cheffe"])
    assert r.status_code == 200 and r.json()["status"] == "active"
    # a retry changes nothing and adds no event; a forbidden move is a 409
    r = client.post(url, json={"status": "active"}, headers=h["cheffe"])
    assert r.status_code == 200 and len(r.json()["history"]) == 2
    r = client.post(url, json={"status": "proposed"}, headers=h["cheffe"])
    assert r.status_code == 409 and "allowed" in r.text
    history = r = client.get("/api/objectives/connaitre-le-bati", headers=h["cheffe"])
    history = r.json()["history"]
    assert [(e["from"], e["to"], e["actor"], e["note"]) for e in history] == [
        (None, "proposed", "cheffe", ""),
        ("proposed", "active", "cheffe", "voté"),
    ]
    actions = [e["action"] for e in store.list_audit(limit=None)]
    assert "objective.add" in actions and "objective.active" in actions


def test_hidden_datasets_are_never_named_to_those_who_may_not_read_them(city):
    client, store, h = city
    body = objective(datasets=["batiments", "zones_secretes"])
    # the NGO may name its own restricted dataset, for the city? no: for itself
    r = client.post(
        "/api/objectives", json={**body, "owner": "ong"}, headers=h["gardien"]
    )
    assert r.status_code == 201, r.text
    item = {
        "id": "zones-a-jour",
        "title": "Tenir les zones à jour",
        "organisation": "ong",
        "steward": "gardien",
        "dataset": "zones_secretes",
        "objective": "connaitre-le-bati",
    }
    assert (
        client.post("/api/roadmap", json=item, headers=h["gardien"]).status_code == 201
    )
    for who in ("anonyme", "partenaire", "cheffe"):
        for url in (
            "/api/objectives",
            "/api/objectives/connaitre-le-bati",
            "/api/roadmap",
            "/api/roadmap/zones-a-jour",
            "/api/roadmap/suggestions",
        ):
            text = client.get(url, headers=h[who]).text
            assert "zones_secretes" not in text and SECRET not in text, (who, url)
    seen = client.get("/api/objectives", headers=h["gardien"]).text
    assert "zones_secretes" in seen and SECRET in seen
    assert client.get("/api/roadmap/zones-a-jour").json()["dataset"] is None


def test_roadmap_priority_is_suggested_from_the_gaps_and_may_be_overridden(city):
    client, store, h = city
    past = (date.today() - timedelta(days=3)).isoformat()
    item = {
        "id": "inondations",
        "title": "Cartographier les zones inondables",
        "organisation": "ville",
        "steward": "cheffe",
        "target_date": past,
        "reference": "alea_inondation",
    }
    r = client.post("/api/roadmap", json=item, headers=h["cheffe"])
    assert r.status_code == 201, r.text
    got = client.get("/api/roadmap").json()
    assert "crises" in got["priority_rule"]
    (one,) = got["items"]
    # no flood data (level 0) and it matters in a crisis: high
    assert (one["level"], one["suggested_priority"], one["priority"]) == (
        0,
        "high",
        "high",
    )
    assert one["priority_set"] is False and one["overdue"] is True
    assert one["steward_name"] == "Awa Diop" and "steward" not in one
    assert one["reference_title"] == "Aléa inondation"
    en = client.get("/api/roadmap?lang=en").json()
    assert en["items"][0]["reference_title"] == "Flood hazard"
    url = "/api/roadmap/inondations/priority"
    assert (
        client.post(url, json={"priority": "low"}, headers=h["lecteur"]).status_code
        == 403
    )
    r = client.post(url, json={"priority": "low"}, headers=h["cheffe"])
    assert (r.json()["suggested_priority"], r.json()["priority"]) == ("high", "low")
    assert r.json()["priority_set"] is True and r.json()["steward"] == "cheffe"
    r = client.post(url, json={"priority": None}, headers=h["cheffe"])
    assert r.json()["priority"] == "high"
    # done: no longer overdue; the history keeps every step
    status = "/api/roadmap/inondations/status"
    r = client.post(status, json={"status": "done"}, headers=h["cheffe"])
    assert r.json()["overdue"] is False
    assert [e["to"] for e in r.json()["history"]] == ["planned", "done"]
    r = client.post(status, json={"status": "dropped"}, headers=h["cheffe"])
    assert r.status_code == 409
    assert client.get("/api/roadmap/rien").status_code == 404
    assert client.post("/api/roadmap/rien/status", json={"status": "done"},
                       headers=h["cheffe"]).status_code == 404  # fmt: skip


def test_roadmap_items_check_their_links(city):
    client, store, h = city
    base = {"id": "r1", "title": "T", "organisation": "ville"}
    for change, field in (
        ({"steward": "personne"}, "steward"),
        ({"steward": "gardien"}, "steward"),  # not a member of the city
        ({"reference": "rien"}, "reference"),
        ({"dataset": "zones_secretes"}, "no dataset"),
        ({"objective": "rien"}, "objective"),
        ({"target_date": "demain"}, "target_date"),
        ({"organisation": "personne"}, "organisation"),
    ):
        r = client.post("/api/roadmap", json={**base, **change}, headers=h["cheffe"])
        assert r.status_code == 400 and field in r.text, (change, r.text)
    r = client.post("/api/roadmap", json=base, headers=h["gardien"])
    assert r.status_code == 403
    assert client.post("/api/roadmap", json=base).status_code == 401
    assert store.list_roadmap_items() == []
    # a capability with no reference entry: no suggestion, medium unless chosen
    r = client.post("/api/roadmap", json=base, headers=h["cheffe"])
    assert (r.json()["suggested_priority"], r.json()["priority"]) == (None, "medium")


def test_suggestions_are_proposed_then_added_once(city):
    client, store, h = city
    got = client.get("/api/roadmap/suggestions").json()["suggestions"]
    keys = {s["reference"] for s in got}
    assert "alea_inondation" in keys and "batiments" in keys
    assert all(s["level"] <= 2 for s in got)
    flood = next(s for s in got if s["reference"] == "alea_inondation")
    assert flood["suggested_priority"] == "high" and flood["on_roadmap"] is False
    order = [s["suggested_priority"] for s in got]
    assert order == sorted(order, key=["high", "medium", "low"].index)
    assert store.list_roadmap_items() == []  # nothing written
    body = {"organisation": "ville", "steward": "cheffe"}
    assert client.post("/api/roadmap/suggestions", json=body).status_code == 401
    r = client.post("/api/roadmap/suggestions", json=body, headers=h["lecteur"])
    assert r.status_code == 403
    r = client.post("/api/roadmap/suggestions", json=body, headers=h["cheffe"])
    assert r.status_code == 201 and len(r.json()["added"]) == len(got)
    r = client.post("/api/roadmap/suggestions", json=body, headers=h["cheffe"])
    assert r.json()["added"] == []
    assert len(store.list_roadmap_items()) == len(got)
    again = client.get("/api/roadmap/suggestions").json()["suggestions"]
    assert all(s["on_roadmap"] for s in again)


def test_editors_change_objectives_and_items_and_hidden_links_stay(city):
    client, store, h = city
    body = objective(owner="ong", datasets=["batiments", "zones_secretes"])
    assert (
        client.post("/api/objectives", json=body, headers=h["gardien"]).status_code
        == 201
    )
    # the city's steward may not edit the NGO's objective
    url = "/api/objectives/connaitre-le-bati"
    r = client.patch(url, json={"title": "Autre"}, headers=h["cheffe"])
    assert r.status_code == 403
    assert client.patch(url, json={"title": "Autre"}).status_code == 401
    r = client.patch(url, json={"title": "Connaître tout le bâti",
                                "datasets": ["unites"]},
                     headers=h["gardien"])  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["title"] == "Connaître tout le bâti"
    assert [d["slug"] for d in r.json()["datasets"]] == ["unites"]
    r = client.patch(
        url,
        json={"indicators": [{"label": "x", "source": "level:rien"}]},
        headers=h["gardien"],
    )
    assert r.status_code == 400 and "rien" in r.text
    assert store.get_objective("connaitre-le-bati").indicators[0].label == "Score"
    # a linked dataset the editor cannot see stays linked (and unnamed to them)
    service.create(
        store, LOCAL, Objective("o2", "O2", "ville", datasets=("zones_secretes",))
    )
    r = client.patch(
        "/api/objectives/o2", json={"datasets": ["batiments"]}, headers=h["cheffe"]
    )
    assert [d["slug"] for d in r.json()["datasets"]] == ["batiments"]
    assert "zones_secretes" not in r.text
    assert store.get_objective("o2").datasets == ("batiments", "zones_secretes")
    assert client.patch("/api/objectives/rien", json={"title": "T"},
                        headers=h["gardien"]).status_code == 404  # fmt: skip
    item = {"id": "r1", "title": "T", "organisation": "ville"}
    client.post("/api/roadmap", json=item, headers=h["cheffe"])
    url = "/api/roadmap/r1"
    r = client.patch(url, json={"steward": "cheffe", "target_date": "2027-03-31",
                                "reference": "ecoles"},
                     headers=h["cheffe"])  # fmt: skip
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["steward_name"], got["quarter"], got["reference"]) == (
        "Awa Diop", "2027-T1", "ecoles",
    )  # fmt: skip
    # a steward without a display name: the public never sees the account name
    r = client.patch(url, json={"steward": "lecteur"}, headers=h["cheffe"])
    assert r.status_code == 200, r.text
    public = client.get(url).json()
    assert public["steward_name"] is None and public["has_steward"] is True
    assert "lecteur" not in client.get(url).text
    assert "lecteur" not in client.get("/feuille-de-route").text
    client.patch(url, json={"steward": "cheffe"}, headers=h["cheffe"])
    for change, field in (
        ({"steward": "gardien"}, "steward"),
        ({"target_date": "bientôt"}, "target_date"),
        ({"dataset": "zones_secretes"}, "no dataset"),
    ):
        r = client.patch(url, json=change, headers=h["cheffe"])
        assert r.status_code == 400 and field in r.text, change
    assert (
        client.patch(url, json={"title": "X"}, headers=h["gardien"]).status_code == 403
    )
    r = client.patch(url, json={"target_date": ""}, headers=h["cheffe"])
    assert r.json()["target_date"] is None

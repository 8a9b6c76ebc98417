"""``/api/agreements`` on both stores: the holder's steward makes and ends
agreements, the partner reads the shared dataset only while in force."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from webutil import make_client

from quartier.access import LOCAL
from quartier.domain import ActorKind, Organisation
from quartier.services import accounts
from quartier.services.importer import ImportOptions, import_path

TODAY = date.today()


@pytest.fixture
def parties(store, tmp_path):  # type: ignore[no-untyped-def]
    store.ensure_schema()
    for slug, kind in (
        ("ville", "local_authority"),
        ("unikin", "university"),
        ("ong", "ngo"),
    ):
        store.add_organisation(Organisation(slug, slug.upper(), ActorKind(kind)))
    path = tmp_path / "zones.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"alea": "fort"},
                        "geometry": {"type": "Point", "coordinates": [15.33, -4.42]},
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    import_path(
        store,
        path,
        ImportOptions(
            dataset="zones",
            title="Zones",
            access="restricted",
            producer="ville",
            steward="ville",
        ),
    )
    headers = {}
    for name, org, role in (
        ("cheffe", "ville", "steward"),
        ("chercheur", "unikin", "viewer"),
        ("autre", "ong", "steward"),
    ):
        accounts.create_user(store, name, password="un-mot-de-passe", actor=LOCAL)
        accounts.grant_role(store, name, org, role, actor=LOCAL)
        secret = accounts.issue_token(store, name, actor=LOCAL).secret
        headers[name] = {"Authorization": f"Bearer {secret}"}
    with make_client(store) as client:
        yield client, store, headers


def body(**change) -> dict:  # type: ignore[no-untyped-def]
    return {
        "id": "convention-unikin",
        "title": "Convention ville – UNIKIN",
        "holder": "ville",
        "partners": ["unikin"],
        "datasets": ["zones"],
        "purpose": "Thèse sur les inondations",
        "starts": (TODAY - timedelta(days=1)).isoformat(),
        "ends": (TODAY + timedelta(days=30)).isoformat(),
        "status": "active",
        **change,
    }


def test_the_partner_reads_while_the_agreement_is_in_force(parties):
    client, store, h = parties
    assert client.get("/api/datasets/zones", headers=h["chercheur"]).status_code == 404
    made = client.post("/api/agreements", json=body(), headers=h["cheffe"])
    assert made.status_code == 201, made.text
    assert client.get("/api/datasets/zones", headers=h["chercheur"]).status_code == 200
    items = client.get("/ogc/collections/zones/items", headers=h["chercheur"])
    assert items.json()["numberReturned"] == 1
    # the partner sees the agreement, may not change it; strangers do not see it
    listed = client.get("/api/agreements", headers=h["chercheur"]).json()
    assert [a["id"] for a in listed["agreements"]] == ["convention-unikin"]
    assert client.get("/api/agreements", headers=h["autre"]).json()["agreements"] == []
    url = "/api/agreements/convention-unikin/status"
    assert (
        client.post(url, json={"status": "ended"}, headers=h["chercheur"]).status_code
        == 403
    )
    assert (
        client.get("/api/agreements/convention-unikin", headers=h["autre"]).status_code
        == 404
    )
    # ended: closed again, everywhere
    assert (
        client.post(url, json={"status": "ended"}, headers=h["cheffe"]).status_code
        == 200
    )
    assert client.get("/api/datasets/zones", headers=h["chercheur"]).status_code == 404
    assert any(e["action"] == "agreement.ended" for e in store.list_audit(limit=None))


def test_only_the_holder_shares_what_it_holds(parties):
    client, store, h = parties
    # another organisation's steward cannot even learn the dataset exists
    for holder in ("ong", "ville"):
        r = client.post("/api/agreements", json=body(holder=holder), headers=h["autre"])
        assert r.status_code == 400 and "no dataset 'zones'" in r.text
    # the holder's members who are not stewards may not share
    accounts.grant_role(store, "chercheur", "ville", "viewer", actor=LOCAL)
    r = client.post(
        "/api/agreements", json=body(partners=["ong"]), headers=h["chercheur"]
    )
    assert r.status_code == 403
    assert client.post("/api/agreements", json=body()).status_code == 401
    assert store.list_agreements() == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ends": "2020-01-01"}, "ends"),
        ({"starts": "bientôt"}, "starts"),
        ({"partners": []}, "partners"),
        ({"datasets": ["inconnu"]}, "inconnu"),
        ({"partners": ["nulle_part"]}, "nulle_part"),
        ({"purpose": " "}, "purpose"),
    ],
)
def test_bad_agreements_are_refused_naming_the_field(parties, change, field):
    client, store, h = parties
    r = client.post("/api/agreements", json=body(**change), headers=h["cheffe"])
    assert r.status_code == 400 and field in r.text
    assert store.list_agreements() == []

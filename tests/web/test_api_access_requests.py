"""``/api/access-requests`` and ``/api/organisations/{slug}/capacities`` on
both stores: the holder offers a restricted dataset on request, a partner
asks, the steward approves, and the partner then reads it through the one
authorisation layer (an agreement); refusals, withdrawals, double
decisions and strangers are refused."""

from __future__ import annotations

import json

import pytest
from webutil import make_client

from quartier.access import LOCAL
from quartier.domain import ActorKind, Organisation
from quartier.services import accounts
from quartier.services.importer import ImportOptions, import_path


def _import(store, tmp_path, slug: str, marker: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / f"{slug}.geojson"
    feature = {
        "type": "Feature",
        "properties": {"alea": marker},
        "geometry": {"type": "Point", "coordinates": [15.33, -4.42]},
    }
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": [feature]}),
        encoding="utf-8",
    )
    import_path(
        store,
        path,
        ImportOptions(
            dataset=slug,
            title=f"Titre {slug}",
            access="restricted",
            producer="ville",
            steward="ville",
        ),
    )


@pytest.fixture
def parties(store, tmp_path):  # type: ignore[no-untyped-def]
    store.ensure_schema()
    for slug, kind in (
        ("ville", "local_authority"),
        ("unikin", "university"),
        ("ong", "ngo"),
    ):
        store.add_organisation(Organisation(slug, slug.upper(), ActorKind(kind)))
    _import(store, tmp_path, "zones", "DONNEE-ZONES")
    _import(store, tmp_path, "cachee", "DONNEE-CACHEE")
    headers = {}
    for name, org, role in (
        ("cheffe", "ville", "steward"),
        ("agent", "ville", "viewer"),
        ("chercheur", "unikin", "viewer"),
        ("autre", "ong", "steward"),
    ):
        accounts.create_user(store, name, password="un-mot-de-passe", actor=LOCAL)
        accounts.grant_role(store, name, org, role, actor=LOCAL)
        secret = accounts.issue_token(store, name, actor=LOCAL).secret
        headers[name] = {"Authorization": f"Bearer {secret}"}
    with make_client(store) as client:
        yield client, store, headers


def offer(client, h, slug: str = "zones"):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/organisations/ville/capacities",
        json={"kind": "on_request", "ref": slug},
        headers=h["cheffe"],
    )


def ask(client, h, who: str = "chercheur", **change):  # type: ignore[no-untyped-def]
    body = {"dataset": "zones", "purpose": "Thèse sur les inondations", **change}
    return client.post("/api/access-requests", json=body, headers=h[who])


def test_a_partner_asks_the_steward_approves_and_the_partner_reads(parties):
    client, store, h = parties
    # not offered: the dataset is unknown to the partner, like any hidden one
    assert ask(client, h).status_code == 404
    assert offer(client, h).status_code == 201
    made = ask(client, h, starts="2026-01-01", ends="2099-12-31")
    assert made.status_code == 201, made.text
    r = made.json()
    assert (r["status"], r["organisation"], r["agreement"]) == (
        "pending",
        "unikin",
        None,
    )
    url = f"/api/access-requests/{r['id']}"
    items = "/ogc/collections/zones/items"
    assert client.get(items, headers=h["chercheur"]).status_code == 404
    # seen by the requester and the steward; a stranger learns nothing
    assert client.get(url, headers=h["chercheur"]).status_code == 200
    assert client.get(url, headers=h["autre"]).status_code == 404
    assert client.get(url).status_code == 401
    assert client.get("/api/access-requests", headers=h["autre"]).json() == {
        "requests": []
    }
    listed = client.get("/api/access-requests", headers=h["cheffe"]).json()
    assert [x["id"] for x in listed["requests"]] == [r["id"]]
    # only the dataset's stewards decide, never the requester or a mere member
    decision = f"{url}/decision"
    approve = {"decision": "approve"}
    for who, code in (("chercheur", 403), ("agent", 404), ("autre", 404)):
        got = client.post(decision, json=approve, headers=h[who])
        assert got.status_code == code, (who, got.text)
    refused = client.post(decision, json={"decision": "refuse"}, headers=h["cheffe"])
    assert refused.status_code == 400 and "reason" in refused.text
    done = client.post(decision, json=approve, headers=h["cheffe"])
    assert done.status_code == 200, done.text
    assert done.json()["agreement"] == f"demande-{r['id']}"
    assert done.json()["decided_by"] == "cheffe"
    # the access now flows through the agreement, on the OGC API too
    assert client.get(items, headers=h["chercheur"]).json()["numberReturned"] == 1
    agreement = store.get_agreement(f"demande-{r['id']}")
    assert (agreement.holder, agreement.partners, agreement.datasets) == (
        "ville",
        ("unikin",),
        ("zones",),
    )
    assert agreement.purpose == "Thèse sur les inondations"
    # decided once: a second approval or a refusal is a clear 409
    again = client.post(decision, json=approve, headers=h["cheffe"])
    assert again.status_code == 409 and "already approved" in again.text
    refuse = {"decision": "refuse", "reason": "non"}
    assert client.post(decision, json=refuse, headers=h["cheffe"]).status_code == 409
    # asking again for what one reads already makes no sense
    assert ask(client, h).status_code == 400
    actions = {e["action"] for e in store.list_audit(limit=None)}
    assert {"access_request.add", "access_request.approved", "agreement.add"} <= actions


def test_refusal_and_withdrawal_are_final(parties):
    client, store, h = parties
    offer(client, h)
    first = ask(client, h).json()
    assert ask(client, h).status_code == 409  # one pending request at a time
    refuse = {"decision": "refuse", "reason": "Données en cours de correction"}
    done = client.post(
        f"/api/access-requests/{first['id']}/decision", json=refuse, headers=h["cheffe"]
    )
    assert done.json()["status"] == "refused"
    assert done.json()["reason"] == "Données en cours de correction"
    second = ask(client, h).json()
    url = f"/api/access-requests/{second['id']}"
    assert client.post(f"{url}/withdraw", headers=h["cheffe"]).status_code == 403
    gone = client.post(f"{url}/withdraw", headers=h["chercheur"])
    assert gone.json()["status"] == "withdrawn"
    late = client.post(
        f"{url}/decision", json={"decision": "approve"}, headers=h["cheffe"]
    )
    assert late.status_code == 409 and "withdrawn" in late.text
    assert client.post(f"{url}/withdraw", headers=h["chercheur"]).status_code == 409
    assert store.list_agreements() == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"purpose": "  "}, "purpose"),
        ({"ends": "2020-01-01", "starts": "2021-01-01"}, "ends"),
        ({"starts": "bientôt"}, "starts"),
        ({"organisation": "ong"}, "organisation"),
    ],
)
def test_bad_requests_are_refused_naming_the_field(parties, change, field):
    client, store, h = parties
    offer(client, h)
    r = ask(client, h, **change)
    assert r.status_code == 400 and field in r.text
    assert store.list_access_requests() == []


def test_capacities_are_declared_by_the_organisation_managers(parties):
    client, store, h = parties
    url = "/api/organisations/unikin/capacities"
    drone = {"kind": "capacity", "label": "Levés par drone"}
    assert client.post(url, json=drone).status_code == 401
    assert client.post(url, json=drone, headers=h["chercheur"]).status_code == 403
    accounts.grant_role(store, "chercheur", "unikin", "steward", actor=LOCAL)
    assert client.post(url, json=drone, headers=h["chercheur"]).status_code == 201
    assert client.post(url, json=drone, headers=h["chercheur"]).status_code == 409
    produces = {"kind": "produces", "ref": "batiments"}
    made = client.post(url, json=produces, headers=h["chercheur"]).json()
    assert made["label"] == "Bâtiments" or made["label"].startswith("Bâtiments")
    for bad, field in (
        ({"kind": "produces", "ref": "inconnu"}, "ref"),
        ({"kind": "capacity", "label": ""}, "label"),
        ({"kind": "on_request", "ref": "zones"}, "ref"),  # not unikin's to offer
    ):
        r = client.post(url, json=bad, headers=h["chercheur"])
        assert r.status_code == 400 and field in r.text, (bad, r.text)
    listed = client.get(url).json()["capacities"]
    assert [c["kind"] for c in listed] == ["capacity", "produces"]
    assert client.get("/api/organisations/nulle/capacities").status_code == 404
    # offering takes a steward of the holder
    r = client.post(
        "/api/organisations/ville/capacities",
        json={"kind": "on_request", "ref": "zones"},
        headers=h["agent"],
    )
    assert r.status_code == 403


def test_ecosystem_and_charter_show_only_what_the_reader_may_see(parties):
    client, store, h = parties
    offer(client, h)
    for who in ({}, h["autre"]):
        eco = client.get("/api/ecosystem", headers=who).text
        charter = client.get("/api/charter", headers=who).text
        # offered: title and holder, never its data; the other one: nothing
        assert "Titre zones" in eco and "Titre zones" in charter
        for text in (eco, charter):
            assert "DONNEE-" not in text and "cachee" not in text
    made = ask(client, h).json()
    client.post(
        f"/api/access-requests/{made['id']}/decision",
        json={"decision": "approve"},
        headers=h["cheffe"],
    )
    eco = client.get("/api/ecosystem", headers=h["chercheur"]).json()
    shares = [e for e in eco["graph"]["edges"] if e["kind"] == "shares"]
    assert shares == [
        {"source": "org:unikin", "target": "ds:zones", "kind": "shares",
         "agreement": f"demande-{made['id']}"}
    ]  # fmt: skip
    ville = next(o for o in eco["organisations"] if o["slug"] == "ville")
    assert [d["dataset"] for d in ville["holds"]] == ["zones"]
    assert ville["on_request"] == []  # the reader reads it now
    charter = client.get("/api/charter?lang=en", headers=h["chercheur"]).json()
    assert [a["id"] for a in charter["agreements"]] == [f"demande-{made['id']}"]
    assert charter["principles"][0]["title"] == "Open by default"
    zones = next(d for d in charter["datasets"] if d["dataset"] == "zones")
    assert zones["steward"] == "ville" and zones["access"] == "restricted"
    # a stranger sees no agreement
    assert client.get("/api/charter", headers=h["autre"]).json()["agreements"] == []


def test_an_approval_takes_a_free_agreement_id_and_leaves_nothing_open_on_failure(
    parties,
):
    """The id an approval wants may be taken (a request renumbered by a
    migration): it takes the next free one. A request withdrawn while the
    steward approves ends the draft agreement: nothing is opened."""
    from quartier.domain.agreements import Agreement, AgreementStatus
    from quartier.domain.ecosystem import RequestStatus
    from quartier.errors import Conflict
    from quartier.services import access_requests

    client, store, h = parties
    assert offer(client, h).status_code == 201
    r = ask(client, h).json()
    store.add_agreement(
        Agreement(f"demande-{r['id']}", "Autre", "ville", ("ong",), ("zones",),
                  "x", "2026-01-01", "2026-01-02", created="t")
    )  # fmt: skip
    url = f"/api/access-requests/{r['id']}/decision"
    done = client.post(url, json={"decision": "approve"}, headers=h["cheffe"])
    assert done.status_code == 200, done.text
    made = store.get_agreement(done.json()["agreement"])
    assert made.id == f"demande-{r['id']}-2" and made.status is AgreementStatus.ACTIVE
    # a request withdrawn between the steward's read and the write
    assert offer(client, h, "cachee").status_code == 201
    second = ask(client, h, dataset="cachee").json()
    steward = accounts.principal_of(store.get_user("cheffe"), via="token", store=store)
    pending = store.get_access_request(second["id"])
    store.decide_access_request(
        second["id"], RequestStatus.WITHDRAWN, by="chercheur", at="t"
    )
    original = store.get_access_request
    store.get_access_request = lambda _id: pending  # the steward's stale read
    try:
        with pytest.raises(Conflict):
            access_requests.decide(store, steward, second["id"], approve=True)
    finally:
        store.get_access_request = original
    left = [a for a in store.list_agreements() if "cachee" in a.datasets]
    assert [a.status for a in left] == [AgreementStatus.ENDED]
    reader = accounts.principal_of(
        store.get_user("chercheur"), via="token", store=store
    )
    assert "cachee" not in reader.grants

"""``/api/analyses``: run analyses as jobs, on both stores, through the one
authorisation layer (who may run, which inputs they may read)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from apiutil import wait_job
from fastapi.testclient import TestClient
from webutil import make_client

from quartier.access import LOCAL
from quartier.domain.actors import ActorKind, Organisation
from quartier.services import accounts
from quartier.services.demo import build_demo
from quartier.storage.base import SqlStore


@pytest.fixture
def town(store: SqlStore) -> Iterator[tuple[TestClient, SqlStore, dict]]:
    build_demo(store)
    store.add_organisation(Organisation("ong", "ONG", ActorKind.NGO))
    headers = {}
    for name, admin, role in (
        ("admin", True, None),
        ("gardienne", False, "steward"),
        ("lecteur", False, "viewer"),
    ):
        accounts.create_user(
            store, name, password="un-mot-de-passe", is_admin=admin, actor=LOCAL
        )
        if role:
            accounts.grant_role(store, name, "ong", role, actor=LOCAL)
        token = accounts.issue_token(store, name, actor=LOCAL).secret
        headers[name] = {"Authorization": f"Bearer {token}"}
    with make_client(store, webhook_interval=0) as client:
        yield client, store, headers


def test_list_then_run_exposure_as_a_job(town):
    client, store, h = town
    listed = client.get("/api/analyses").json()["analyses"]
    assert {a["name"] for a in listed} == {
        "exposure",
        "accessibility",
        "vulnerability",
        "expansion",
        "suitability",
        "densification",
    }
    exposure = next(a for a in listed if a["name"] == "exposure")
    assert exposure["parameters"]["buffer_m"]["default"] == 0.0

    r = client.post(
        "/api/analyses/exposure", json={"buffer_m": 30}, headers=h["gardienne"]
    )
    assert r.status_code == 202, r.text
    job = wait_job(client, r.headers["location"], h["gardienne"])
    assert job["status"] == "done", job
    result = job["result"]
    assert result["summary"]["buildings_exposed"] > 0
    assert result["datasets"] == {
        "exposition_erosions": 1,
        "exposition_erosions_synthese": 1,
    }
    assert store.get_version("exposition_erosions", 1).author == "gardienne"
    # the result is in the catalogue, on the map and in the API like any dataset
    assert client.get("/api/datasets/exposition_erosions").status_code == 200
    tiles = client.get("/ogc/collections/exposition_erosions/tiles/WebMercatorQuad")
    assert tiles.status_code == 200


@pytest.mark.parametrize(("who", "status"), [(None, 401), ("lecteur", 403)])
def test_only_editors_run_analyses(town, who, status):
    client, _, h = town
    r = client.post(
        "/api/analyses/accessibility", json={}, headers=h[who] if who else {}
    )
    assert r.status_code == status


def test_inputs_the_caller_may_not_read_are_unknown(town):
    client, store, h = town
    store.update_dataset("population_estimee", access="restricted")
    r = client.post("/api/analyses/vulnerability", json={}, headers=h["gardienne"])
    job = wait_job(client, r.headers["location"], h["gardienne"])
    # the default population table is one the caller cannot see: it is not
    # used, and its name is not given away either
    assert job["status"] == "failed" and "no population table" in job["error"]
    assert "population_estimee" not in str(job)
    named = client.post(
        "/api/analyses/vulnerability",
        json={"facilities": "sante", "hazard": "erosions"},
        headers=h["gardienne"],
    )
    wait_job(client, named.headers["location"], h["gardienne"])
    assert not any(d.slug == "vulnerabilite" for d in store.list_datasets())
    # an administrator may read it: the result is as closed as that input
    r = client.post("/api/analyses/vulnerability", json={}, headers=h["admin"])
    job = wait_job(client, r.headers["location"], h["admin"])
    assert job["status"] == "done", job
    assert store.get_dataset("vulnerabilite").access.value == "restricted"


def test_bad_parameters_are_refused(town):
    client, _, h = town
    for body in ({"profile": "bike"}, {"limit_min": -1}, {"nope": 1}):
        r = client.post("/api/analyses/accessibility", json=body, headers=h["admin"])
        assert r.status_code == 400, body
    r = client.post(
        "/api/analyses/vulnerability",
        json={"weights": {"revenu": 1}},
        headers=h["admin"],
    )
    job = wait_job(client, r.headers["location"], h["admin"])
    assert job["status"] == "failed" and "revenu" in job["error"]

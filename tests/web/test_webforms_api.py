"""``POST /api/forms/{id}/submissions`` (what the portal's web forms send), on
both stores: session + CSRF, the same idempotency and conflicts as OpenRosa,
permissions, size limits; then the pages ``/formulaires`` and the service
worker."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from formutil import instance, xlsform
from webutil import make_client

from quartier.access import LOCAL
from quartier.domain import ActorKind, Organisation
from quartier.services import accounts
from quartier.services.forms import add_form
from quartier.services.importer import ImportOptions, import_path
from quartier.storage.base import SqlStore

PASSWORD = "un-mot-de-passe"
URL = "/api/forms/enquete/submissions"


@pytest.fixture
def town(store: SqlStore, tmp_path: Path) -> Iterator[tuple[TestClient, SqlStore]]:
    store.ensure_schema()
    store.add_organisation(Organisation("ong", "ONG Quartiers", ActorKind.NGO))
    store.add_organisation(Organisation("mairie", "Mairie", ActorKind.NGO))
    for name, org, role in (
        ("enqueteur", "ong", "contributor"),
        ("lecteur", "ong", "viewer"),
        ("ailleurs", "mairie", "contributor"),
        ("moderatrice", "ong", "moderator"),
    ):
        accounts.create_user(store, name, password=PASSWORD, actor=LOCAL)
        accounts.grant_role(store, name, org, role, actor=LOCAL)
    places = tmp_path / "lieux.geojson"
    puits = {
        "type": "Feature",
        "properties": {"nom": "Puits"},
        "geometry": {"type": "Point", "coordinates": [15.33, -4.42]},
    }
    places.write_text(json.dumps({"type": "FeatureCollection", "features": [puits]}))
    import_path(
        store,
        places,
        ImportOptions(dataset="lieux", title="Lieux", producer="ong", steward="ong"),
    )
    add_form(
        store,
        xlsform(tmp_path / "enquete.xlsx"),
        organisation="ong",
        actor=LOCAL,
        dataset="lieux",
    )
    with make_client(store) as client:
        yield client, store


def _session(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/api/session", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"X-CSRF-Token": r.json()["csrf_token"]}


def _files(xml: bytes, photo: bytes = b"\xff\xd8\xff JPEG") -> list:
    return [
        ("xml_submission_file", ("submission.xml", xml, "text/xml")),
        ("photo.jpg", ("photo.jpg", photo, "image/jpeg")),
    ]


def test_send_once_then_again_then_other_content(town) -> None:
    client, store = town
    csrf = _session(client, "enqueteur")
    r = client.post(URL, files=_files(instance("uuid:w1")), headers=csrf)
    assert r.status_code == 201, r.text
    assert r.json() == {
        "instance_id": "uuid:w1",
        "form_id": "enquete",
        "status": "pending",
        "created": True,
        "attachments": ["photo.jpg"],
    }
    again = client.post(URL, files=_files(instance("uuid:w1")), headers=csrf)
    assert again.status_code == 200 and again.json()["created"] is False
    other = client.post(
        URL, files=_files(instance("uuid:w1", nom="Autre")), headers=csrf
    )
    assert other.status_code == 409
    subs = store.list_submissions(form_id="enquete", limit=None)
    assert [(s.instance_id, s.submitter, s.status.value) for s in subs] == [
        ("uuid:w1", "enqueteur", "pending")
    ]
    assert "<nom>Marché</nom>" in subs[0].xml


def test_moderated_like_a_collect_submission(town) -> None:
    client, store = town
    csrf = _session(client, "enqueteur")
    sent = client.post(URL, files=_files(instance("uuid:w9")), headers=csrf)
    assert sent.status_code == 201, sent.text
    client.cookies.clear()
    csrf = _session(client, "moderatrice")
    pending = client.get(URL + "?status=pending").json()["submissions"]
    assert [s["instance_id"] for s in pending] == ["uuid:w9"]
    r = client.post(
        "/api/submissions/uuid:w9/review", json={"status": "approved"}, headers=csrf
    )
    assert r.status_code == 200, r.text
    assert r.json()["dataset_version"]["dataset"] == "lieux"
    items = client.get("/ogc/collections/lieux/items").json()["features"]
    assert sorted(f["properties"]["nom"] for f in items) == ["Marché", "Puits"]


def test_csrf_and_sign_in_are_required(town) -> None:
    client, _ = town
    anonymous = client.post(URL, files=_files(instance("uuid:w2")))
    assert anonymous.status_code == 401
    _session(client, "enqueteur")
    no_csrf = client.post(URL, files=_files(instance("uuid:w2")))
    assert no_csrf.status_code == 403 and "CSRF" in no_csrf.json()["description"]


@pytest.mark.parametrize("user", ["ailleurs", "lecteur"])
def test_only_collectors_of_the_organisation(town, user: str) -> None:
    client, store = town
    csrf = _session(client, user)
    r = client.post(URL, files=_files(instance("uuid:w3")), headers=csrf)
    # not told apart from a form that does not exist (no id probing)
    assert r.status_code == 404, r.text
    unknown = client.post(
        "/api/forms/inconnu/submissions",
        files=_files(instance("uuid:w3").replace(b'"enquete"', b'"inconnu"')),
        headers=csrf,
    )
    assert unknown.status_code == 404
    assert r.json()["description"] == unknown.json()["description"].replace(
        "inconnu", "enquete"
    )
    assert store.list_submissions(form_id="enquete", limit=None) == []
    assert client.get("/formulaires/enquete").status_code == 404


def test_bad_xml_wrong_form_and_too_large(town) -> None:
    client, store = town
    csrf = _session(client, "enqueteur")
    bad = client.post(URL, files=_files(b"<data id='enquete'"), headers=csrf)
    assert bad.status_code == 400 and "xml_submission_file" in bad.json()["description"]
    unknown = client.post(
        "/api/forms/autre/submissions", files=_files(instance("uuid:w4")), headers=csrf
    )
    assert unknown.status_code == 404
    other_form = instance("uuid:w4").replace(b'id="enquete"', b'id="autre"')
    wrong = client.post(URL, files=_files(other_form), headers=csrf)
    assert wrong.status_code == 400 and "id" in wrong.json()["description"]
    big = client.post(
        URL,
        files=_files(instance("uuid:w5"), photo=b"\xff" * (10 * 2**20 + 1)),
        headers=csrf,
    )
    assert big.status_code == 413, big.text
    no_xml = client.post(URL, data={"x": "y"}, headers=csrf)
    assert no_xml.status_code == 400
    assert store.list_submissions(form_id="enquete", limit=None) == []


def test_pages_and_service_worker(town) -> None:
    client, _ = town
    r = client.get("/formulaires", follow_redirects=False)
    assert r.status_code == 303 and "/connexion" in r.headers["location"]
    _session(client, "enqueteur")
    listed = client.get("/formulaires")
    assert listed.status_code == 200 and 'href="/formulaires/enquete"' in listed.text
    page = client.get("/formulaires/enquete?lang=en")
    assert page.status_code == 200 and "webform-config" in page.text
    assert client.get("/formulaires/inconnu").status_code == 404
    sw = client.get("/formulaires/sw.js")
    assert sw.status_code == 200 and sw.headers["content-type"].startswith(
        "text/javascript"
    )
    assert "__VERSION__" not in sw.text
    assert sw.headers["service-worker-allowed"] == "/formulaires"
    state = client.get("/formulaires/session").json()
    assert state["user"] == "enqueteur" and len(state["csrf"]) > 20
    # the service worker serves a kept page only to the user it names
    assert page.headers["x-quartier-user"] == "enqueteur"
    assert listed.headers["x-quartier-user"] == "enqueteur"
    assert '"user"' not in page.text.split('id="webform-config">')[1].split("<")[0]


def test_sign_out_wipes_the_browser_storage(town) -> None:
    client, _ = town
    csrf = _session(client, "enqueteur")["X-CSRF-Token"]
    kept = client.post(
        "/deconnexion", data={"csrf_token": "faux"}, follow_redirects=False
    )
    assert kept.status_code == 303 and "clear-site-data" not in kept.headers
    assert client.get("/formulaires/session").json()["user"] == "enqueteur"
    out = client.post("/deconnexion", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert out.headers["clear-site-data"] == '"cache", "storage"'
    assert client.get("/formulaires/session").json()["user"] is None

"""From ODK Collect to the map, on both stores: a submission arrives pending,
its contributor sees its status, a moderator of the NGO approves it and it
is in the target dataset as a new version (served by OGC API Features);
rejections carry a reason; nobody reviews what they may not."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from formutil import basic, instance, multipart, xlsform
from webutil import make_client

from quartier.access import LOCAL
from quartier.domain import ActorKind, Organisation
from quartier.domain.forms import Status
from quartier.errors import Conflict
from quartier.forms import EXAMPLE_FORM
from quartier.services import accounts
from quartier.services.forms import add_form
from quartier.services.importer import ImportOptions, import_path
from quartier.services.moderation import review
from quartier.storage.base import SqlStore

PLACES = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"nom": "Puits"},
            "geometry": {"type": "Point", "coordinates": [15.33, -4.42]},
        }
    ],
}


@pytest.fixture
def ngo(store: SqlStore, tmp_path: Path) -> Iterator[tuple[TestClient, SqlStore, dict]]:
    store.ensure_schema()
    store.add_organisation(Organisation("ong", "ONG Quartiers", ActorKind.NGO))
    tokens = {}
    for name, role in (
        ("enqueteur", "contributor"),
        ("autre", "contributor"),
        ("moderatrice", "moderator"),
    ):
        accounts.create_user(store, name, password="un-mot-de-passe", actor=LOCAL)
        accounts.grant_role(store, name, "ong", role, actor=LOCAL)
        secret = accounts.issue_token(store, name, actor=LOCAL).secret
        tokens[name] = {"Authorization": f"Bearer {secret}"}
    places = tmp_path / "lieux.geojson"
    places.write_text(json.dumps(PLACES), encoding="utf-8")
    import_path(
        store,
        places,
        ImportOptions(dataset="lieux", title="Lieux", producer="ong", steward="ong"),
    )
    form, _, _ = add_form(
        store,
        xlsform(tmp_path / "enquete.xlsx"),
        organisation="ong",
        actor=LOCAL,
        dataset="lieux",
    )
    assert form.mapping == {"/data/nom": "nom", "/data/lieu": "geometry"}
    with make_client(store) as client:
        yield client, store, tokens


def send(client: TestClient, instance_id: str, nom: str = "Marché") -> None:
    r = client.post(
        "/openrosa/submission",
        headers=basic("enqueteur"),
        files=multipart(instance(instance_id, nom=nom)),
    )
    assert r.status_code == 201, r.text


def test_submission_to_map(ngo):
    client, store, h = ngo
    send(client, "uuid:un")
    forms = client.get("/api/forms", headers=h["moderatrice"]).json()["forms"]
    assert forms[0]["submissions"] == {"pending": 1}
    # the contributor sees what they sent, the other contributor nothing
    mine = client.get("/api/submissions/mine", headers=h["enqueteur"]).json()
    assert [(s["instance_id"], s["status"]) for s in mine["submissions"]] == [
        ("uuid:un", "pending")
    ]
    other = client.get("/api/forms/enquete/submissions", headers=h["autre"]).json()
    assert other["submissions"] == []
    assert client.get("/api/submissions/uuid:un", headers=h["autre"]).status_code == 404
    # a contributor may not review, even their own
    r = client.post(
        "/api/submissions/uuid:un/review",
        json={"status": "approved"},
        headers=h["enqueteur"],
    )
    assert r.status_code == 403
    # the moderator sees the photo and approves
    listed = client.get("/api/forms/enquete/submissions", headers=h["moderatrice"])
    photo = listed.json()["submissions"][0]["attachments"][0]["href"]
    assert client.get(photo, headers=h["moderatrice"]).content == b"\xff\xd8\xff JPEG"
    r = client.post(
        "/api/submissions/uuid:un/review",
        json={"status": "approved", "note": "merci"},
        headers=h["moderatrice"],
    )
    assert r.status_code == 200, r.text
    assert r.json()["dataset_version"] == {"dataset": "lieux", "version": 2}
    items = client.get("/ogc/collections/lieux/items").json()["features"]
    names = {f["properties"]["nom"]: f for f in items}
    assert set(names) == {"Puits", "Marché"}  # history kept, the new one added
    assert names["Marché"]["geometry"]["coordinates"] == [15.34, -4.41]
    assert names["Marché"]["properties"]["submission_id"] == "uuid:un"
    assert store.list_versions("lieux")[-1].author == "moderatrice"
    # final: a second approval is refused, and adds nothing
    again = client.post(
        "/api/submissions/uuid:un/review",
        json={"status": "approved"},
        headers=h["moderatrice"],
    )
    assert again.status_code == 409
    assert len(store.list_versions("lieux")) == 2
    mine = client.get("/api/submissions/mine", headers=h["enqueteur"]).json()
    assert mine["submissions"][0]["status"] == "approved"


def test_rejection_needs_a_reason_sent_back(ngo):
    client, store, h = ngo
    send(client, "uuid:deux", nom="Flou")
    review = "/api/submissions/uuid:deux/review"
    r = client.post(review, json={"status": "rejected"}, headers=h["moderatrice"])
    assert r.status_code == 400 and "reason" in r.json()["description"]
    r = client.post(
        review,
        json={"status": "rejected", "note": "Photo floue, reprenez-la"},
        headers=h["moderatrice"],
    )
    assert r.status_code == 200
    mine = client.get("/api/submissions/mine", headers=h["enqueteur"]).json()
    assert mine["submissions"][0]["note"] == "Photo floue, reprenez-la"
    assert len(store.list_versions("lieux")) == 1  # nothing reached the dataset
    r = client.post(
        "/api/submissions/uuid:deux/review",
        json={"status": "has_issues", "note": "à revoir"},
        headers=h["moderatrice"],
    )
    assert r.status_code == 200 and r.json()["status"] == "has_issues"


def test_publish_forms_through_the_api(ngo, tmp_path):
    import openpyxl

    from quartier.forms import EXAMPLE_FORM

    client, store, h = ngo
    accounts.create_user(store, "gardienne", password="un-mot-de-passe", actor=LOCAL)
    accounts.grant_role(store, "gardienne", "ong", "steward", actor=LOCAL)
    steward = {
        "Authorization": "Bearer "
        + accounts.issue_token(store, "gardienne", actor=LOCAL).secret
    }
    upload = {"file": ("profil.xlsx", EXAMPLE_FORM.read_bytes())}
    r = client.post(
        "/api/forms", data={"organisation": "ong"}, files=upload, headers=steward
    )
    assert r.status_code == 201, r.text
    assert r.json()["form_id"] == "profil_quartier" and r.json()["new"]
    again = client.post(
        "/api/forms", data={"organisation": "ong"}, files=upload, headers=steward
    )
    assert again.status_code == 200 and not again.json()["new"]
    # contributors fill forms; they do not publish them
    r = client.post(
        "/api/forms", data={"organisation": "ong"}, files=upload, headers=h["autre"]
    )
    assert r.status_code == 403
    broken = tmp_path / "casse.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "survey"
    for row in (("type", "name", "label"), ("text", "a", "A"), ("text", "a", "B")):
        book.active.append(row)
    book.save(broken)
    r = client.post(
        "/api/forms",
        data={"organisation": "ong"},
        files={"file": ("casse.xlsx", broken.read_bytes())},
        headers=steward,
    )
    assert r.status_code == 400
    assert (
        "casse.xlsx" in r.json()["description"] and "survey" in r.json()["description"]
    )
    r = client.post(
        "/api/forms",
        data={"organisation": "ong"},
        files={"file": ("notes.txt", b"hello")},
        headers=steward,
    )
    assert r.status_code == 400
    listed = client.get("/openrosa/formList", headers=basic("enqueteur")).text
    assert "profil_quartier" in listed and "enquete" in listed


def test_no_reaching_into_another_organisation(ngo, tmp_path):
    """A steward of another organisation may neither aim a form at this NGO's
    dataset nor take over its form id; a contributor's SVG is refused, and
    files are served as downloads, never run in the portal."""
    client, store, h = ngo
    store.add_organisation(Organisation("rival", "Rival", ActorKind.NGO))
    accounts.create_user(store, "chef", password="un-mot-de-passe", actor=LOCAL)
    accounts.grant_role(store, "chef", "rival", "steward", actor=LOCAL)
    chef = {
        "Authorization": "Bearer "
        + accounts.issue_token(store, "chef", actor=LOCAL).secret
    }
    form = xlsform(tmp_path / "enquete.xlsx")
    upload = {"file": ("enquete.xlsx", form.read_bytes())}
    r = client.post(
        "/api/forms",
        data={"organisation": "rival", "dataset": "lieux"},
        files=upload,
        headers=chef,
    )
    assert r.status_code == 403, r.text
    r = client.post(
        "/api/forms", data={"organisation": "rival"}, files=upload, headers=chef
    )
    assert r.status_code == 409 and "belongs to organisation 'ong'" in r.text
    assert store.get_form("enquete").organisation == "ong"
    svg = [
        ("xml_submission_file", ("s.xml", instance("uuid:svg"), "text/xml")),
        ("x.svg", ("x.svg", b"<svg onload='alert(1)'/>", "image/svg+xml")),
    ]
    r = client.post("/openrosa/submission", headers=basic("enqueteur"), files=svg)
    assert r.status_code == 400 and "not accepted" in r.text
    send(client, "uuid:photo")
    served = client.get(
        "/api/submissions/uuid:photo/files/photo.jpg", headers=h["moderatrice"]
    )
    assert served.headers["content-disposition"].startswith("attachment")
    assert "sandbox" in served.headers["content-security-policy"]
    # another sender may not add files to this submission
    r = client.post(
        "/openrosa/submission",
        headers=basic("autre"),
        files=multipart(instance("uuid:photo")),
    )
    assert r.status_code == 409


def test_simultaneous_approvals_into_one_dataset_lose_nothing(ngo):
    """Moderators approving at the same moment: every approved feature is in
    the dataset (each approval rebuilds on the version that landed first)."""
    client, store, _ = ngo
    names = [f"Lieu {i}" for i in range(6)]
    for i, nom in enumerate(names):
        send(client, f"uuid:en-meme-temps-{i}", nom=nom)
    moderator = accounts.principal_of(store.get_user("moderatrice"), via="test")
    errors: list[BaseException] = []

    def approve(i: int) -> None:
        try:
            review(store, moderator, f"uuid:en-meme-temps-{i}", Status.APPROVED)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=approve, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    got = [r["nom"] for b in store.read_batches("lieux") for r in b.to_pylist()]
    assert sorted(got) == sorted(["Puits", *names])
    assert store.get_dataset("lieux").current_version == 1 + 6
    # approving again (a retried click) adds nothing and is refused
    with pytest.raises(Conflict):
        review(store, moderator, "uuid:en-meme-temps-0", Status.APPROVED)
    assert len(got) == 7


def test_nobody_reviews_what_they_sent(ngo):
    client, store, h = ngo
    r = client.post(
        "/openrosa/submission",
        headers=basic("moderatrice"),
        files=multipart(instance("uuid:la-mienne", nom="Chez moi")),
    )
    assert r.status_code == 201, r.text
    review_url = "/api/submissions/uuid:la-mienne/review"
    mine = client.post(
        review_url, json={"status": "approved"}, headers=h["moderatrice"]
    )
    assert mine.status_code == 403 and "four eyes" in mine.text
    assert store.get_submission("uuid:la-mienne").status is Status.PENDING
    assert store.get_dataset("lieux").current_version == 1


def test_a_form_fills_the_dataset_made_for_it(ngo):
    """The example form publishes into a new dataset; the first approval
    gives it typed fields and a point, served like any other collection."""
    client, store, h = ngo
    form, _, _ = add_form(
        store, EXAMPLE_FORM, organisation="ong", actor=LOCAL, dataset="profils_terrain"
    )
    xml = (
        f'<data id="profil_quartier" version="{form.version}">'
        "<date_visite>2026-11-26</date_visite><quartier>mbuku</quartier>"
        "<position>-4.4301 15.3310 312 5</position><type_habitat>informel</type_habitat>"
        "<nb_menages>12</nb_menages><distance_sante>1.5</distance_sante>"
        "<points_eau><point_eau_type>puits</point_eau_type></points_eau>"
        "<meta><instanceID>uuid:profil-1</instanceID></meta></data>"
    )
    r = client.post(
        "/openrosa/submission",
        headers=basic("enqueteur"),
        files={"xml_submission_file": ("s.xml", xml.encode(), "text/xml")},
    )
    assert r.status_code == 201, r.text
    said = client.get("/api/submissions/uuid:profil-1", headers=h["moderatrice"])
    answers = {a["label"]: a["value"] for a in said.json()["answers"]}
    assert answers["Nombre de ménages (estimation)"] == "12"
    assert answers["Quartier"] == "mbuku"
    done = client.post(
        "/api/submissions/uuid:profil-1/review",
        json={"status": "approved"},
        headers=h["moderatrice"],
    )
    assert done.status_code == 200, done.text
    types = {
        f.name: f.type.value for f in store.get_version("profils_terrain", 1).fields
    }
    assert types["nb_menages"] == "integer" and types["distance_sante"] == "real"
    assert types["date_visite"] == "date" and types["quartier"] == "text"
    items = client.get(
        "/ogc/collections/profils_terrain/items", headers=h["moderatrice"]
    ).json()
    (feature,) = items["features"]
    assert feature["geometry"] == {"type": "Point", "coordinates": [15.331, -4.4301]}
    assert feature["properties"]["nb_menages"] == 12
    assert feature["properties"]["submission_id"] == "uuid:profil-1"
    # restricted: the public does not see what residents told the NGO
    assert client.get("/ogc/collections/profils_terrain/items").status_code == 404

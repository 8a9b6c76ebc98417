"""Campaigns through the platform API, on both stores: a steward creates one,
contributors take and map cells, someone else validates, progress and stats
follow; who may see, map, validate and manage is checked on every route."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from formutil import xlsform
from webutil import make_client

from quartier.access import LOCAL
from quartier.domain import (
    AccessLevel,
    ActorKind,
    Dataset,
    Field,
    FieldType,
    Organisation,
)
from quartier.domain.forms import Status, Submission
from quartier.errors import InvalidInput
from quartier.services import accounts
from quartier.services.forms import add_form
from quartier.storage.base import SqlStore

#: about 660 m × 550 m in Kisenso
BBOX = [15.33, -4.43, 15.336, -4.425]


@pytest.fixture
def city(
    store: SqlStore, tmp_path: Path
) -> Iterator[tuple[TestClient, SqlStore, dict]]:
    store.ensure_schema()
    store.add_organisation(Organisation("ong", "ONG Quartiers", ActorKind.NGO))
    store.add_organisation(Organisation("ville", "Ville", ActorKind.NGO))
    h = {}
    for name, org, role in (
        ("gardienne", "ong", "steward"),
        ("moderatrice", "ong", "moderator"),
        ("awa", None, None),  # signed in, no role anywhere
        ("bena", None, None),
        ("agent", "ville", "steward"),
    ):
        accounts.create_user(store, name, password="un-mot-de-passe", actor=LOCAL)
        if org:
            accounts.grant_role(store, name, org, role, actor=LOCAL)
        secret = accounts.issue_token(store, name, actor=LOCAL).secret
        h[name] = {"Authorization": f"Bearer {secret}"}
    form, _, _ = add_form(
        store,
        xlsform(tmp_path / "f.xlsx"),
        organisation="ong",
        actor=LOCAL,
    )
    store.add_submission(
        Submission(
            "uuid:1",
            form.form_id,
            form.version,
            "<data/>",
            "awa",
            received="2026-11-26T10:00:00Z",
        )
    )
    store.set_submission_status(
        "uuid:1",
        Status.APPROVED,
        reviewer="moderatrice",
        note="",
        at="2026-11-26T11:00:00Z",
    )
    with make_client(store) as client:
        yield client, store, h


def create(client, h, **kw):
    body = {
        "slug": "kisenso",
        "title": "Bâtiments de Kisenso",
        "organisation": "ong",
        "grid": "square",
        "cell_size": 250,
        "bbox": BBOX,
        "status": "active",
        "forms": ["enquete"],
    } | kw
    return client.post("/api/campaigns", json=body, headers=h)


def test_create_and_who_may(city):
    client, store, h = city
    assert create(client, {}).status_code == 401
    r = create(client, h["agent"])
    assert r.status_code == 403 and "may not manage campaigns of 'ong'" in r.text
    r = create(client, h["gardienne"], cell_size=10)
    assert r.status_code == 400 and "choose larger cells" in r.text
    r = create(client, h["gardienne"], bbox=None)
    assert r.status_code == 400 and "exactly one of area, bbox" in r.text
    assert store.list_campaigns() == []  # refusals change nothing
    r = create(client, h["gardienne"], status="draft")
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["cells"] == 9 and made["rights"]["manage"]  # 3 × 3 squares of 250 m
    assert client.get("/api/campaigns/kisenso").status_code == 404  # draft: hidden
    assert client.get("/api/campaigns").json()["campaigns"] == []
    r = client.patch(
        "/api/campaigns/kisenso", json={"status": "active"}, headers=h["agent"]
    )
    assert r.status_code == 404  # cannot see the draft: does not exist for them
    r = client.patch(
        "/api/campaigns/kisenso", json={"status": "active"}, headers=h["gardienne"]
    )
    assert r.status_code == 200 and r.json()["status"] == "active"
    seen = client.get("/api/campaigns/kisenso").json()
    assert seen["progress"]["cells"] == 9 and seen["rights"]["map"] is False
    seen = client.get("/api/campaigns/kisenso", headers=h["moderatrice"]).json()
    assert [f["form_id"] for f in seen["attached_forms"]] == ["enquete"]
    hexes = create(
        client,
        h["gardienne"],
        slug="hex",
        grid="hexagon",
        bbox=None,
        area={
            "type": "Polygon",
            "coordinates": [
                [[15.33, -4.43], [15.336, -4.43], [15.336, -4.425], [15.33, -4.43]]
            ],
        },
    )
    assert hexes.status_code == 201 and 3 < hexes.json()["cells"] < 20


def test_lock_map_validate_and_stats(city):
    client, store, h = city
    assert create(client, h["gardienne"]).status_code == 201
    url = "/api/campaigns/kisenso/tasks/5"
    assert client.post(url + "/lock").status_code == 401  # anonymous reads only
    r = client.post(url + "/lock", json={"comment": "je prends"}, headers=h["awa"])
    assert r.status_code == 200 and r.json()["properties"]["mine"]
    retry = client.post(url + "/lock", headers=h["awa"])  # the reply was lost
    assert retry.status_code == 200 and retry.json() == r.json()
    r = client.post(url + "/lock", headers=h["bena"])  # names are for validators
    assert r.status_code == 409 and "locked by another contributor until" in r.text
    assert "awa" not in r.text
    r = client.post(url + "/lock", headers=h["moderatrice"])
    assert r.status_code == 409 and "locked by awa until" in r.text
    assert client.post(url + "/mapped", headers=h["bena"]).status_code == 409
    r = client.post(url + "/mapped", headers=h["awa"])
    assert r.json()["properties"]["state"] == "mapped"
    retry = client.post(url + "/mapped", headers=h["awa"])  # the reply was lost
    assert retry.status_code == 200 and retry.json() == r.json()
    r = client.post(url + "/lock", headers=h["awa"])  # cannot validate own work
    assert r.status_code == 403
    r = client.post(url + "/lock", headers=h["bena"])  # not a validator
    assert r.status_code == 403 and "only a validator" in r.text
    assert client.post(url + "/lock", headers=h["moderatrice"]).status_code == 200
    r = client.post(
        url + "/validate", json={"comment": "bien"}, headers=h["moderatrice"]
    )
    assert r.status_code == 200 and r.json()["properties"]["state"] == "validated"
    assert [e["action"] for e in r.json()["history"]] == [
        "lock",
        "mapped",
        "lock",
        "validate",
    ]

    # a validator who mapped a cell may not validate it
    own = "/api/campaigns/kisenso/tasks/6"
    assert client.post(own + "/lock", headers=h["moderatrice"]).status_code == 200
    assert client.post(own + "/mapped", headers=h["moderatrice"]).status_code == 200
    r = client.post(own + "/lock", headers=h["moderatrice"])
    assert r.status_code == 403 and "someone else must validate it" in r.text

    progress = client.get("/api/campaigns/kisenso").json()["progress"]
    assert progress["by_state"]["validated"] == 1
    assert progress["validated_pct"] == round(100 / 9, 1)
    staff = client.get("/api/campaigns/kisenso/stats", headers=h["moderatrice"]).json()
    rows = {u["user"]: u for u in staff["users"]}
    assert rows["awa"]["mapped"] == 1 and rows["moderatrice"]["validated"] == 1
    assert rows["moderatrice"]["mapped"] == 1
    assert rows["awa"]["submissions"] == {"approved": 1}
    assert (
        staff["submissions"] == {"approved": 1} and staff["activity"][0]["mapped"] == 2
    )
    public = client.get("/api/campaigns/kisenso/stats").json()
    assert public["users"] == [] and public["contributors"] == 2  # names stay private
    own = client.get("/api/campaigns/kisenso/stats", headers=h["awa"]).json()
    assert [u["user"] for u in own["users"]] == ["awa"]
    tasks = client.get("/api/campaigns/kisenso/tasks").json()
    assert len(tasks["features"]) == 9
    five = tasks["features"][4]["properties"]
    assert five["state"] == "validated" and five["mapped_by"] == ""
    hist = client.get(url).json()["history"]
    assert {e["actor"] for e in hist} == {""}  # anonymous: no names


def test_closed_and_private_campaigns(city):
    client, store, h = city
    assert create(client, h["gardienne"], public=False).status_code == 201
    assert client.get("/api/campaigns/kisenso").status_code == 404
    assert (
        client.get("/api/campaigns/kisenso/tasks", headers=h["awa"]).status_code == 404
    )
    assert (
        client.get("/api/campaigns/kisenso", headers=h["moderatrice"]).status_code
        == 200
    )
    client.patch(
        "/api/campaigns/kisenso",
        json={"public": True, "status": "closed"},
        headers=h["gardienne"],
    )
    r = client.post("/api/campaigns/kisenso/tasks/1/lock", headers=h["awa"])
    assert r.status_code == 403 and "closed" in r.text
    assert client.get("/api/campaigns/kisenso/tasks/99").status_code == 404


def test_concurrent_lock_over_http(city):
    client, store, h = city
    assert create(client, h["gardienne"]).status_code == 201
    codes: list[int] = []
    barrier = threading.Barrier(2)

    def take(user):
        barrier.wait()
        codes.append(
            client.post(
                "/api/campaigns/kisenso/tasks/2/lock", headers=h[user]
            ).status_code
        )

    threads = [threading.Thread(target=take, args=(u,)) for u in ("awa", "bena")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200, 409]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"organisation": "inconnue"}, "no organisation 'inconnue'"),
        ({"forms": ["absent"]}, "forms: no form 'absent'"),
        ({"dataset": "absent"}, "dataset: no dataset 'absent'"),
        ({"starts": "2026-12-01", "ends": "2026-11-01"}, "ends: before starts"),
        ({"starts": "demain"}, "starts: expected a date"),
        ({"bbox": [15.34, -4.43, 15.33, -4.42]}, "bbox: expected min_lon"),
        (
            {"bbox": None, "area": {"type": "Point", "coordinates": [15.3, -4.4]}},
            "expected a polygon",
        ),
        ({"bbox": None, "area": {"type": "Nope"}}, "area: not a GeoJSON"),
        (
            {
                "bbox": None,
                "area_dataset": "absent",
                "where_field": "name",
                "where_value": "x",
            },
            "no dataset 'absent'",
        ),
        ({"slug": "Mauvais Nom"}, "slug"),
    ],
)
def test_bad_input_is_named_and_changes_nothing(city, changes, message):
    client, store, h = city
    r = create(client, h["gardienne"], **changes)
    assert r.status_code in (400, 422), r.text
    assert message in r.text
    assert store.list_campaigns() == []


def _areas(
    store: SqlStore,
    slug: str,
    level: str,
    producer: str,
    sensitive: tuple[str, ...] = ("telephone",),
) -> None:
    """A dataset of two quartiers with a sensitive field."""
    import pyarrow as pa
    import shapely

    store.create_dataset(
        Dataset(
            slug=slug,
            title=slug,
            access=AccessLevel(level),
            producer=producer,
            steward=producer,
            sensitive_fields=list(sensitive),
        )
    )
    x0, y0, x1, y1 = BBOX
    boxes = [
        shapely.box(x0, y0, (x0 + x1) / 2, y1),
        shapely.box((x0 + x1) / 2, y0, x1, y1),
    ]
    store.write_version(
        slug,
        [
            pa.record_batch(
                {
                    "geometry": pa.array([b.wkb for b in boxes], pa.binary()),
                    "name": pa.array(["Kabila", "Ngomba"]),
                    "telephone": pa.array(["0812", "0813"]),
                }
            )
        ],
        fields=[Field("name", FieldType.TEXT), Field("telephone", FieldType.TEXT)],
        geometry_type="POLYGON",
    )


def _xlsform(path: Path, form_id: str) -> Path:
    import openpyxl

    book = openpyxl.load_workbook(xlsform(path))
    book["settings"]["A2"] = form_id
    book.save(path)
    return path


def test_forms_of_other_organisations_stay_out(city, tmp_path):
    """A form names only a campaign of its own organisation; one that names
    another's (stored before this rule) is neither listed nor counted."""
    client, store, h = city
    assert create(client, h["gardienne"], forms=[]).status_code == 201
    agent = accounts.principal_from_token(store, h["agent"]["Authorization"][7:])
    path = _xlsform(tmp_path / "g.xlsx", "intrus")
    suivi = _xlsform(tmp_path / "s.xlsx", "suivi")
    for who, org, slug in ((agent, "ville", "kisenso"), (LOCAL, "ville", "kisenso")):
        with pytest.raises(InvalidInput, match=f"no campaign 'kisenso' of .*'{org}'"):
            add_form(
                store,
                path,
                organisation=org,
                actor=who,
                campaign=slug,
            )
    with pytest.raises(InvalidInput, match="no campaign 'absente' of"):
        add_form(store, suivi, organisation="ong", actor=LOCAL, campaign="absente")
    assert [f.form_id for f in store.list_forms()] == ["enquete"]  # nothing stored
    own, _, _ = add_form(
        store, suivi, organisation="ong", actor=LOCAL, campaign="kisenso"
    )
    # a form of another organisation naming the campaign, stored before the rule
    other, _, _ = add_form(store, path, organisation="ville", actor=LOCAL)
    store.add_form(replace(other, version="2", md5="autre", campaign="kisenso"), [])
    store.add_submission(
        Submission(
            "uuid:9",
            "intrus",
            "2",
            "<data/>",
            "qzintrus",
            received="2026-11-26T10:00:00Z",
        )
    )
    seen = client.get("/api/campaigns/kisenso", headers=h["gardienne"]).json()
    assert [f["form_id"] for f in seen["attached_forms"]] == ["suivi"]
    stats = client.get("/api/campaigns/kisenso/stats", headers=h["gardienne"]).json()
    assert "qzintrus" not in str(stats) and stats["submissions"] == {}
    assert own.campaign == "kisenso"


def test_forms_listed_only_to_who_may_fill_them(city):
    client, store, h = city
    assert create(client, h["gardienne"]).status_code == 201
    for headers in ({}, h["awa"], h["agent"]):  # no contributor role in ong
        seen = client.get("/api/campaigns/kisenso", headers=headers)
        body = seen.json()
        assert body["attached_forms"] == [] and body["forms"] == []
        assert body["forms_for_members"] and not body["rights"]["collect"]
        listed = client.get("/api/campaigns", headers=headers).text
        page = client.get("/campagnes/kisenso", headers=headers).text
        for text in (seen.text, listed, page):
            assert "enquete" not in text and "Enquête de quartier" not in text
        assert 'id="campaign-forms-hint"' in page
    assert 'href="/connexion"' in client.get("/campagnes/kisenso").text
    body = client.get("/api/campaigns/kisenso", headers=h["moderatrice"]).json()
    assert [f["form_id"] for f in body["attached_forms"]] == ["enquete"]
    assert body["forms"] == ["enquete"] and not body["forms_for_members"]
    page = client.get("/campagnes/kisenso", headers=h["moderatrice"]).text
    assert "Enquête de quartier" in page and "campaign-forms-hint" not in page


def test_target_dataset_named_only_to_who_may_read_it(city):
    client, store, h = city
    _areas(store, "qz_cible_reservee", "restricted", "ong")
    r = create(client, h["gardienne"], dataset="qz_cible_reservee")
    assert r.status_code == 201, r.text
    for headers in ({}, h["awa"], h["agent"]):
        for url in ("/api/campaigns/kisenso", "/api/campaigns", "/campagnes/kisenso"):
            assert "qz_cible" not in client.get(url, headers=headers).text, url
    for name in ("gardienne", "moderatrice"):
        assert (
            client.get("/api/campaigns/kisenso", headers=h[name]).json()["dataset"]
            == "qz_cible_reservee"
        )
        page = client.get("/campagnes/kisenso", headers=h[name]).text
        assert 'href="/catalogue/qz_cible_reservee"' in page


def test_area_never_filters_on_a_sensitive_field(city):
    """Choosing an area by a field value takes fields the caller may see."""
    client, store, h = city
    _areas(store, "quartiers", "public", "ville")
    by = {"bbox": None, "area_dataset": "quartiers"}
    r = create(
        client, h["gardienne"], where_field="telephone", where_value="0812", **by
    )
    assert r.status_code == 400 and "has no field 'telephone'" in r.text
    assert "(fields: fid, name)" in r.text
    assert store.list_campaigns() == []
    r = create(client, h["gardienne"], where_field="name", where_value="Kabila", **by)
    assert r.status_code == 201, r.text
    r = create(  # a custodian of the dataset may use the field
        client,
        h["agent"],
        slug="ville",
        organisation="ville",
        forms=[],
        where_field="telephone",
        where_value="0812",
        **by,
    )
    assert r.status_code == 201, r.text


def test_console_offers_units_by_name_only_if_name_is_visible(city):
    """The console's area picker lists the admin units' names: not when that
    field is sensitive for the caller."""
    from apiutil import sign_in_form

    from quartier.domain.workspace import Workspace

    client, store, h = city
    _areas(store, "unites", "public", "ville", sensitive=("name",))
    store.set_workspace(Workspace("Ville", 32733, admin_dataset="unites"))
    sign_in_form(client, "gardienne", "un-mot-de-passe")
    page = client.get("/console/campagnes")
    assert page.status_code == 200 and "Kabila" not in page.text
    _areas(store, "unites_ouvertes", "public", "ville")
    store.set_workspace(Workspace("Ville", 32733, admin_dataset="unites_ouvertes"))
    assert "Kabila" in client.get("/console/campagnes").text

"""``/api/reports`` and contests on both stores: idempotent filing, field
errors, masking of personal data, moderation by the responsible
organisation, hiding, an append-only history, and the rate limit."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Iterator

import pytest
from apiutil import city, write
from fastapi.testclient import TestClient
from reportutil import (
    CATEGORIES,
    CONTACT,
    GPS_MARK,
    NAME,
    form,
    jpeg_with_exif,
    new_id,
    png,
)
from webutil import make_client

from quartier.domain.workspace import Workspace


@pytest.fixture
def api(store) -> Iterator[tuple[TestClient, dict, object]]:
    headers = city(store)
    store.set_workspace(
        Workspace(
            "Kisenso",
            32733,
            boundary_wkt="POLYGON((15.3 -4.45,15.4 -4.45,"
            "15.4 -4.38,15.3 -4.38,15.3 -4.45))",
        )  # fmt: skip
    )
    with make_client(
        store, report_categories=CATEGORIES, rate_limit_per_minute=0
    ) as client:
        yield client, headers, store


def _file(client, rid, headers=None, photos=(), **values):
    files = [("photos", (name, data, kind)) for name, data, kind in photos]
    return client.post(
        "/api/reports", data=form(rid, **values), files=files or None, headers=headers
    )


def test_anonymous_report_is_idempotent_and_masked(api):
    client, headers, store = api
    rid = new_id()
    photo = ("IMG_0001.jpg", jpeg_with_exif(), "image/jpeg")
    r = _file(client, rid, photos=[photo])
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["new"] and body["status"] == "received"
    assert NAME not in r.text and CONTACT not in r.text  # not even to the sender
    again = _file(client, rid, photos=[photo])
    assert again.status_code == 200 and not again.json()["new"]
    assert len(client.get("/api/reports").json()["reports"]) == 1
    conflict = _file(client, rid, description="autre chose")
    assert conflict.status_code == 409
    other = ("IMG_0002.png", png(), "image/png")
    assert _file(client, rid, photos=[other]).status_code == 409
    assert _file(client, rid).status_code == 409  # the photo left out
    # the photo: stripped of EXIF and comment, served as a sandboxed download
    p = client.get(f"/api/reports/{rid}/photos/1")
    assert p.status_code == 200
    assert GPS_MARK.encode() not in p.content and NAME.encode() not in p.content
    assert p.content.startswith(b"\xff\xd8") and b"pixels" in p.content
    assert p.headers["content-security-policy"].startswith("sandbox")
    assert p.headers["content-disposition"].startswith("attachment")
    # the moderator of the city sees the personal data, others do not
    for who, sees in (
        ("agent", True),
        ("admin", True),
        ("benevole", False),
        ("gardienne", False),
        ("anonymous", False),
    ):
        one = client.get(f"/api/reports/{rid}", headers=headers[who])
        assert one.status_code == 200
        assert (NAME in one.text and CONTACT in one.text) is sees, who
        listed = client.get("/api/reports", headers=headers[who])
        assert (NAME in listed.text) is sees, who
    geo = client.get("/api/reports?format=geojson")
    assert geo.headers["content-type"].startswith("application/geo+json")
    assert geo.json()["features"][0]["geometry"]["coordinates"] == [15.3405, -4.4105]
    assert NAME not in geo.text and CONTACT not in geo.text


def test_signed_report_is_seen_by_its_reporter(api):
    client, headers, _ = api
    rid = new_id()
    r = _file(client, rid, headers=headers["lecteur"], category="autre")
    assert r.status_code == 201
    assert r.json()["reporter"] == "lecteur" and r.json()["name"] == NAME
    assert NAME not in client.get(f"/api/reports/{rid}").text
    mine = client.get(f"/api/reports/{rid}", headers=headers["lecteur"])
    assert mine.json()["contact"] == CONTACT


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"id": "pas-un-uuid"}, "id"),
        ({"lon": "200"}, "lon"),
        ({"lat": "nan"}, "lat"),
        ({"lon": "10.0"}, "outside the city"),
        ({"category": "volcan"}, "category"),
        ({"description": "x" * 2001}, "description"),
        ({"contact": "y" * 201}, "contact"),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(api, values, field):
    client, _, store = api
    values = dict(values)  # shared by both stores' runs
    rid = values.pop("id", None) or new_id()
    r = _file(client, rid, **values)
    assert r.status_code == 400, r.text
    assert field in r.json()["description"]
    assert client.get("/api/reports").json()["reports"] == []


def test_photos_must_be_images(api):
    client, _, _ = api
    svg = ("x.svg", b"<svg onload='alert(1)'/>", "image/svg+xml")
    r = _file(client, new_id(), photos=[svg])
    assert r.status_code == 400 and "photos[1]" in r.json()["description"]
    broken = ("x.png", png()[:30], "image/png")
    assert _file(client, new_id(), photos=[broken]).status_code == 400
    ok = ("ok.png", png(text=GPS_MARK), "image/png")
    rid = new_id()
    assert _file(client, rid, photos=[ok]).status_code == 201
    assert GPS_MARK.encode() not in client.get(f"/api/reports/{rid}/photos/1").content
    assert client.get("/api/reports").json()["reports"][0]["photos"][0]["type"] == (
        "image/png"
    )


def test_moderation_history_is_appended_and_public(api):
    client, headers, _ = api
    rid = new_id()
    _file(client, rid)
    url = f"/api/reports/{rid}/status"
    refused = client.post(
        url, json={"status": "in_progress"}, headers=headers["benevole"]
    )
    assert refused.status_code == 403
    assert client.post(url, json={"status": "in_progress"}).status_code == 401
    other = client.post(
        url, json={"status": "in_progress"}, headers=headers["gardienne"]
    )
    assert other.status_code == 403
    agent = headers["agent"]
    r = client.post(
        url, json={"status": "in_progress", "note": "Équipe envoyée"}, headers=agent
    )
    assert r.status_code == 200 and r.json()["status"] == "in_progress"
    no_reason = client.post(url, json={"status": "rejected"}, headers=agent)
    assert no_reason.status_code == 400 and "note" in no_reason.json()["description"]
    bad = client.post(url, json={"status": "received"}, headers=agent)
    assert bad.status_code == 400
    client.post(url, json={"status": "resolved", "note": "Nettoyé"}, headers=agent)
    public = client.get(f"/api/reports/{rid}").json()
    assert public["status"] == "resolved"
    steps = [(h["status"], h["note"], h["by"]) for h in public["history"]]
    assert steps == [
        ("received", "", ""),
        ("in_progress", "Équipe envoyée", "ville"),
        ("resolved", "Nettoyé", "ville"),
    ]
    # the account that acted is shown to handlers only
    assert all("actor" not in h for h in public["history"])
    assert "agent" not in client.get(f"/api/reports/{rid}").text
    handler = client.get(f"/api/reports/{rid}", headers=agent).json()
    assert handler["history"][1]["actor"] == "agent"
    filtered = client.get("/api/reports?status=resolved&category=dechets").json()
    assert [x["id"] for x in filtered["reports"]] == [rid]


def test_hidden_reports_leave_public_outputs_but_keep_history(api):
    client, headers, _ = api
    rid = new_id()
    _file(client, rid, photos=[("a.png", png(), "image/png")])
    agent = headers["agent"]
    assert (
        client.post(f"/api/reports/{rid}/hide", json={"note": "injurieux"}).status_code
        == 401
    )
    hide = client.post(
        f"/api/reports/{rid}/hide", json={"note": "injurieux"}, headers=agent
    )
    assert hide.status_code == 200 and hide.json()["hidden"] is True
    for url in (f"/api/reports/{rid}", f"/api/reports/{rid}/photos/1"):
        assert client.get(url).status_code == 404
    assert client.get("/api/reports").json()["reports"] == []
    assert rid not in client.get("/api/reports?format=geojson").text
    seen = client.get(f"/api/reports/{rid}", headers=agent).json()
    assert [h["action"] for h in seen["history"]] == ["created", "hidden"]
    shown = client.post(
        f"/api/reports/{rid}/hide", json={"hidden": False}, headers=agent
    )
    assert shown.json()["hidden"] is False
    assert client.get(f"/api/reports/{rid}").status_code == 200


def test_contests_are_for_readable_datasets_and_their_steward(api):
    client, headers, store = api
    version = store.get_dataset("marches").current_version
    rid = new_id()
    url = "/api/datasets/marches/features/1/contest"
    data = {
        "id": rid,
        "verdict": "wrong",
        "dataset_version": str(version),
        "description": "Ce marché a fermé",
        "name": NAME,
    }
    r = client.post(url, data=data)
    assert r.status_code == 201, r.text
    assert r.json()["dataset_version"] == version and r.json()["feature_id"] == "1"
    assert client.post(url, data=data).status_code == 200  # a retry
    # a restricted dataset does not exist for an anonymous resident
    hidden = client.post(
        "/api/datasets/dossiers/features/1/contest", data=data | {"id": new_id()}
    )
    assert hidden.status_code == 404
    bad = client.post(url, data=data | {"id": new_id(), "dataset_version": "99"})
    assert bad.status_code == 400 and "dataset_version" in bad.json()["description"]
    missing = client.post(
        "/api/datasets/marches/features/999/contest", data=data | {"id": new_id()}
    )
    assert missing.status_code == 400 and "feature_id" in missing.json()["description"]
    # contests are not public reports
    assert client.get("/api/reports").json()["reports"] == []
    assert client.get(f"/api/reports/{rid}").status_code == 404
    # marches: produced by ong, stewarded by ville → the city's staff see them
    listed = client.get("/api/datasets/marches/contests", headers=headers["agent"])
    assert listed.status_code == 200
    body = listed.json()
    assert body["counts"] == {"wrong": 1}
    assert body["contests"][0]["dataset_version"] == version
    assert body["contests"][0]["name"] == NAME
    page = client.get("/catalogue/marches", headers=headers["agent"])
    assert "« C&#39;est faux ici » 1" in page.text
    assert 'id="contests"' not in client.get("/catalogue/marches").text
    for who in ("anonymous", "benevole", "lecteur"):
        assert client.get(
            "/api/datasets/marches/contests", headers=headers[who]
        ).status_code in (401, 404)


def test_rate_limit_refuses_a_burst_from_one_address_only(store):
    city(store)
    with make_client(
        store, report_categories=CATEGORIES, rate_limit_per_minute=1, rate_limit_burst=3
    ) as client:
        codes = [_file(client, new_id()).status_code for _ in range(5)]
        assert codes == [201, 201, 201, 429, 429]
        refused = _file(client, new_id())
        assert int(refused.headers["retry-after"]) >= 1
        assert "trop de requêtes" in refused.json()["description"]
        # reads are not limited
        assert client.get("/api/reports").status_code == 200
    # another address has its own bucket
    app = make_client(
        store, report_categories=CATEGORIES, rate_limit_per_minute=1, rate_limit_burst=1
    ).app
    first = TestClient(app, client=("10.0.0.1", 1000))
    second = TestClient(app, client=("10.0.0.2", 1000))
    assert _file(first, new_id()).status_code == 201
    assert _file(first, new_id()).status_code == 429
    assert _file(second, new_id()).status_code == 201


def test_signed_in_browser_needs_the_csrf_token(api):
    client, _, store = api
    session = client.post(
        "/api/session", json={"username": "benevole", "password": "un-mot-de-passe"}
    )
    assert session.status_code == 200, session.text
    csrf = session.json()["csrf_token"]
    rid = new_id()
    assert _file(client, rid).status_code == 403  # a cookie without its token
    r = _file(client, rid, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201 and r.json()["reporter"] == "benevole"
    assert store.get_report(rid).reporter == "benevole"


def test_contest_checks_the_feature_in_its_version_and_the_position(api):
    """A contest names a feature of the version seen on the map (checked for
    older versions too), a fid in the 64-bit range, both coordinates or
    neither; hidden contests still count."""
    client, headers, store = api
    write(store, "marches", 3, "MARCHES")  # version 2: two features retired
    old = {r["fid"] for b in store.read_batches("marches", version=1) for r in b.to_pylist()}  # fmt: skip
    now = {r["fid"] for b in store.read_batches("marches") for r in b.to_pylist()}
    gone = max(old - now)

    def contest(fid, version, **extra):
        data = {"id": new_id(), "verdict": "wrong", "dataset_version": str(version)}
        return client.post(
            f"/api/datasets/marches/features/{fid}/contest", data=data | extra
        )

    assert contest(gone, 1).status_code == 201  # it was there in version 1
    for fid, version in ((gone, 2), (999, 1), ("99999999999999999999", 1)):
        r = contest(fid, version)
        assert r.status_code == 400, (fid, version, r.text)
        assert "feature_id" in r.json()["description"]
    assert contest("99999999999999999999", 2).status_code == 400
    for given, missing in (({"lon": "15.34"}, "lat"), ({"lat": "-4.41"}, "lon")):
        r = contest(min(now), 2, **given)
        assert r.status_code == 400 and missing in r.json()["description"], r.text
    placed = contest(min(now), 2, lon="15.34", lat="-4.41")
    assert placed.status_code == 201 and placed.json()["lat"] == -4.41
    # the portal's contest form refuses the same before the resident types
    form_url = "/signalements/contester?jeu=marches&objet={}&version={}"
    assert client.get(form_url.format(gone, 1)).status_code == 200
    for fid, version, extra in (
        (gone, 2, ""),
        (999, 1, ""),
        (min(now), 3, ""),
        (min(now), 2, "&lon=15.34"),
    ):
        r = client.get(form_url.format(fid, version) + extra)
        assert r.status_code == 400, (fid, version, extra)
    # a hidden contest is listed to its handlers, and counted alike
    agent = headers["agent"]
    rid = placed.json()["id"]
    hide = client.post(f"/api/reports/{rid}/hide", json={}, headers=agent)
    assert hide.status_code == 200 and hide.json()["hidden"] is True
    body = client.get("/api/datasets/marches/contests", headers=agent).json()
    assert len(body["contests"]) == 2 and body["counts"] == {"wrong": 2}
    assert (
        "« C&#39;est faux ici » 2"
        in client.get("/catalogue/marches", headers=agent).text
    )


def test_concurrent_moderators_cannot_both_close_a_report(api):
    """Two moderators each read "received" and send a closing status at once:
    exactly one is recorded, the other gets 409; the history never shows a
    transition the rules forbid."""
    client, headers, store = api
    rid = new_id()
    _file(client, rid)
    results: list[int] = []
    barrier = threading.Barrier(2)
    original, waited = store.get_report, set()

    def slow_read(report_id):  # both first reads happen before either write
        found = original(report_id)
        me = threading.get_ident()
        if me != threading.main_thread().ident and me not in waited:
            waited.add(me)
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=5)
        return found

    store.get_report = slow_read
    try:
        bodies = (
            {"status": "resolved", "note": "ok"},
            {"status": "rejected", "note": "non"},
        )
        threads = [
            threading.Thread(
                target=lambda b=b: results.append(
                    client.post(
                        f"/api/reports/{rid}/status", json=b, headers=headers["agent"]
                    ).status_code
                )
            )
            for b in bodies
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        del store.get_report
    assert sorted(results) == [200, 409]
    steps = [h["status"] for h in client.get(f"/api/reports/{rid}").json()["history"]]
    assert len(steps) == 2 and steps[0] == "received"


#: the start of a multipart photo part, whose bytes then never end
PART = (
    b'--x\r\nContent-Disposition: form-data; name="photos"; filename="a.jpg"'
    b"\r\nContent-Type: image/jpeg\r\n\r\n"
)


def _raw_post(app, path: str, headers: dict[str, str], chunk: bytes | None):
    """POST straight to the ASGI app, the body a photo part of endless
    ``chunk``s (None: an empty body); (status, JSON body, chunks read)."""
    read = 0

    async def receive():
        nonlocal read
        read += 1
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        body = PART + chunk if read == 1 else chunk
        return {"type": "http.request", "body": body, "more_body": True}

    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("10.0.0.9", 1234),
        "server": ("testserver", 80),
    }
    # in a thread of its own: the browser tests' Playwright may leave an event
    # loop running in this one
    worker = threading.Thread(target=asyncio.run, args=(app(scope, receive, send),))
    worker.start()
    worker.join()
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(
        m.get("body", b"") for m in sent if m["type"] == "http.response.body"
    )
    return start["status"], json.loads(body), read


MULTIPART = {"content-type": "multipart/form-data; boundary=x"}
UPLOAD_PATHS = ("/api/reports", "/api/datasets/marches/features/1/contest")


def test_oversized_anonymous_upload_is_refused_before_its_body_is_read(api):
    client, _, _ = api
    for path in UPLOAD_PATHS:
        declared = MULTIPART | {"content-length": str(30 * 2**20)}
        status, body, read = _raw_post(client.app, path, declared, b"x" * 2**16)
        assert (status, read) == (413, 0), (path, body)
        assert body["code"] == "TooLarge"
        # no declared length: cut off once past the cap (3 × 8 MB + 1 MB)
        status, body, read = _raw_post(client.app, path, MULTIPART, b"x" * 2**20)
        assert status == 413 and read <= 26, (path, read, body)
    # within the cap, the photos' number and sizes are checked before reading
    photo = ("a.png", png(), "image/png")
    r = _file(client, new_id(), photos=[photo] * 4)
    assert r.status_code == 400 and "at most 3" in r.json()["description"]


def test_rate_limit_answers_before_the_body_is_parsed(store):
    city(store)
    app = make_client(
        store, report_categories=CATEGORIES, rate_limit_per_minute=1, rate_limit_burst=1
    ).app
    for path in UPLOAD_PATHS:
        bucket = app.state.ctx.extras.pop("ratelimit:reports", None)
        assert path == UPLOAD_PATHS[0] or bucket is not None
        first, _, _ = _raw_post(app, path, MULTIPART, None)  # spends the token
        assert first in (400, 422)
        headers = MULTIPART | {"content-length": str(20 * 2**20)}
        status, body, read = _raw_post(app, path, headers, b"x" * 2**16)
        assert (status, read) == (429, 0), (path, body)
        assert "trop de requêtes" in body["description"]

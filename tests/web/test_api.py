"""The platform API: datasets, versions, organisations, users, tokens, imports,
the change feed — on both stores, through the real application."""

from __future__ import annotations

import pytest
from apiutil import city, geojson_file, wait_job, write
from webutil import make_client

from quartier.access import LOCAL
from quartier.services import accounts


@pytest.fixture
def api(store):
    headers = city(store)
    with make_client(store, webhook_interval=0) as client:
        yield client, store, headers


def _slugs(r) -> list[str]:
    assert r.status_code == 200, r.text
    return [d["slug"] for d in r.json()["datasets"]]


# ------------------------------------------------------------------ datasets
def test_list_shows_what_the_caller_may_read_searched_and_paged(api):
    client, _, h = api
    assert _slugs(client.get("/api/datasets")) == ["marches"]
    assert _slugs(client.get("/api/datasets", headers=h["lecteur"])) == ["marches"]
    assert _slugs(client.get("/api/datasets", headers=h["gardienne"])) == [
        "dossiers",
        "marches",
    ]
    # accents and case do not matter; every word must match
    assert _slugs(client.get("/api/datasets?q=MARCHES kisenso")) == ["marches"]
    assert _slugs(client.get("/api/datasets?q=marches absent")) == []
    assert _slugs(client.get("/api/datasets?q=dossiers")) == []
    staff = h["gardienne"]
    assert _slugs(client.get("/api/datasets?theme=sante", headers=staff)) == [
        "dossiers"
    ]
    assert _slugs(client.get("/api/datasets?access=public", headers=staff)) == [
        "marches"
    ]
    assert _slugs(client.get("/api/datasets?producer=ville", headers=staff)) == []
    page = client.get("/api/datasets?limit=1", headers=staff).json()
    assert page["numberMatched"] == 2 and page["numberReturned"] == 1
    nxt = next(x["href"] for x in page["links"] if x["rel"] == "next")
    second = client.get(nxt, headers=staff).json()
    assert [d["slug"] for d in second["datasets"]] == ["marches"]
    assert not any(x["rel"] == "next" for x in second["links"])
    for bad in ("access=secret", "limit=0", "limit=5000", "offset=-1"):
        r = client.get(f"/api/datasets?{bad}")
        assert r.status_code == 400, bad
        assert bad.split("=")[0] in r.json()["description"]


def test_dataset_detail_masks_sensitive_fields_and_links_every_output(api):
    client, _, h = api
    public = client.get("/api/datasets/marches").json()
    assert [f["name"] for f in public["fields"]] == ["nom", "rang"]
    assert "sensitive_fields" not in public
    rels = {(x["rel"], x["href"].split("testserver")[1]) for x in public["links"]}
    assert ("tiles", "/ogc/collections/marches/tiles/WebMercatorQuad") in rels
    assert ("items", "/ogc/collections/marches/items") in rels
    assert ("enclosure", "/api/datasets/marches/download?format=gpkg") in rels
    staff = client.get("/api/datasets/marches", headers=h["gardienne"]).json()
    assert [f["name"] for f in staff["fields"]] == ["nom", "telephone", "rang"]
    assert staff["sensitive_fields"] == ["telephone"]
    hidden = client.get("/api/datasets/dossiers")
    unknown = client.get("/api/datasets/inconnu")
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json()["description"].replace("dossiers", "X") == unknown.json()[
        "description"
    ].replace("inconnu", "X")
    assert client.get("/api/datasets/Not-A-Slug").status_code == 400


def test_patch_changes_metadata_and_access_for_editors_only(api):
    client, store, h = api
    body = {"title": "Marchés", "access": "restricted", "theme": "commerce"}
    assert client.patch("/api/datasets/marches", json=body).status_code == 401
    assert (
        client.patch("/api/datasets/marches", json=body, headers=h["lecteur"])
    ).status_code == 403
    r = client.patch("/api/datasets/marches", json=body, headers=h["gardienne"])
    assert r.status_code == 200, r.text
    assert r.json()["access"] == "restricted" and r.json()["title"] == "Marchés"
    assert store.get_dataset("marches").theme == "commerce"
    assert client.get("/api/datasets/marches").status_code == 404  # hidden now
    audit = [a for a in store.list_audit() if a["action"] == "dataset.update"]
    assert audit[0]["actor"] == "gardienne" and audit[0]["target"] == "marches"
    assert audit[0]["detail"]["before"]["access"] == "public"
    staff = h["gardienne"]
    for bad, word in (
        ({"colour": "red"}, "colour"),
        ({"title": None}, "title"),
        ({"temporal_start": "demain"}, "temporal_start"),
        ({"access": "secret"}, "access"),
        ({}, "nothing"),
        ({"producer": "inconnue"}, "producer"),
        ({"title": "a\x00b"}, "title"),
    ):
        r = client.patch("/api/datasets/marches", json=bad, headers=staff)
        assert r.status_code == 400, (bad, r.text)
        assert word in r.json()["description"], (bad, r.text)
    # a steward of "ong" may not hand the dataset to an organisation it does not edit
    r = client.patch(
        "/api/datasets/marches", json={"producer": "unikin"}, headers=staff
    )
    assert r.status_code == 403
    assert store.get_dataset("marches").producer == "ong"
    r = client.patch(
        "/api/datasets/marches", json={"temporal_end": None}, headers=h["admin"]
    )
    assert r.status_code == 200 and r.json()["temporal_end"] is None


def test_versions_are_listed_read_and_restored_by_editors(api):
    client, store, h = api
    write(store, "marches", 3, "V2")
    versions = client.get("/api/datasets/marches/versions").json()["versions"]
    assert [v["version"] for v in versions] == [1, 2]
    assert all("telephone" not in str(v["fields"]) for v in versions)
    one = client.get("/api/datasets/marches/versions/1").json()
    assert one["feature_count"] == 5
    assert any(x["href"].endswith("/versions/1/download.gpkg") for x in one["links"])
    assert client.get("/api/datasets/marches/versions/9").status_code == 404
    assert client.get("/api/datasets/marches/versions/0").status_code == 400
    assert client.get("/api/datasets/dossiers/versions/1").status_code == 404
    url = "/api/datasets/marches/versions/1/restore"
    assert client.post(url).status_code == 401
    assert client.post(url, headers=h["lecteur"]).status_code == 403
    assert client.post(url.replace("/1/", "/7/"), headers=h["admin"]).status_code == 404
    r = client.post(url, headers=h["gardienne"])
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 3 and r.json()["restored_from"] == 1
    assert store.get_dataset("marches").feature_count == 5
    restore = [a for a in store.list_audit() if a["action"] == "restore"]
    assert restore[0]["actor"] == "gardienne"


# ----------------------------------------------------- organisations, users
def test_organisations_are_listed_and_created_by_administrators(api):
    client, store, h = api
    orgs = client.get("/api/organisations").json()["organisations"]
    assert {o["slug"] for o in orgs} == {"ville", "ong", "unikin"}
    ong = client.get("/api/organisations/ong").json()
    assert [d["slug"] for d in ong["datasets"]] == ["marches"]  # dossiers hidden
    ong = client.get("/api/organisations/ong", headers=h["gardienne"]).json()
    assert {d["slug"] for d in ong["datasets"]} == {"marches", "dossiers"}
    assert client.get("/api/organisations/nulle").status_code == 404
    body = {"slug": "quartier_x", "name": "Quartier X", "kind": "residents"}
    assert client.post("/api/organisations", json=body).status_code == 401
    assert (
        client.post("/api/organisations", json=body, headers=h["cheffe"])
    ).status_code == 403
    r = client.post("/api/organisations", json=body, headers=h["admin"])
    assert r.status_code == 201, r.text
    assert store.get_organisation("quartier_x").name == "Quartier X"
    again = client.post("/api/organisations", json=body, headers=h["admin"])
    assert again.status_code == 409
    bad = client.post(
        "/api/organisations", json=body | {"kind": "club"}, headers=h["admin"]
    )
    assert bad.status_code == 400 and "kind" in bad.json()["description"]
    assert any(a["action"] == "organisation.add" for a in store.list_audit())


def test_users_and_roles_are_managed_by_the_right_administrators(api):
    client, store, h = api
    assert client.get("/api/users").status_code == 401
    assert client.get("/api/users", headers=h["lecteur"]).status_code == 403
    everyone = client.get("/api/users", headers=h["admin"]).json()["users"]
    assert {u["username"] for u in everyone} == {
        "admin",
        "gardienne",
        "cheffe",
        "lecteur",
        "agent",
        "benevole",
    }
    members = client.get("/api/users", headers=h["cheffe"]).json()["users"]
    assert {u["username"]: u["roles"] for u in members} == {
        "gardienne": {"ong": "steward"},
        "cheffe": {"ong": "admin"},
    }
    new = {"username": "Moussa", "password": "un-mot-de-passe", "email": "m@x.cd"}
    assert client.post("/api/users", json=new, headers=h["cheffe"]).status_code == 403
    r = client.post("/api/users", json=new, headers=h["admin"])
    assert r.status_code == 201 and r.json()["username"] == "moussa"
    short = client.post(
        "/api/users",
        json=new | {"username": "awa", "password": "court"},
        headers=h["admin"],
    )
    assert short.status_code == 400 and "password" in short.json()["description"]
    # an organisation's admin grants roles there, and only there
    url = "/api/users/moussa/roles/ong"
    assert client.put(url, json={"role": "contributor"}).status_code == 401
    assert (
        client.put(url, json={"role": "viewer"}, headers=h["gardienne"])
    ).status_code == 403
    r = client.put(url, json={"role": "contributor"}, headers=h["cheffe"])
    assert r.status_code == 200 and r.json()["roles"] == {"ong": "contributor"}
    other = client.put(
        "/api/users/moussa/roles/ville", json={"role": "viewer"}, headers=h["cheffe"]
    )
    assert other.status_code == 403
    bad = client.put(url, json={"role": "king"}, headers=h["cheffe"])
    assert bad.status_code == 400 and "role" in bad.json()["description"]
    assert (
        client.put(
            "/api/users/nobody/roles/ong", json={"role": "viewer"}, headers=h["cheffe"]
        )
    ).status_code == 404
    assert client.delete(url, headers=h["cheffe"]).status_code == 204
    assert store.get_user("moussa").roles == {}
    assert client.delete(url, headers=h["cheffe"]).status_code == 404
    actions = {(a["action"], a["actor"]) for a in store.list_audit(limit=None)}
    assert {
        ("user.add", "admin"),
        ("user.grant", "cheffe"),
        ("user.revoke", "cheffe"),
    } <= actions


def test_tokens_are_issued_once_used_and_revoked_by_their_owner(api):
    client, store, h = api
    assert client.post("/api/tokens", json={"name": "ci"}).status_code == 401
    r = client.post(
        "/api/tokens", json={"name": "ci", "days": 30}, headers=h["lecteur"]
    )
    assert r.status_code == 201, r.text
    secret, token_id = r.json()["secret"], r.json()["id"]
    mine = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/me", headers=mine).json()["username"] == "lecteur"
    listed = client.get("/api/tokens", headers=mine).json()["tokens"]
    assert token_id in {t["id"] for t in listed} and secret not in str(listed)
    assert all("secret" not in t for t in listed)
    # someone else's token is unknown to you; an administrator may revoke it
    assert (
        client.delete(f"/api/tokens/{token_id}", headers=h["cheffe"]).status_code == 404
    )
    assert client.delete(f"/api/tokens/{token_id}", headers=mine).status_code == 204
    assert client.get("/api/me", headers=mine).status_code == 401
    other = accounts.issue_token(store, "cheffe", actor=LOCAL)
    assert (
        client.delete(f"/api/tokens/{other.token.id}", headers=h["admin"])
    ).status_code == 204
    assert (
        client.post("/api/tokens", json={"days": 0}, headers=h["lecteur"]).status_code
        == 400
    )
    # a collect token comes with the server URL to type in ODK Collect
    r = client.post(
        "/api/tokens", json={"name": "tel", "scope": "collect"}, headers=h["lecteur"]
    )
    assert r.status_code == 201 and r.json()["scope"] == "collect"
    assert r.json()["collect_url"].endswith(f"/openrosa/key/{r.json()['secret']}")
    phone = {"Authorization": f"Bearer {r.json()['secret']}"}
    assert client.get("/api/me", headers=phone).status_code == 401


# ------------------------------------------------------------------- imports
def _upload(client, headers, path, **fields):
    with open(path, "rb") as fh:
        return client.post(
            "/api/imports",
            files={"file": (path.name, fh, "application/geo+json")},
            data=fields,
            headers=headers,
        )


def test_upload_creates_a_dataset_then_versions_and_retries_add_nothing(api, tmp_path):
    client, store, h = api
    path = geojson_file(tmp_path / "latrines.geojson", 4)
    staff = h["gardienne"]
    r = _upload(
        client, staff, path, producer="ong", access="partners", title="Latrines"
    )
    assert r.status_code == 202, r.text
    job = wait_job(client, r.headers["location"], staff)
    assert job["status"] == "done", job
    assert job["result"]["version"] == 1 and job["result"]["dataset"] == "latrines"
    report = job["result"]["reports"][0]
    assert report["stored"] == 4 and report["source"] == "latrines.geojson"
    assert job["progress"]["rows"] == 4
    ds = store.get_dataset("latrines")
    assert (ds.title, ds.access.value, ds.producer) == ("Latrines", "partners", "ong")
    assert store.get_version("latrines", 1).author == "gardienne"
    # the audit log names the uploaded file, not its temporary path on the server
    (entry,) = [a for a in store.list_audit(limit=None) if a["action"] == "import"]
    assert entry["detail"]["source"] == "latrines.geojson"
    # only the owner (or an administrator) follows the job
    assert client.get(r.headers["location"], headers=h["agent"]).status_code == 404
    assert client.get(r.headers["location"], headers=h["admin"]).status_code == 200
    assert client.get(r.headers["location"]).status_code == 401
    # the same file again: no duplicate version
    again = wait_job(client, _upload(client, staff, path).headers["location"], staff)
    assert again["status"] == "done" and again["result"]["unchanged"] is True
    assert [v.version for v in store.list_versions("latrines")] == [1]
    changed = geojson_file(tmp_path / "latrines.geojson", 6)
    r = _upload(client, staff, changed, dataset="latrines")
    job = wait_job(client, r.headers["location"], staff)
    assert (
        job["result"]["version"] == 2
        and store.get_dataset("latrines").feature_count == 6
    )
    assert any(
        a["action"] == "import" and a["actor"] == "gardienne"
        for a in store.list_audit()
    )
    mine = client.get("/api/jobs", headers=staff).json()["jobs"]
    assert len(mine) == 3 and client.get("/api/jobs", headers=h["lecteur"]).json() == {
        "jobs": []
    }


def test_uploads_are_refused_before_they_touch_the_store(store, tmp_path):
    h = city(store)
    good = geojson_file(tmp_path / "puits.geojson", 3)
    with make_client(store, webhook_interval=0, max_upload_mb=1) as client:
        assert _upload(client, {}, good, producer="ong").status_code == 401
        # a viewer may not create datasets; a steward of "ong" not for "ville"
        assert _upload(client, h["lecteur"], good, producer="unikin").status_code == 403
        assert (
            _upload(client, h["gardienne"], good, producer="ville").status_code == 403
        )
        assert _upload(client, h["gardienne"], good).status_code == 403
        # existing datasets: change needs the editor role; hidden ones are taken
        r = _upload(client, h["lecteur"], good, dataset="dossiers")
        assert r.status_code == 409 and "dossiers" in r.json()["description"]
        assert _upload(client, h["lecteur"], good, dataset="marches").status_code == 403
        for name, content, word in (
            ("notes.docx", b"PK\x03\x04", "unsupported"),
            ("routes.shp", b"\x00\x00\x27\x0a", ".zip"),
            ("faux.geojson", b"<html>", "not JSON"),
            ("faux.gpkg", b"hello world, no sqlite", "GeoPackage"),
            ("faux.zip", b"not a zip", "zip"),
            ("vide.csv", b"", "empty"),
        ):
            bad = tmp_path / name
            bad.write_bytes(content)
            r = _upload(client, h["admin"], bad)
            assert r.status_code == 400, (name, r.text)
            assert word in r.json()["description"], (name, r.text)
        big = tmp_path / "enorme.geojson"
        big.write_bytes(b"{" + b" " * (2 * 2**20) + b"}")
        r = _upload(client, h["admin"], big)
        assert r.status_code == 413
        bad_form = _upload(client, h["admin"], good, access="secret", dataset="Puits!")
        assert bad_form.status_code == 400
        # a file the importer refuses: the job fails, the store is unchanged
        broken = tmp_path / "casse.geojson"
        broken.write_text('{"type": "FeatureCollection", "features": [{"type": ')
        r = _upload(client, h["admin"], broken)
        assert r.status_code == 202
        job = wait_job(client, r.headers["location"], h["admin"])
        assert job["status"] == "failed" and "casse.geojson" in job["error"]
    assert {d.slug for d in store.list_datasets()} == {"marches", "dossiers"}


# --------------------------------------------------------------- change feed
def test_change_feed_lists_only_readable_datasets_and_pages_with_a_cursor(api):
    client, store, h = api
    write(store, "dossiers", 2, "D2")
    write(store, "marches", 2, "M2")
    r = client.get("/api/changes?since=0&limit=1000")
    assert r.status_code == 200
    anon = r.json()["changes"]
    assert {c["dataset"] for c in anon} == {"marches"}
    assert [c["version"] for c in anon if c["kind"] == "version"] == [1, 2]
    assert all(c["id"] == c["seq"] for c in anon)
    staff = client.get("/api/changes", headers=h["gardienne"]).json()["changes"]
    assert {c["dataset"] for c in staff} == {"marches", "dossiers"}
    # page by one: every visible change once, in order, via "next"
    seen, url = [], "/api/changes?limit=1"
    while url:
        page = client.get(url, headers=h["gardienne"]).json()
        seen += [c["seq"] for c in page["changes"]]
        url = next((x["href"] for x in page["links"] if x["rel"] == "next"), None)
    assert seen == [c["seq"] for c in staff]
    last = page["next_since"]
    assert client.get(f"/api/changes?since={last}").json()["changes"] == []
    # a dataset made restricted leaves the feed of those who may not read it
    store.update_dataset("marches", access="restricted")
    assert client.get("/api/changes").json()["changes"] == []
    assert client.get("/api/changes?since=-1").status_code == 400


def test_a_chunked_upload_is_cut_off_at_the_limit_by_the_real_server(store):
    import httpx
    from webutil import live_server

    h = city(store)

    def body():
        yield (
            b'--b\r\nContent-Disposition: form-data; name="file"; '
            b'filename="gros.geojson"\r\nContent-Type: application/json\r\n\r\n{'
        )
        for _ in range(40):  # 2.5 MB, no Content-Length: sent in chunks
            yield b" " * 65536
        yield b"}\r\n--b--\r\n"

    with (
        live_server(store, max_upload_mb=1, webhook_interval=0) as url,
        httpx.Client() as http,  # closed before the server stops
    ):
        r = http.post(
            f"{url}/api/imports",
            content=body(),
            headers=h["admin"] | {"content-type": "multipart/form-data; boundary=b"},
        )
    assert r.request.headers.get("transfer-encoding") == "chunked"
    assert r.status_code == 413 and "MAX_UPLOAD_MB" in r.json()["description"]
    assert {d.slug for d in store.list_datasets()} == {"marches", "dossiers"}

"""Restricted data leaks nowhere: every output, three callers, both stores.

A small city holds one dataset per access level, each carrying a marker
string in its title and in its features, and a public dataset with a
sensitive field. Every output the server has — OGC collections, items,
single features, queryables, schemas, HTML pages, vector tiles and TileJSON,
downloads in every format, the DCAT catalogue, the platform API and search,
the change feed and webhooks — is collected for each caller as raw bytes
(tiles decoded, downloads unpacked) and searched for the markers.

The custodian sees every marker, so this test fails if an output forgets
data entirely as well as if it shows too much.
"""

from __future__ import annotations

import gzip
import io
import json
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, HTTPServer

import mapbox_vector_tile
import pyarrow as pa
import pyogrio
import pytest
import shapely
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
from quartier.domain.workspace import Workspace
from quartier.services import accounts

# markers no vocabulary uses (DCAT's access-rights URIs say RESTRICTED…)
LEVELS = {
    "public": "QZ-OUVERT",
    "partners": "QZ-PARTAGE",
    "restricted": "QZ-RESERVE",
    "confidential": "QZ-SECRET",
}
SENSITIVE = "TEL-SENSIBLE-0812"
# Kisenso, Kinshasa
X0, Y0 = 15.34, -4.41
ZOOMS = range(10, 17)


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    import math

    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def _write(store, slug: str, level: str, marker: str, sensitive: bool = False) -> None:
    store.create_dataset(
        Dataset(
            slug=slug,
            title=f"Titre {marker}",
            description=f"Description {marker}",
            access=AccessLevel(level),
            producer="ville",
            steward="ong",
            theme="santé",  # so neighbourhood profiles count them as facilities
            sensitive_fields=["telephone"] if sensitive else [],
        )
    )
    points = [shapely.Point(X0 + i * 1e-3, Y0 + i * 1e-3) for i in range(5)]
    batch = pa.record_batch(
        {
            "geometry": pa.array([p.wkb for p in points], pa.binary()),
            "nom": pa.array([f"{marker}-{i}" for i in range(5)]),
            "telephone": pa.array([SENSITIVE] * 5),
        }
    )
    store.write_version(
        slug,
        [batch],
        fields=[Field("nom", FieldType.TEXT), Field("telephone", FieldType.TEXT)],
        geometry_type="POINT",
    )


@pytest.fixture
def city(store):
    store.ensure_schema()
    for slug, kind in (
        ("ville", "local_authority"),
        ("ong", "ngo"),
        ("unikin", "university"),
    ):
        store.add_organisation(Organisation(slug, slug.upper(), ActorKind(kind)))
    for level, marker in LEVELS.items():
        _write(store, f"jeu_{level}", level, marker, sensitive=True)
    _units(store)
    tokens = {}
    for name, org, role in (
        ("gardien", "ong", "moderator"),
        ("partenaire", "unikin", "viewer"),
    ):
        accounts.create_user(store, name, password="un-mot-de-passe", actor=LOCAL)
        accounts.grant_role(store, name, org, role, actor=LOCAL)
        tokens[name] = accounts.issue_token(store, name, actor=LOCAL).secret
    return store, tokens


def _units(store) -> None:
    """One public admin unit around the points, for neighbourhood profiles."""
    store.create_dataset(Dataset(slug="unites", title="Unités", theme="limites"))
    square = shapely.box(X0 - 0.01, Y0 - 0.01, X0 + 0.01, Y0 + 0.01)
    batch = pa.record_batch(
        {
            "geometry": pa.array([square.wkb], pa.binary()),
            "code": pa.array(["C1"]),
            "name": pa.array(["Centre"]),
        }
    )
    store.write_version(
        "unites",
        [batch],
        fields=[Field("code", FieldType.TEXT), Field("name", FieldType.TEXT)],
        geometry_type="POLYGON",
    )
    store.set_workspace(Workspace("Ville", 32733, admin_dataset="unites"))


def _tile_text(body: bytes) -> str:
    if body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    return json.dumps(mapbox_vector_tile.decode(body), default=str) if body else ""


def _download_text(body: bytes, fmt: str, tmp_path) -> str:
    if fmt in ("geojson", "csv", "kml"):
        return body.decode("utf-8", "replace")
    suffix = {"gpkg": ".gpkg", "parquet": ".parquet", "shp": ".zip"}[fmt]
    path = tmp_path / f"download{suffix}"
    path.write_bytes(body)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return json.dumps(pq.read_table(path).to_pylist(), default=str)
    if fmt == "shp":
        with zipfile.ZipFile(io.BytesIO(body)) as z:
            names = " ".join(z.namelist())
        return names + pyogrio.read_dataframe(f"/vsizip/{path}").to_json()
    return pyogrio.read_dataframe(path).to_json()


def _everything(client, headers, slugs, tmp_path) -> str:
    """Every output of the server for one caller, as one string."""
    seen: list[str] = []

    def get(url: str) -> None:
        r = client.get(url, headers=headers)
        assert r.status_code < 500, (url, r.status_code, r.text[:300])
        if r.status_code == 404:
            # a 404 echoes the identifier the caller asked for: that is no leak
            if "text/html" not in r.headers.get("content-type", ""):
                assert r.json()["code"] == "NotFound", url
        elif "vnd.mapbox-vector-tile" in r.headers.get("content-type", ""):
            seen.append(_tile_text(r.content))
        else:
            seen.append(r.text)

    for url in (
        "/ogc",
        "/ogc/collections",
        "/ogc/collections?f=html",
        "/catalog.jsonld",
        "/api/datasets",
        "/api/datasets?q=Titre",
        "/api/changes",
        "/api/changes?since=0&limit=1000",
        "/api/openapi.json",
        "/ogc/api",
        # the portal: pages, the map's configuration and its place search
        "/",
        "/catalogue",
        "/catalogue?q=Titre",
        "/charte",
        "/carte",
        "/carte/config",
        "/carte/lieux?q=QZ",  # matches every marker's feature names
        "/carte/lieux?q=TEL-SENS",
        # neighbourhood profiles: page, standalone file, API
        "/quartiers",
        "/quartiers/centre",
        "/quartiers/centre.html",
        "/api/profiles",
        "/api/profiles/centre",
        "/analyses",
        "/analyses/exposure",
        # the data diagnostic: page and API
        "/diagnostic",
        "/api/diagnostic",
        "/diagnostic/rapport",
        # evaluation and calls for contributions
        "/evaluation",
        "/api/evaluation",
        "/contribuer",
        "/api/calls",
        # residents' reports: list, GeoJSON, the portal's page
        "/api/reports",
        "/api/reports?format=geojson",
        "/signalements",
        # the ecosystem, the data charter, access requests (issue 7)
        "/ecosysteme",
        "/api/ecosystem",
        "/api/charter",
        "/api/charter?lang=en",
        "/api/organisations/ville/capacities",
        "/api/access-requests",
        "/demandes-acces",
        "/demandes-acces/nouvelle",
        # agreements the caller is a party to (never naming what they hide)
        "/api/agreements",
        "/api/agreements/c-en-vigueur",
        "/api/agreements/c-expiree",
        # the programme hub
        "/programme",
    ):
        get(url)
    for slug in slugs:
        base = f"/ogc/collections/{slug}"
        for url in (
            base,
            f"{base}?f=html",
            f"{base}/items?limit=100",
            f"{base}/items?f=html",
            f"{base}/items?filter=telephone%20IS%20NOT%20NULL",
            f"{base}/items/1",
            f"{base}/queryables",
            f"{base}/schema",
            f"{base}/tiles/WebMercatorQuad",
            f"/api/datasets/{slug}",
            f"/api/datasets/{slug}/versions",
            f"/api/datasets/{slug}/versions/1",
            f"/catalogue/{slug}",
        ):
            get(url)
        for z in ZOOMS:
            x, y = _tile_of(X0, Y0, z)
            get(f"{base}/tiles/WebMercatorQuad/{z}/{x}/{y}")
        for fmt in ("geojson", "csv", "kml", "gpkg", "parquet", "shp"):
            r = client.get(
                f"/api/datasets/{slug}/download?format={fmt}", headers=headers
            )
            assert r.status_code in (200, 401, 403, 404), (slug, fmt, r.status_code)
            if r.status_code == 200:
                seen.append(_download_text(r.content, fmt, tmp_path))
    return "\n".join(seen)


def _expect(text: str, visible: set[str]) -> None:
    for level, marker in LEVELS.items():
        if level in visible:
            assert marker in text, f"{marker} missing: an output lost data"
            assert f"jeu_{level}" in text
        else:
            assert marker not in text, f"{marker} leaked"
            assert f"jeu_{level}" not in text, f"jeu_{level} leaked"


def test_nothing_protected_leaks_to_anonymous_or_partners(city, tmp_path):
    store, tokens = city
    slugs = [f"jeu_{level}" for level in LEVELS]
    with make_client(store) as client:
        anonymous = _everything(client, {}, slugs, tmp_path)
        _expect(anonymous, {"public"})
        assert SENSITIVE not in anonymous
        partner = _everything(
            client, {"Authorization": f"Bearer {tokens['partenaire']}"}, slugs, tmp_path
        )
        _expect(partner, {"public", "partners"})
        assert SENSITIVE not in partner
        custodian = _everything(
            client, {"Authorization": f"Bearer {tokens['gardien']}"}, slugs, tmp_path
        )
        _expect(custodian, set(LEVELS))
        assert SENSITIVE in custodian
    # reads of protected data are in the audit log, by name
    reads = {
        (a["actor"], a["target"])
        for a in store.list_audit(limit=None)
        if a["action"].startswith("read.")
    }
    assert ("gardien", "jeu_confidential") in reads
    assert ("gardien", "jeu_restricted") in reads
    assert not any(actor in ("anonymous", "partenaire") for actor, _ in reads)


def test_hidden_and_unknown_collections_answer_alike(city):
    store, _ = city
    with make_client(store) as client:
        for suffix in (
            "",
            "/items",
            "/items/1",
            "/tiles/WebMercatorQuad",
            "/tiles/WebMercatorQuad/14/0/0",
        ):
            hidden = client.get(f"/ogc/collections/jeu_confidential{suffix}")
            unknown = client.get(f"/ogc/collections/jeu_inexistant{suffix}")
            assert hidden.status_code == unknown.status_code == 404, suffix
            assert hidden.json()["description"].replace(
                "jeu_confidential", "X"
            ) == unknown.json()["description"].replace("jeu_inexistant", "X")


class _Receiver(BaseHTTPRequestHandler):
    bodies: list[bytes] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        size = int(self.headers.get("content-length", 0))
        type(self).bodies.append(self.rfile.read(size))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_webhooks_deliver_only_what_the_subscriber_may_read(city):
    store, tokens = city
    _Receiver.bodies = []
    receiver = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{receiver.server_port}/hook"
    try:
        with make_client(store, webhook_interval=1, webhook_private=1) as client:
            auth = {"Authorization": f"Bearer {tokens['partenaire']}"}
            r = client.post("/api/webhooks", json={"url": url}, headers=auth)
            assert r.status_code in (200, 201), r.text
            for level, marker in LEVELS.items():
                _write_again(store, f"jeu_{level}", marker)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                text = b"".join(_Receiver.bodies).decode()
                if "jeu_public" in text and "jeu_partners" in text:
                    break
                time.sleep(0.2)
            time.sleep(1.5)  # one more round: anything restricted would arrive now
    finally:
        receiver.shutdown()
    text = b"".join(_Receiver.bodies).decode()
    assert "jeu_public" in text and "jeu_partners" in text
    assert "jeu_restricted" not in text and "jeu_confidential" not in text
    assert LEVELS["restricted"] not in text and LEVELS["confidential"] not in text


def _write_again(store, slug: str, marker: str) -> None:
    batch = pa.record_batch(
        {
            "geometry": pa.array([shapely.Point(X0, Y0).wkb], pa.binary()),
            "nom": pa.array([f"{marker}-v2"]),
            "telephone": pa.array([SENSITIVE]),
        }
    )
    store.write_version(
        slug,
        [batch],
        fields=[Field("nom", FieldType.TEXT), Field("telephone", FieldType.TEXT)],
        geometry_type="POINT",
    )


def test_reports_personal_data_leaks_nowhere(city, tmp_path):
    """A report's and a contest's name, contact and account, and the GPS
    position in a photo's EXIF, appear in no byte a visitor or a partner
    gets; the organisation that handles them sees them."""
    from reportutil import CONTACT, GPS_MARK, NAME, form, jpeg_with_exif, new_id

    store, tokens = city
    categories = json.dumps([{"code": "dechets", "label": "D", "organisation": "ong"}])
    rid, cid, signed = new_id(), new_id(), new_id()
    private = (NAME, CONTACT, GPS_MARK)
    partner = {"Authorization": f"Bearer {tokens['partenaire']}"}
    with make_client(store, report_categories=categories) as client:
        photo = [("photos", ("p.jpg", jpeg_with_exif(), "image/jpeg"))]
        filed = client.post("/api/reports", data=form(rid), files=photo)
        assert filed.status_code == 201, filed.text
        # signed by the partner: only its handlers and the partner see the account
        own = form(signed, name="Partenaire-Nom", contact="Partenaire-Tel")
        mine = client.post("/api/reports", data=own, headers=partner)
        assert mine.status_code == 201, mine.text
        contest = client.post(
            "/api/datasets/jeu_public/features/1/contest",
            data={"id": cid, "verdict": "wrong", "dataset_version": "1",
                  "name": NAME, "contact": CONTACT},
        )  # fmt: skip
        assert contest.status_code == 201, contest.text
        slugs = [f"jeu_{level}" for level in LEVELS]
        extra = (
            f"/api/reports/{rid}",
            f"/api/reports/{rid}/photos/1",
            f"/signalements/{rid}",
            f"/api/reports/{cid}",
            "/api/datasets/jeu_public/contests",
            "/console/signalements",
        )
        for headers in ({}, partner):
            text = _everything(client, headers, slugs, tmp_path)
            text += "".join(
                client.get(u, headers=headers).content.decode("utf-8", "replace")
                for u in extra
            )
            for secret in private:
                assert secret not in text, f"{secret} leaked"
            if not headers:  # no output names who sent a report
                assert '"reporter"' not in text and "Partenaire-Tel" not in text
                assert "reporter" not in client.get(f"/api/reports/{signed}").json()
        custodian = {"Authorization": f"Bearer {tokens['gardien']}"}
        seen = client.get(f"/api/reports/{rid}", headers=custodian).text
        assert NAME in seen and CONTACT in seen
        assert (
            "partenaire" in client.get(f"/api/reports/{signed}", headers=custodian).text
        )
        assert (
            "Partenaire-Tel"
            in client.get(f"/api/reports/{signed}", headers=partner).text
        )
        contests = client.get("/api/datasets/jeu_public/contests", headers=custodian)
        assert NAME in contests.text
        # the photo keeps no EXIF, even for those who handle the report
        photo_bytes = client.get(f"/api/reports/{rid}/photos/1", headers=custodian)
        assert GPS_MARK.encode() not in photo_bytes.content


def test_campaigns_hide_private_ones_and_contributor_names(city, tmp_path):
    """A non-public campaign and a draft stay inside their organisation; the
    names of who mapped what (personal data) reach validators only, even in
    a lock conflict; the campaign's forms reach those who may fill them and
    its target dataset those who may read it."""
    import datetime as dt

    from formutil import xlsform

    from quartier.domain.campaigns import Action, Campaign, CampaignStatus, Grid
    from quartier.services.forms import add_form

    store, tokens = city
    square = "POLYGON ((15.34 -4.41, 15.341 -4.41, 15.341 -4.409, 15.34 -4.409, 15.34 -4.41))"
    other = "POLYGON ((15.341 -4.41, 15.342 -4.41, 15.342 -4.409, 15.341 -4.409, 15.341 -4.41))"
    add_form(store, xlsform(tmp_path / "f.xlsx"), organisation="ong", actor=LOCAL)
    for slug, title, public, status in (
        ("ouverte", "Campagne ouverte", True, CampaignStatus.ACTIVE),
        ("interne", "QZ-CAMPAGNE-INTERNE", False, CampaignStatus.ACTIVE),
        ("brouillon", "QZ-CAMPAGNE-BROUILLON", True, CampaignStatus.DRAFT),
    ):
        store.add_campaign(
            Campaign(
                slug,
                title,
                "ong",
                square,
                Grid.SQUARE,
                100.0,
                public=public,
                status=status,
                created="2026-11-26T09:00:00+00:00",
                forms=("enquete",),
                dataset="jeu_restricted",
            ),
            [square, other],
        )
    accounts.create_user(
        store, "qznom-mappeur", password="un-mot-de-passe", actor=LOCAL
    )
    now = dt.datetime.now(dt.UTC)
    for action in (Action.LOCK, Action.MAPPED):
        store.transition_cell(
            "ouverte", 1, action, user="qznom-mappeur", now=now, may_validate=False
        )
    store.transition_cell(
        "ouverte", 2, Action.LOCK, user="qznom-mappeur", now=now, may_validate=False
    )
    urls = ["/campagnes", "/api/campaigns"] + [
        url
        for slug in ("ouverte", "interne", "brouillon")
        for url in (
            f"/campagnes/{slug}",
            f"/api/campaigns/{slug}",
            f"/api/campaigns/{slug}/tasks",
            f"/api/campaigns/{slug}/tasks/1",
            f"/api/campaigns/{slug}/stats",
        )
    ]
    with make_client(store) as client:

        def everything(headers):
            texts = []
            for url in urls:
                r = client.get(url, headers=headers)
                assert r.status_code in (200, 404), (url, r.status_code)
                texts.append(r.text if r.status_code == 200 else "")
            return "\n".join(texts)

        def take(headers):
            return client.post("/api/campaigns/ouverte/tasks/2/lock", headers=headers)

        forms = ("Enquête de quartier", "formulaires/enquete", '"enquete"')
        for who in ({}, {"Authorization": f"Bearer {tokens['partenaire']}"}):
            seen = everything(who)
            assert "Campagne ouverte" in seen
            assert "QZ-CAMPAGNE" not in seen and "qznom" not in seen
            assert "jeu_restricted" not in seen
            assert not any(form in seen for form in forms)
        partner = take({"Authorization": f"Bearer {tokens['partenaire']}"})
        assert partner.status_code == 409 and "qznom" not in partner.text
        gardien = {"Authorization": f"Bearer {tokens['gardien']}"}
        custodian = everything(gardien)
        assert "QZ-CAMPAGNE-INTERNE" in custodian and "qznom-mappeur" in custodian
        assert "jeu_restricted" in custodian
        assert all(form in custodian for form in forms)
        assert "locked by qznom-mappeur" in take(gardien).text
        assert "QZ-CAMPAGNE-BROUILLON" not in custodian  # a moderator does not manage


def test_an_agreement_opens_every_output_while_in_force_and_stops_at_expiry(
    city, tmp_path
):
    """A data-sharing agreement of the holder lets a partner read a restricted
    dataset on every output; one that expired yesterday opens nothing, and a
    suspended one closes everything again. Personal data stays masked."""
    from datetime import date, timedelta

    from quartier.domain.agreements import Agreement, AgreementStatus

    store, tokens = city
    today = date.today()
    for agreement_id, slug, ends in (
        ("c-en-vigueur", "jeu_restricted", today),
        ("c-expiree", "jeu_confidential", today - timedelta(days=1)),
    ):
        store.add_agreement(
            Agreement(
                agreement_id,
                "Convention",
                "ville",
                ("unikin",),
                (slug,),
                "Recherche",
                (today - timedelta(days=30)).isoformat(),
                ends.isoformat(),
                AgreementStatus.ACTIVE,
                created="2026-01-01",
            )
        )
    slugs = [f"jeu_{level}" for level in LEVELS]
    partner = {"Authorization": f"Bearer {tokens['partenaire']}"}
    with make_client(store) as client:
        seen = _everything(client, partner, slugs, tmp_path)
        _expect(seen, {"public", "partners", "restricted"})
        assert SENSITIVE not in seen
        store.set_agreement_status(
            "c-en-vigueur", AgreementStatus.SUSPENDED, at="2026-11-26"
        )
        _expect(_everything(client, partner, slugs, tmp_path), {"public", "partners"})
    # the partner's reads under the agreement are in the audit log
    reads = {
        (a["actor"], a["target"])
        for a in store.list_audit(limit=None)
        if a["action"].startswith("read.")
    }
    assert ("partenaire", "jeu_restricted") in reads

"""OGC API – Features at /ogc, through the application, on both stores."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pyarrow as pa
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
from quartier.services import accounts

F1 = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def rel(doc, name, type_=None):
    found = [
        link
        for link in doc["links"]
        if link["rel"] == name and (type_ is None or link["type"] == type_)
    ]
    assert len(found) == 1, (name, doc["links"])
    return found[0]["href"]


def local(href: str) -> str:
    """A link's path and query, for the test client."""
    parts = urlsplit(href)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def walk(client, url):
    """Follow ``next`` links from ``url``; every feature, and the pages."""
    features, pages = [], 0
    while url:
        r = client.get(url)
        assert r.status_code == 200, r.text
        doc = r.json()
        pages += 1
        assert doc["numberReturned"] == len(doc["features"])
        features += doc["features"]
        nxt = [link["href"] for link in doc["links"] if link["rel"] == "next"]
        url = local(nxt[0]) if nxt else None
    return features, pages


def store_rows(store, slug):
    return [r for b in store.read_batches(slug) for r in b.to_pylist()]


# ------------------------------------------------------- landing and meta
def test_landing_conformance_and_service_description(demo_client):
    r = demo_client.get("/ogc")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    doc = r.json()
    assert doc["title"].startswith("Kisenso")
    for name in (
        "self",
        "alternate",
        "service-desc",
        "service-doc",
        "conformance",
        "data",
    ):
        rel(doc, name)
    assert demo_client.get("/ogc/").json()["title"] == doc["title"]
    classes = demo_client.get(local(rel(doc, "conformance"))).json()["conformsTo"]
    for c in ("core", "geojson", "html", "oas30"):
        assert f"{F1}/{c}" in classes
    assert "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text" in classes
    api = demo_client.get(local(rel(doc, "service-desc")))
    assert api.headers["content-type"] == "application/vnd.oai.openapi+json;version=3.0"
    spec = api.json()
    assert spec["openapi"].startswith("3.0")
    assert spec["servers"][0]["url"].endswith("/ogc")
    params = {
        p["name"]: p
        for p in spec["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]
    }
    limit = params["limit"]
    assert (limit["in"], limit["required"], limit["style"], limit["explode"]) == (
        "query",
        False,
        "form",
        False,
    )
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 10000)
    assert params["bbox"]["schema"]["type"] == "array"
    assert params["bbox"]["schema"]["minItems"] == 4
    assert "datetime" in params and "filter" in params
    assert "'null'" not in str(spec)  # OpenAPI 3.0 has no type null
    assert "422" not in str(spec)  # validation errors answer 400
    html = demo_client.get(local(rel(doc, "service-doc")))
    assert html.headers["content-type"].startswith("text/html")
    assert "/collections/{collectionId}/items" in html.text


def test_collections_describe_every_public_dataset(demo_client, demo_store):
    doc = demo_client.get("/ogc/collections").json()
    rel(doc, "self")
    by_id = {c["id"]: c for c in doc["collections"]}
    assert set(by_id) == {ds.slug for ds in demo_store.list_datasets()}
    bati = by_id["batiments"]
    assert bati["title"] == "Bâtiments (extrait OSM 2018)"
    assert bati["itemType"] == "feature" and bati["crs"] == [CRS84]
    ds = demo_store.get_dataset("batiments")
    assert bati["extent"]["spatial"]["bbox"] == [list(ds.bbox)]
    assert rel(bati, "items", "application/geo+json").endswith(
        "/ogc/collections/batiments/items"
    )
    assert rel(bati, "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector").endswith(
        "/ogc/collections/batiments/tiles/WebMercatorQuad"
    )
    rel(bati, "describedby")
    rel(bati, "http://www.opengis.net/def/rel/ogc/1.0/queryables")
    assert by_id["erosions"]["extent"]["temporal"]["interval"] == [
        ["2018-01-01T00:00:00Z", "2018-12-31T23:59:59Z"]
    ]
    table = by_id["population_estimee"]
    assert "spatial" not in table["extent"]
    assert not [link for link in table["links"] if "tilesets" in link["rel"]]
    one = demo_client.get("/ogc/collections/batiments").json()
    assert one["id"] == "batiments" and rel(one, "self").endswith("?f=json")


def test_queryables_and_schema(demo_client):
    q = demo_client.get("/ogc/collections/batiments/queryables")
    assert q.headers["content-type"] == "application/schema+json"
    doc = q.json()
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert doc["properties"]["date_edition_osm"]["format"] == "date-time"
    assert doc["properties"]["name"]["type"] == "string"
    assert "@user" not in doc["properties"]  # sensitive
    schema = demo_client.get("/ogc/collections/ecoles/schema").json()
    assert schema["properties"]["osm_id"]["type"] == "integer"
    assert schema["properties"]["geometry"] == {"x-ogc-role": "primary-geometry"}


# ------------------------------------------------------------------ items
def test_items_page_through_everything_with_next_links(demo_client, demo_store):
    first = demo_client.get("/ogc/collections/batiments/items").json()
    assert first["type"] == "FeatureCollection"
    assert len(first["features"]) == 10  # the default limit
    assert first["numberMatched"] == 608 and first["numberReturned"] == 10
    dt.datetime.strptime(first["timeStamp"], "%Y-%m-%dT%H:%M:%SZ")
    for name in ("self", "alternate", "next", "collection"):
        rel(first, name)
    assert not [link for link in first["links"] if link["rel"] == "prev"]
    features, pages = walk(demo_client, "/ogc/collections/batiments/items?limit=100")
    assert pages == 7
    rows = store_rows(demo_store, "batiments")
    assert [f["id"] for f in features] == [r["fid"] for r in rows]
    for f, r in zip(features, rows, strict=True):
        assert shapely.from_geojson(_json(f["geometry"])).equals_exact(
            shapely.from_wkb(r["geometry"]), 1e-12
        )
        assert f["properties"]["osm_id"] == r["osm_id"]
        assert "@user" not in f["properties"]


def _json(value):
    import json

    return json.dumps(value)


def test_bbox_pages_are_exact_and_prev_goes_back(demo_client, demo_store):
    box = (15.33, -4.425, 15.35, -4.40)
    want = [
        r["fid"]
        for r in store_rows(demo_store, "batiments")
        if shapely.from_wkb(r["geometry"]).intersects(shapely.box(*box))
    ]
    assert 20 < len(want) < 608
    url = "/ogc/collections/batiments/items?limit=25&bbox=" + ",".join(map(str, box))
    features, pages = walk(demo_client, url)
    assert [f["id"] for f in features] == want
    assert pages == -(-len(want) // 25)
    page1 = demo_client.get(url).json()
    assert "numberMatched" not in page1  # not cheap with a bbox: omitted
    page2 = demo_client.get(local(rel(page1, "next"))).json()
    back = demo_client.get(local(rel(page2, "prev"))).json()
    assert [f["id"] for f in back["features"]] == [f["id"] for f in page1["features"]]
    six = demo_client.get(
        url.replace("limit=25&bbox=", "limit=25&bbox-crs=" + CRS84 + "&bbox=")
    )
    assert six.status_code == 200


def test_offset_and_cursor_parameters(demo_client, demo_store):
    fids = [r["fid"] for r in store_rows(demo_store, "batiments")]
    doc = demo_client.get("/ogc/collections/batiments/items?offset=600&limit=5").json()
    assert [f["id"] for f in doc["features"]] == fids[600:605]
    nxt = parse_qs(urlsplit(rel(doc, "next")).query)
    assert nxt["after"] == [str(fids[604])] and "offset" not in nxt
    assert parse_qs(urlsplit(rel(doc, "prev")).query)["before"] == [str(fids[600])]
    last = demo_client.get(local(rel(doc, "next"))).json()
    assert [f["id"] for f in last["features"]] == fids[605:]
    assert not [link for link in last["links"] if link["rel"] == "next"]
    before = demo_client.get(
        f"/ogc/collections/batiments/items?before={fids[3]}"
    ).json()
    assert [f["id"] for f in before["features"]] == fids[:3]


def test_property_filters_and_cql2(demo_client, demo_store):
    rows = store_rows(demo_store, "ecoles")
    some = next(r for r in rows if r["amenity"])
    r = demo_client.get(
        f"/ogc/collections/ecoles/items?amenity={some['amenity']}&limit=1000"
    )
    assert [f["id"] for f in r.json()["features"]] == [
        x["fid"] for x in rows if x["amenity"] == some["amenity"]
    ]
    ids = [rows[0]["osm_id"], rows[5]["osm_id"]]
    r = demo_client.get(
        f"/ogc/collections/ecoles/items?osm_id={ids[0]}&osm_id={ids[1]}"
    )
    assert [f["id"] for f in r.json()["features"]] == [rows[0]["fid"], rows[5]["fid"]]
    cql = "name LIKE 'E%' AND (amenity = 'school' OR amenity IS NULL)"
    r = demo_client.get(
        "/ogc/collections/ecoles/items", params={"filter": cql, "limit": 500}
    )
    assert r.status_code == 200, r.text
    assert [f["id"] for f in r.json()["features"]] == [
        x["fid"]
        for x in rows
        if (x["name"] or "").startswith("E") and x["amenity"] in ("school", None)
    ]
    r = demo_client.get(
        "/ogc/collections/ecoles/items",
        params={
            "filter": "osm_id > 0",
            "filter-lang": "cql2-text",
            "properties": "name",
        },
    )
    assert set(r.json()["features"][0]["properties"]) == {"name"}


def test_datetime_uses_the_date_field_or_the_extent(demo_client, demo_store):
    rows = store_rows(demo_store, "batiments")
    start = dt.datetime(2018, 7, 1, tzinfo=dt.UTC)
    want = [
        r["fid"]
        for r in rows
        if r["date_edition_osm"] and r["date_edition_osm"] >= start
    ]
    got, _ = walk(
        demo_client, "/ogc/collections/batiments/items?limit=500&datetime=2018-07-01/.."
    )
    assert [f["id"] for f in got] == want and 0 < len(want) < 608
    day, _ = walk(
        demo_client, "/ogc/collections/batiments/items?datetime=2018-07-18&limit=500"
    )
    assert [f["id"] for f in day] == [
        r["fid"]
        for r in rows
        if r["date_edition_osm"]
        and r["date_edition_osm"].date() == dt.date(2018, 7, 18)
    ]
    # erosions: no date field, a temporal extent (2018)
    inside = demo_client.get(
        "/ogc/collections/erosions/items?datetime=2018-03-01T10:00:00Z"
    ).json()
    assert inside["numberReturned"] == 10
    after = demo_client.get(
        "/ogc/collections/erosions/items?datetime=2019-01-01/.."
    ).json()
    assert after["features"] == []
    # routes: nothing known about time, the parameter does not restrict
    routes = demo_client.get(
        "/ogc/collections/routes/items?datetime=../2000-01-01"
    ).json()
    assert routes["numberReturned"] == 10


def test_single_feature(demo_client, demo_store):
    row = store_rows(demo_store, "sante")[3]
    r = demo_client.get(f"/ogc/collections/sante/items/{row['fid']}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    f = r.json()
    assert f["type"] == "Feature" and f["id"] == row["fid"]
    assert shapely.from_geojson(_json(f["geometry"])).equals(
        shapely.from_wkb(row["geometry"])
    )
    for name in ("self", "alternate", "collection"):
        rel(f, name)
    for bad in ("999999", "abc", "1.5", "99999999999999999999999"):
        r = demo_client.get(f"/ogc/collections/sante/items/{bad}")
        assert r.status_code == 404 and r.json()["code"] == "NotFound"


def test_attribute_tables_have_null_geometries(demo_client):
    doc = demo_client.get("/ogc/collections/population_estimee/items?limit=100").json()
    assert doc["numberMatched"] == doc["numberReturned"] == 17
    assert all(f["geometry"] is None for f in doc["features"])
    boxed = demo_client.get(
        "/ogc/collections/population_estimee/items?bbox=-180,-90,180,90"
    )
    assert boxed.json()["features"] == []


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        ("limit=0", 400, "limit"),
        ("limit=10001", 400, "limit"),
        ("limit=dix", 400, "limit"),
        ("bbox=1,2,3", 400, "bbox"),
        ("bbox=a,b,c,d", 400, "bbox"),
        ("bbox=1,2,0,3", 400, "antimeridian"),
        ("bbox=0,3,1,2", 400, "latitude"),
        ("bbox=0,0,1,1&bbox-crs=EPSG:3857", 400, "bbox-crs"),
        ("datetime=hier", 400, "datetime"),
        ("datetime=2019-01-01/2018-01-01", 400, "datetime"),
        ("filter=name%20%3D", 400, "position"),
        ("filter=nope%20%3D%201", 400, "unknown property 'nope'"),
        ("filter-lang=cql2-json&filter=x", 400, "filter-lang"),
        ("filter=" + "NOT%20" * 100 + "osm_id%20%3D%201", 400, "nested too deeply"),
        ("osm_id=1" + "&osm_id=2" * 1000, 400, "at most 1000 values"),
        ("unknown=1", 400, "unknown parameter 'unknown'"),
        ("osm_id=abc", 400, "osm_id"),
        ("properties=nope", 400, "nope"),
        ("after=1&offset=2", 400, "at most one"),
        ("after=-1", 400, "after"),
        ("f=xml", 400, "f"),
    ],
)
def test_bad_parameters_are_400_with_an_exception_body(
    demo_client, query, status, words
):
    r = demo_client.get(f"/ogc/collections/ecoles/items?{query}")
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"code", "description"}
    assert words in body["description"]


def test_unknown_things_are_404(demo_client):
    for url in (
        "/ogc/collections/nope",
        "/ogc/collections/nope/items",
        "/ogc/collections/nope/items/1",
        "/ogc/collections/nope/queryables",
        "/ogc/collections/nope/schema",
    ):
        r = demo_client.get(url)
        assert r.status_code == 404 and r.json()["description"] == "no dataset 'nope'"
    assert demo_client.get("/ogc/collections?x=1").status_code == 400


def test_html_by_parameter_or_accept(demo_client):
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    for url in (
        "/ogc",
        "/ogc/conformance",
        "/ogc/collections",
        "/ogc/collections/batiments",
        "/ogc/collections/batiments/items",
        "/ogc/collections/batiments/items/1",
    ):
        for headers, query in (({"Accept": browser}, ""), ({}, "f=html")):
            sep = "&" if "?" in url else "?"
            r = demo_client.get(url + (sep + query if query else ""), headers=headers)
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/html"), url
            assert '<html lang="fr">' in r.text
        assert (
            demo_client.get(url, headers={"Accept": "*/*"})
            .headers["content-type"]
            .endswith("json")
        )
        assert demo_client.get(url).headers["vary"] == "Accept"
    page = demo_client.get("/ogc/collections/batiments/items?f=html").text
    assert "Page suivante" in page and "way/385354616" in page


def test_items_operation_never_fails_with_5xx(demo_client):
    """schemathesis over the items operation of a real collection."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    schema = schemathesis.openapi.from_asgi("/ogc/api", demo_client.app)
    operation = schema["/collections/{collectionId}/items"]["GET"]
    failures = []

    @given(case=operation.as_strategy())
    @settings(
        max_examples=150,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        case.path_parameters = {"collectionId": "batiments"}
        response = case.call()
        if response.status_code >= 500:
            failures.append((case.query, response.text[:200]))

    run()
    assert failures == []


# ----------------------------------------------------- access and audit
def _protected_city(store):
    store.ensure_schema()
    store.add_organisation(Organisation("ville", "Ville", ActorKind.LOCAL_AUTHORITY))
    store.create_dataset(
        Dataset(
            slug="menages",
            title="Ménages",
            access=AccessLevel.RESTRICTED,
            producer="ville",
            sensitive_fields=["telephone"],
        )
    )
    batch = pa.record_batch(
        {
            "geometry": pa.array([shapely.Point(15.3, -4.4).wkb] * 3, pa.binary()),
            "nom": pa.array(["a", "b", "c"]),
            "telephone": pa.array(["081", "082", "083"]),
        }
    )
    fields = [Field("nom", FieldType.TEXT), Field("telephone", FieldType.TEXT)]
    store.write_version("menages", [batch], fields=fields, geometry_type="POINT")
    tokens = {}
    for name, role in (("agent", "viewer"), ("gardien", "steward")):
        accounts.create_user(store, name, password="un-mot-de-passe", actor=LOCAL)
        accounts.grant_role(store, name, "ville", role, actor=LOCAL)
        secret = accounts.issue_token(store, name, actor=LOCAL).secret
        tokens[name] = {"Authorization": f"Bearer {secret}"}
    return tokens


def test_restricted_collections_and_sensitive_fields(store):
    tokens = _protected_city(store)
    with make_client(store) as client:
        # anonymous: the dataset does not exist
        assert client.get("/ogc/collections").json()["collections"] == []
        for suffix in ("", "/items", "/items/1", "/queryables", "/schema"):
            r = client.get(f"/ogc/collections/menages{suffix}")
            assert r.status_code == 404, suffix
        # a member: features, without the sensitive field, which cannot be probed
        agent = tokens["agent"]
        doc = client.get("/ogc/collections/menages/items", headers=agent).json()
        assert [f["properties"] for f in doc["features"]] == [
            {"nom": "a"},
            {"nom": "b"},
            {"nom": "c"},
        ]
        for query in (
            "telephone=081",
            "filter=telephone%20%3D%20%27081%27",
            "properties=telephone",
        ):
            r = client.get(f"/ogc/collections/menages/items?{query}", headers=agent)
            assert r.status_code == 400 and "telephone" in r.json()["description"]
        one = client.get("/ogc/collections/menages/items/1", headers=agent).json()
        assert one["properties"] == {"nom": "a"}
        queryables = client.get(
            "/ogc/collections/menages/queryables", headers=agent
        ).json()
        assert list(queryables["properties"]) == ["nom"]
        # the steward sees and filters on everything
        gardien = tokens["gardien"]
        r = client.get("/ogc/collections/menages/items?telephone=082", headers=gardien)
        assert [f["properties"] for f in r.json()["features"]] == [
            {"nom": "b", "telephone": "082"}
        ]
    reads = {
        (a["actor"], a["action"], a["target"])
        for a in store.list_audit(limit=None)
        if a["action"].startswith("read.")
    }
    assert ("agent", "read.items", "menages") in reads
    assert ("gardien", "read.items", "menages") in reads

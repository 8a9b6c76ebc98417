"""Vector tiles and TileJSON over HTTP, on both stores.

The demo city (Kisenso, Kinshasa) for reading; a fresh store when a test
writes versions, users or tokens.
"""

from __future__ import annotations

import math

import mapbox_vector_tile
import pyarrow as pa
import pytest
import shapely

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
from quartier.services.tiles import TileService

KISENSO = (15.345, -4.41)
TILES = "/ogc/collections/{}/tiles/WebMercatorQuad"
MVT = "application/vnd.mapbox-vector-tile"


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def tile_url(slug: str, z: int, lon: float = KISENSO[0], lat: float = KISENSO[1]):
    x, y = tile_of(lon, lat, z)
    return f"{TILES.format(slug)}/{z}/{x}/{y}"


def features(response, layer: str) -> list[dict]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == MVT
    return mapbox_vector_tile.decode(response.content)[layer]["features"]


# ---------------------------------------------------------------- the demo
def test_tilejson_describes_the_collection(demo_client):
    r = demo_client.get(TILES.format("batiments"))
    assert r.status_code == 200
    tj = r.json()
    assert tj["tilejson"] == "3.0.0"
    assert tj["tiles"] == [
        "http://testserver/ogc/collections/batiments/tiles/WebMercatorQuad/{z}/{x}/{y}"
    ]
    assert 0 <= tj["minzoom"] < tj["maxzoom"] <= 22
    w, s, e, n = tj["bounds"]
    assert 15.3 < w < e < 15.4 and -4.45 < s < n < -4.38
    lon, lat, zoom = tj["center"]
    assert w <= lon <= e and s <= lat <= n and tj["minzoom"] <= zoom <= tj["maxzoom"]
    (layer,) = tj["vector_layers"]
    assert layer["id"] == "batiments"
    assert {"osm_id", "building", "name"} <= set(layer["fields"])
    assert "@user" not in layer["fields"]  # sensitive: hidden from anonymous
    assert "OpenStreetMap" in tj["attribution"]
    assert tj["quartier:aggregation"]["max_features"] > 0


def test_tilesets_list_links_to_the_tilejson(demo_client):
    r = demo_client.get("/ogc/collections/routes/tiles")
    assert r.status_code == 200
    (tileset,) = r.json()["tilesets"]
    assert tileset["dataType"] == "vector"
    hrefs = {link["rel"]: link["href"] for link in tileset["links"]}
    assert hrefs["self"].endswith(TILES.format("routes"))
    assert demo_client.get(hrefs["self"]).json()["tilejson"] == "3.0.0"


@pytest.mark.parametrize("z", [14, 15, 16])
def test_tiles_over_kisenso_decode_with_features(demo_client, z):
    buildings = features(demo_client.get(tile_url("batiments", z)), "batiments")
    assert buildings
    assert all(isinstance(f["id"], int) for f in buildings)
    assert {f["geometry"]["type"] for f in buildings} <= {"Polygon", "MultiPolygon"}
    assert all("@user" not in f["properties"] for f in buildings)
    roads = features(demo_client.get(tile_url("routes", z)), "routes")
    assert {f["geometry"]["type"] for f in roads} <= {"LineString", "MultiLineString"}


def test_gzip_only_when_the_client_accepts_it(demo_client):
    url = tile_url("batiments", 15)
    zipped = demo_client.get(url, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["vary"]
    plain = demo_client.get(url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == zipped.content  # httpx undid the gzip
    assert int(zipped.headers["content-length"]) < len(plain.content)
    refused = demo_client.get(url, headers={"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in refused.headers


def test_second_request_is_a_cache_hit_and_etags_revalidate(demo_client):
    url = tile_url("routes", 14)
    first = demo_client.get(url)
    cache = demo_client.app.state.ctx.extras["tiles"].cache
    hits = cache.hits
    second = demo_client.get(url)
    assert cache.hits == hits + 1
    assert second.content == first.content
    assert second.headers["etag"] == first.headers["etag"]
    assert second.headers["cache-control"].startswith("public")
    again = demo_client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_empty_tiles_answer_204(demo_client):
    r = demo_client.get(tile_url("sante", 16, lon=0.0, lat=0.0))
    assert r.status_code == 204 and r.content == b""


@pytest.mark.parametrize(
    "path, status",
    [
        ("/ogc/collections/batiments/tiles/WebMercatorQuad/25/0/0", 404),
        ("/ogc/collections/batiments/tiles/WebMercatorQuad/2/4/0", 404),
        ("/ogc/collections/batiments/tiles/WebMercatorQuad/2/0/-1", 404),
        ("/ogc/collections/batiments/tiles/WebMercatorQuad/a/0/0", 400),
        ("/ogc/collections/batiments/tiles/WebMercatorQuad/1/0/0.5", 400),
        ("/ogc/collections/batiments/tiles/WorldCRS84Quad/1/0/0", 404),
        ("/ogc/collections/batiments/tiles/WorldCRS84Quad", 404),
        ("/ogc/collections/inconnu/tiles/WebMercatorQuad/1/0/0", 404),
        ("/ogc/collections/Inconnu%00/tiles/WebMercatorQuad", 400),  # NUL: refused
        ("/ogc/collections/population_estimee/tiles/WebMercatorQuad", 404),
        ("/ogc/collections/population_estimee/tiles/WebMercatorQuad/1/0/0", 404),
    ],
)
def test_bad_tile_requests_are_4xx_with_an_ogc_body(demo_client, path, status):
    r = demo_client.get(path)
    assert r.status_code == status
    assert set(r.json()) == {"code", "description"}


# ---------------------------------------------------- versions and access
def _points(store, slug: str, names: list[str], **dataset) -> None:
    if slug not in {d.slug for d in store.list_datasets()}:
        store.create_dataset(Dataset(slug=slug, title=slug, **dataset))
    lon, lat = KISENSO
    geoms = [shapely.Point(lon + i * 1e-4, lat).wkb for i in range(len(names))]
    batch = pa.record_batch(
        {
            "geometry": pa.array(geoms, pa.binary()),
            "nom": pa.array(names),
            "telephone": pa.array(["0812"] * len(names)),
        }
    )
    store.write_version(
        slug,
        [batch],
        fields=[Field("nom", FieldType.TEXT), Field("telephone", FieldType.TEXT)],
        geometry_type="POINT",
    )


def test_a_new_version_invalidates_cached_tiles(client, store):
    _points(store, "puits", ["a", "b"])
    url = tile_url("puits", 15)
    first = client.get(url)
    assert sorted(f["properties"]["nom"] for f in features(first, "puits")) == [
        "a",
        "b",
    ]
    _points(store, "puits", ["a", "b", "c"])
    second = client.get(url)
    names = sorted(f["properties"]["nom"] for f in features(second, "puits"))
    assert names == ["a", "b", "c"]
    assert second.headers["etag"] != first.headers["etag"]
    stale = client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert stale.status_code == 200
    assert client.get(TILES.format("puits")).json()["version"] == "2.0.0"


def _member(store, name: str, role: str) -> dict[str, str]:
    accounts.create_user(store, name, password="un-mot-de-passe", actor=LOCAL)
    accounts.grant_role(store, name, "ong", role, actor=LOCAL)
    secret = accounts.issue_token(store, name, actor=LOCAL).secret
    return {"Authorization": f"Bearer {secret}"}


def test_restricted_tiles_are_unknown_to_anonymous_and_seen_by_members(client, store):
    store.add_organisation(Organisation("ong", "ONG", ActorKind.NGO))
    _points(store, "refuges", ["x", "y"], access=AccessLevel.RESTRICTED, steward="ong")
    member = _member(store, "awa", "viewer")
    urls = [
        tile_url("refuges", 15),
        TILES.format("refuges"),
        "/ogc/collections/refuges/tiles",
    ]
    for url in urls:
        hidden = client.get(url)
        unknown = client.get(url.replace("refuges", "rien"))
        assert hidden.status_code == unknown.status_code == 404
        # the same answer as for a name that does not exist
        assert hidden.text == unknown.text.replace("rien", "refuges")
        assert client.get(url, headers=member).status_code == 200
    seen = client.get(urls[0], headers=member)
    assert sorted(f["properties"]["nom"] for f in features(seen, "refuges")) == [
        "x",
        "y",
    ]
    assert seen.headers["cache-control"].startswith("private")
    # the cached tile is no back door: anonymous is still refused after a hit
    assert client.get(urls[0]).status_code == 404
    reads = [(a["actor"], a["action"], a["target"]) for a in store.list_audit()]
    assert ("awa", "read.tiles", "refuges") in reads


def test_sensitive_fields_only_for_custodians(client, store):
    store.add_organisation(Organisation("ong", "ONG", ActorKind.NGO))
    _points(store, "enquete", ["a"], steward="ong", sensitive_fields=["telephone"])
    viewer = _member(store, "ibra", "viewer")
    steward = _member(store, "awa", "steward")
    url = tile_url("enquete", 15)
    for headers in ({}, viewer):
        (feat,) = features(client.get(url, headers=headers), "enquete")
        assert feat["properties"] == {"nom": "a"}
        fields = client.get(TILES.format("enquete"), headers=headers).json()
        assert "telephone" not in fields["vector_layers"][0]["fields"]
    (feat,) = features(client.get(url, headers=steward), "enquete")
    assert feat["properties"] == {"nom": "a", "telephone": "0812"}
    fields = client.get(TILES.format("enquete"), headers=steward).json()
    assert "telephone" in fields["vector_layers"][0]["fields"]
    # and a later anonymous request does not get the steward's cached tile
    (feat,) = features(client.get(url), "enquete")
    assert "telephone" not in feat["properties"]


def test_over_full_tiles_are_aggregated_and_say_so(client, store):
    _points(store, "arbres", [f"t{i}" for i in range(30)])
    ctx = client.app.state.ctx
    ctx.extras["tiles"] = TileService(
        store, ctx.audit, cache_bytes=2**20, max_features=5
    )
    assert (
        client.get(TILES.format("arbres")).json()["quartier:aggregation"][
            "max_features"
        ]
        == 5
    )
    r = client.get(tile_url("arbres", 15))
    assert r.headers["quartier-aggregated"] == "true"
    cells = features(r, "arbres")
    assert sum(f["properties"]["quartier_count"] for f in cells) == 30
    assert "quartier-aggregated" not in client.get(tile_url("arbres", 20)).headers

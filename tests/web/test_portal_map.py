"""The map explorer's server side: page, configuration and place search.

The search reads features, so it goes through the authorisation layer like
every other output: a dataset the caller may not read, or a sensitive name
field they may not see, is never searched — even after someone allowed to
see it has filled the search cache.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

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
from quartier.web.portal import explorer

KISENSO = (15.313, -4.4401, 15.364, -4.3952)
MAP_CSS = Path(explorer.__file__).parents[1] / "static" / "map.css"


def _config(html: str) -> dict:
    found = re.search(
        r'<script type="application/json" id="map-config">(.*?)</script>', html, re.S
    )
    assert found, "the page has no map configuration"
    return json.loads(found.group(1))


def _inside(box: list[float], outer: tuple[float, ...]) -> bool:
    return (
        outer[0] <= box[0] <= box[2] <= outer[2]
        and outer[1] <= box[1] <= box[3] <= outer[3]
    )


# ------------------------------------------------------------- demo city
@pytest.mark.parametrize(
    ("query", "label"),
    [("revolution", "Révolution"), ("LIBÉRATION", "Libération"), ("mbuku", "Mbuku")],
)
def test_search_finds_quartiers_ignoring_accents_and_case(demo_client, query, label):
    r = demo_client.get("/carte/lieux", params={"q": query})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    first = r.json()["results"][0]
    assert (first["label"], first["dataset"]) == (label, "unites_admin")
    assert first["dataset_title"] and isinstance(first["id"], int)
    assert first["point"] is None
    assert _inside(first["bbox"], KISENSO)


def test_search_finds_named_points_and_ranks_admin_units_first(demo_client):
    results = demo_client.get("/carte/lieux", params={"q": "kisenso"}).json()["results"]
    assert results[0]["label"] == "Kisenso" and results[0]["dataset"] == "unites_admin"
    schools = [r for r in results if r["dataset"] == "ecoles"]
    assert schools, results
    lon, lat = schools[0]["point"]
    assert schools[0]["bbox"] == [lon, lat, lon, lat]
    assert all("kisenso" in r["label"].casefold() for r in results)
    assert len(results) <= explorer.MAX_RESULTS
    # lines and tables are not searched
    assert {r["dataset"] for r in results} <= {
        "unites_admin",
        "ecoles",
        "sante",
        "marches",
        "batiments",
        "erosions",
    }


def test_search_with_nothing_to_find(demo_client):
    for q in ("", "   ", "zzzz nulle part"):
        r = demo_client.get("/carte/lieux", params={"q": q})
        assert r.status_code == 200 and r.json()["results"] == []
    assert demo_client.get("/carte/lieux", params={"q": "x" * 201}).status_code == 400


def test_map_page_lists_the_visible_layers_by_theme(demo_client):
    r = demo_client.get("/carte")
    assert r.status_code == 200
    assert "script-src 'self'" in r.headers["content-security-policy"]
    html = r.text
    assert 'class="map-page"' in html and 'id="map"' in html
    assert "<style" not in html and "style=" not in html
    config = _config(html)
    slugs = {layer["slug"] for layer in config["layers"]}
    # feature datasets only (the attribute table is not a map layer)
    assert slugs == {
        "batiments",
        "ecoles",
        "erosions",
        "marches",
        "routes",
        "sante",
        "unites_admin",
    }
    for slug in slugs:
        assert f'id="layer-{slug}"' in html and f'id="opacity-{slug}"' in html
    bases = {la["slug"]: la["base"] for la in config["layers"] if la["base"]}
    assert bases == {
        "unites_admin": "admin",
        "batiments": "buildings",
        "routes": "roads",
    }
    kinds = {la["slug"]: la["kind"] for la in config["layers"]}
    assert kinds["ecoles"] == "circle" and kinds["routes"] == "line"
    assert kinds["batiments"] == "fill"
    assert config["basemap"]["url"] == ""
    assert _inside(config["bbox"], (15.3, -4.45, 15.37, -4.39))
    assert config["worker"].startswith("/static/vendor/maplibre-gl-worker.js?v=")
    assert config["strings"]["zoomIn"] == "Zoom avant"
    # admin units to zoom to, in alphabetical order
    assert '<option value="2" data-bbox="' in html  # Mbuku
    assert html.index(">17 Mai<") < html.index(">Amba<") < html.index(">Révolution<")


def test_colours_are_stable_and_each_has_a_legend_class():
    a = Dataset(slug="ecoles", title="Écoles", theme="éducation")
    assert explorer.colour(a) == explorer.colour(
        Dataset(slug="ecoles", title="x", theme="Education")
    )
    assert explorer.colour(a) in explorer.FAMILIES["educ"]
    other = Dataset(slug="zzz", title="x", theme="inconnu")
    assert explorer.colour(other) in explorer.OTHERS
    css = MAP_CSS.read_text(encoding="utf-8")
    for c in explorer.PALETTE:
        assert f".swatch.c-{c[1:]} {{ background: {c}; }}" in css


def test_the_preview_configuration_is_json(demo_client):
    r = demo_client.get("/carte/config", params={"lang": "en"})
    assert r.status_code == 200
    assert r.headers["cache-control"] == "private, no-cache"
    body = r.json()
    assert {la["slug"] for la in body["layers"]} >= {"ecoles", "batiments"}
    assert set(body) == {"bbox", "layers", "basemap", "worker", "strings"}


def test_an_external_base_map_is_announced_and_allowed(demo_store):
    url = "https://tiles.example.org/{z}/{x}/{y}.png"
    with make_client(demo_store, basemap_url=url, basemap_attribution="© Ex") as c:
        r = c.get("/carte")
    assert _config(r.text)["basemap"] == {"url": url, "attribution": "© Ex"}
    assert "https://tiles.example.org" in r.headers["content-security-policy"]


# ------------------------------------------------- restricted data, both stores
PUBLIC, RESERVED, SENSITIVE = "QZ-OUVERT", "QZ-RESERVE", "QZ-SENSIBLE"


def _write(
    store, slug: str, level: str, marker: str, *, sensitive: bool = False
) -> None:
    store.create_dataset(
        Dataset(
            slug=slug,
            title=f"Titre {slug}",
            access=AccessLevel(level),
            producer="ong",
            steward="ong",
            sensitive_fields=["nom"] if sensitive else [],
        )
    )
    polygons = [
        shapely.box(15.34 + i * 1e-3, -4.41, 15.3405 + i * 1e-3, -4.4095)
        for i in range(3)
    ]
    store.write_version(
        slug,
        [
            pa.record_batch(
                {
                    "geometry": pa.array([p.wkb for p in polygons], pa.binary()),
                    "nom": pa.array([f"{marker} lieu {i}" for i in range(3)]),
                }
            )
        ],
        fields=[Field("nom", FieldType.TEXT)],
        geometry_type="POLYGON",
    )


@pytest.fixture
def city(store):
    store.ensure_schema()
    store.add_organisation(Organisation("ong", "ONG", ActorKind("ngo")))
    _write(store, "lieux_publics", "public", PUBLIC)
    _write(store, "lieux_reserves", "restricted", RESERVED)
    _write(store, "lieux_sensibles", "public", SENSITIVE, sensitive=True)
    accounts.create_user(store, "gardien", password="un-mot-de-passe", actor=LOCAL)
    accounts.grant_role(store, "gardien", "ong", "moderator", actor=LOCAL)
    token = accounts.issue_token(store, "gardien", actor=LOCAL).secret
    return store, {"Authorization": f"Bearer {token}"}


def _labels(client, headers=None) -> list[str]:
    r = client.get("/carte/lieux", params={"q": "qz lieu"}, headers=headers or {})
    assert r.status_code == 200
    return [x["label"] for x in r.json()["results"]]


def test_search_never_returns_what_the_caller_may_not_read(city):
    store, custodian = city
    with make_client(store) as client:
        # the custodian sees everything (and fills the cache)...
        seen = _labels(client, custodian)
        assert {label.split(" lieu")[0] for label in seen} == {
            PUBLIC,
            RESERVED,
            SENSITIVE,
        }
        # ...an anonymous caller still gets the public, non-sensitive names only
        assert {label.split(" lieu")[0] for label in _labels(client)} == {PUBLIC}
        for path in ("/carte", "/carte/config"):
            body = client.get(path).text
            assert "lieux_reserves" not in body and RESERVED not in body
            assert SENSITIVE not in body
        assert "lieux_reserves" in client.get("/carte", headers=custodian).text
    reads = [a for a in store.list_audit() if a["action"] == "read.search"]
    assert [a["target"] for a in reads] == ["lieux_reserves"]

"""Real clients against a live server: OWSLib and GDAL's OAPIF driver.

Both page through every feature of a demo collection (small pages, so many
``next`` links are followed), with and without a bbox, on both stores; the
counts and geometries must equal the store's own.
"""

from __future__ import annotations

import shutil
import subprocess
from urllib.parse import parse_qsl, urlsplit

import pyogrio
import pytest
import shapely
from owslib.ogcapi.features import Features

BOX = (15.33, -4.425, 15.35, -4.40)  # part of Kisenso: 145 of the 608 buildings


def gdal_tool(name: str) -> str:
    exe = shutil.which(name)
    if exe is None:
        pytest.fail(f"{name} is missing: apt-get install gdal-bin", pytrace=False)
    return exe


def store_geometries(store, slug, box=None):
    """fid → normalised shapely geometry, as the store holds them."""
    out = {}
    for batch in store.read_batches(slug):
        for row in batch.to_pylist():
            geom = shapely.from_wkb(row["geometry"])
            if box is None or geom.intersects(shapely.box(*box)):
                out[row["fid"]] = shapely.normalize(geom)
    return out


def same_geometries(got: dict, want: dict) -> None:
    assert sorted(got) == sorted(want)
    for fid, geom in want.items():
        assert shapely.normalize(got[fid]).equals_exact(geom, 1e-9), fid


# ------------------------------------------------------------------ OWSLib
def owslib_walk(api: Features, slug: str, **params) -> tuple[list[dict], int]:
    features, pages = [], 0
    while True:
        doc = api.collection_items(slug, **params)
        pages += 1
        features += doc["features"]
        nxt = [link["href"] for link in doc["links"] if link["rel"] == "next"]
        if not nxt:
            return features, pages
        params = dict(parse_qsl(urlsplit(nxt[0]).query))
        if "bbox" in params:  # OWSLib joins a list itself
            params["bbox"] = [float(v) for v in params["bbox"].split(",")]


@pytest.mark.parametrize("box", [None, BOX])
def test_owslib_pages_through_a_collection(demo_server, demo_store, box):
    api = Features(f"{demo_server}/ogc")
    collections = api.feature_collections()
    assert set(collections) == {ds.slug for ds in demo_store.list_datasets()}
    assert (
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
        in (api.conformance()["conformsTo"])
    )
    assert api.api()["openapi"].startswith("3.0")
    params = {"limit": 40} if box is None else {"limit": 40, "bbox": list(box)}
    features, pages = owslib_walk(api, "batiments", **params)
    want = store_geometries(demo_store, "batiments", box)
    assert pages == -(-len(want) // 40) and pages > 3
    got = {f["id"]: shapely.from_geojson(_dumps(f["geometry"])) for f in features}
    assert len(got) == len(features)  # no feature twice
    same_geometries(got, want)
    one = api.collection_item("batiments", str(features[0]["id"]))
    assert one["id"] == features[0]["id"]
    assert "name" in api.collection_queryables("batiments")["properties"]


def _dumps(value) -> str:
    import json

    return json.dumps(value)


# -------------------------------------------------------------------- GDAL
@pytest.mark.gdal
def test_ogrinfo_lists_every_collection(demo_server, demo_store):
    done = subprocess.run(
        [gdal_tool("ogrinfo"), "-ro", "-so", f"OAPIF:{demo_server}/ogc"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    for ds in demo_store.list_datasets():
        assert f": {ds.slug} (title: {ds.title})" in done.stdout
    assert (
        "batiments (title: Bâtiments (extrait OSM 2018)) (Multi Polygon)" in done.stdout
    )
    layer = subprocess.run(
        [gdal_tool("ogrinfo"), "-ro", "-so", f"OAPIF:{demo_server}/ogc", "ecoles"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Feature Count: 209" in layer.stdout  # numberMatched, no paging needed
    assert "osm_id: Integer64" in layer.stdout


@pytest.mark.gdal
@pytest.mark.parametrize("box", [None, BOX])
def test_ogr2ogr_copies_a_collection_exactly(demo_server, demo_store, tmp_path, box):
    out = tmp_path / "copie.gpkg"
    command = [
        gdal_tool("ogr2ogr"),
        "-f",
        "GPKG",
        str(out),
        f"OAPIF:{demo_server}/ogc",
        "batiments",
        "-oo",
        "PAGE_SIZE=50",  # 13 pages: GDAL must follow the next links
        "-preserve_fid",
    ]
    if box is not None:
        command += ["-spat", *map(str, box)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    frame = pyogrio.read_dataframe(out, fid_as_index=True)
    got = dict(zip(frame.index.tolist(), frame.geometry.to_numpy(), strict=True))
    same_geometries(got, store_geometries(demo_store, "batiments", box))
    rows = {
        r["fid"]: r for b in demo_store.read_batches("batiments") for r in b.to_pylist()
    }
    for fid, osm_id in zip(frame.index, frame["osm_id"], strict=True):
        assert rows[fid]["osm_id"] == osm_id
    assert "@user" not in frame.columns  # sensitive: never served anonymously

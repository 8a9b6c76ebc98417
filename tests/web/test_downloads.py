"""Downloads: every format, any version, masked fields, access and audit —
on both stores, read back with GDAL (pyogrio)."""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path

import geopandas
import pyarrow as pa
import pyogrio
import pytest
import shapely
from apiutil import FIELDS, SECRET_PHONE, city, write
from webutil import make_client

FORMATS = {
    "geojson": "geojson",
    "csv": "csv",
    "gpkg": "gpkg",
    "shp": "zip",
    "parquet": "parquet",
    "kml": "kml",
}


@pytest.fixture
def api(store):
    headers = city(store)
    with make_client(store, webhook_interval=0) as client:
        yield client, store, headers


def _read(body: bytes, ext: str, tmp_path: Path):
    path = tmp_path / f"download.{ext}"
    path.write_bytes(body)
    if ext == "zip":
        return pyogrio.read_dataframe(f"/vsizip/{path}")
    if ext == "parquet":  # GeoParquet, read as GeoPandas does
        return geopandas.read_parquet(path)
    if ext == "csv":
        return pyogrio.read_dataframe(
            path, GEOM_POSSIBLE_NAMES="WKT", KEEP_GEOM_COLUMNS="NO"
        )
    return pyogrio.read_dataframe(path)


def test_every_format_of_any_version_reads_back_with_masked_fields(
    api, tmp_path, monkeypatch
):
    client, store, h = api
    # a private temporary folder, so other processes' downloads do not count
    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    write(store, "marches", 3, "V2")
    expected = {
        1: [shapely.Point(15.34 + i * 1e-4, -4.41 + i * 1e-4) for i in range(5)],
        2: [shapely.Point(15.34 + i * 1e-4, -4.41 + i * 1e-4) for i in range(3)],
    }
    for fmt, ext in FORMATS.items():
        for version, points in expected.items():
            r = client.get(
                f"/api/datasets/marches/download?format={fmt}&version={version}"
            )
            assert r.status_code == 200, (fmt, r.text)
            assert (
                r.headers["content-disposition"]
                == f'attachment; filename="marches_v{version}.{ext}"'
            )
            assert SECRET_PHONE.encode() not in r.content, fmt
            frame = _read(r.content, ext, tmp_path)
            assert len(frame) == len(points), (fmt, version)
            got = sorted(c for g in frame.geometry for c in (g.x, g.y))
            want = sorted(c for p in points for c in (p.x, p.y))
            if fmt in ("geojson", "gpkg", "parquet", "csv"):
                assert got == want, fmt  # full precision
            else:
                assert got == pytest.approx(want), fmt
            assert "telephone" not in frame.columns
            names = sorted(frame["nom"])
            assert names[0] == ("MARCHES-0" if version == 1 else "V2-0"), fmt
    # the custodian (steward of "ong", the producer) gets the sensitive field
    r = client.get("/api/datasets/marches/download?format=csv", headers=h["gardienne"])
    assert SECRET_PHONE in r.text
    assert not list(private.iterdir())  # temporary files are gone


def test_pretty_urls_give_the_same_bytes_as_the_query_form(api):
    client, _, _ = api
    for fmt, ext in (("geojson", "geojson"), ("csv", "csv")):
        a = client.get(f"/api/datasets/marches/download?format={fmt}&version=1")
        b = client.get(f"/api/datasets/marches/versions/1/download.{ext}")
        assert a.status_code == b.status_code == 200
        assert a.content == b.content
    z = client.get("/api/datasets/marches/versions/1/download.zip")
    with zipfile.ZipFile(io.BytesIO(z.content)) as archive:
        assert {Path(n).suffix for n in archive.namelist()} >= {".shp", ".dbf", ".shx"}


def test_geojson_streams_many_batches_as_one_valid_document(store):
    city(store)
    n = 20_000  # more than two store batches
    geoms = [shapely.Point(15.3 + i * 1e-6, -4.4) for i in range(n)]
    batch = pa.record_batch(
        {
            "geometry": pa.array([g.wkb for g in geoms], pa.binary()),
            "nom": pa.array([f"n{i}" for i in range(n)]),
            "telephone": pa.array([None] * n, pa.string()),
            "rang": pa.array(range(n), pa.int64()),
        }
    )
    store.write_version("marches", [batch], fields=FIELDS, geometry_type="POINT")
    with make_client(store, webhook_interval=0) as client:
        r = client.get("/api/datasets/marches/download?format=geojson")
        lines = client.get("/api/datasets/marches/download?format=csv").text
    doc = json.loads(r.content)
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == n
    assert [f["properties"]["rang"] for f in doc["features"]] == list(range(n))
    assert doc["features"][7]["geometry"]["coordinates"] == [geoms[7].x, geoms[7].y]
    assert len(lines.strip().splitlines()) == n + 1


def test_downloads_respect_access_and_protected_reads_are_audited(api):
    client, store, h = api
    for headers in (h["anonymous"], h["lecteur"]):
        r = client.get("/api/datasets/dossiers/download?format=gpkg", headers=headers)
        assert r.status_code == 404
        assert (
            client.get(
                "/api/datasets/dossiers/versions/1/download.csv", headers=headers
            ).status_code
            == 404
        )
    r = client.get(
        "/api/datasets/dossiers/download?format=geojson", headers=h["benevole"]
    )
    assert r.status_code == 200 and "DOSSIERS-0" in r.text
    # a contributor of the steward organisation reads, but not the sensitive field
    assert SECRET_PHONE not in r.text
    reads = [a for a in store.list_audit() if a["action"] == "read.download"]
    assert [(a["actor"], a["target"]) for a in reads] == [("benevole", "dossiers")]
    assert reads[0]["detail"]["format"] == "geojson"
    # public reads are not logged
    client.get("/api/datasets/marches/download")
    assert len([a for a in store.list_audit() if a["action"] == "read.download"]) == 1


def test_bad_download_requests_are_4xx(api):
    client, _, _ = api
    cases = {
        "/api/datasets/marches/download?format=docx": 400,
        "/api/datasets/marches/download?version=0": 400,
        "/api/datasets/marches/download?version=99": 404,
        "/api/datasets/marches/download?version=99999999999": 400,
        "/api/datasets/inconnu/download": 404,
        "/api/datasets/marches/versions/1/download.docx": 400,
        "/api/datasets/marches/versions/3/download.csv": 404,
    }
    for url, status in cases.items():
        r = client.get(url)
        assert r.status_code == status, (url, r.text)
        assert r.json()["description"]

"""Neighbourhood profiles in the portal and the API, on both stores: pages in
both languages, the offline HTML file, the PDF (opened with pypdf), and only
what the visitor may read."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pypdf
import pytest
from fastapi.testclient import TestClient
from webutil import make_client

from quartier.access import LOCAL
from quartier.domain import AccessLevel
from quartier.reports.pdf import chromium
from quartier.services import accounts
from quartier.services.demo import build_demo
from quartier.services.exposure import ExposureParams, run_exposure
from quartier.storage.base import SqlStore


@pytest.fixture
def town(store: SqlStore) -> Iterator[tuple[TestClient, dict[str, str]]]:
    build_demo(store)
    run_exposure(store, ExposureParams(buffer_m=30))
    store.update_dataset("ecoles", access=AccessLevel.RESTRICTED)
    accounts.create_user(
        store, "admin", password="un-mot-de-passe", is_admin=True, actor=LOCAL
    )
    token = accounts.issue_token(store, "admin", actor=LOCAL).secret
    with make_client(store) as client:
        yield client, {"Authorization": f"Bearer {token}"}


def test_list_and_page_in_both_languages(town):
    client, _ = town
    listing = client.get("/quartiers")
    assert listing.status_code == 200
    assert listing.text.count('href="/quartiers/') == 17
    assert 'href="/quartiers/mbuku"' in listing.text
    fr = client.get("/quartiers/mbuku")
    assert fr.status_code == 200 and "Indicateurs clés" in fr.text
    assert "Médiane de la ville" in fr.text and "Bâtiments exposés" in fr.text
    assert "Lacunes des données" in fr.text and "illustrative" in fr.text
    assert "<svg" in fr.text and "style=" not in fr.text.split("<main")[1]
    en = client.get("/quartiers/mbuku?lang=en")
    assert "Key indicators" in en.text and "City median" in en.text
    assert client.get("/quartiers/atlantis").status_code == 404


def test_offline_file_and_pdf(town):
    client, _ = town
    page = client.get("/quartiers/mbuku.html")
    assert page.status_code == 200
    assert "attachment" in page.headers["content-disposition"]
    html = page.text
    assert "<style>" in html and "Mbuku" in html
    assert "<script" not in html and 'href="/static' not in html  # opens offline
    if chromium() is None:
        pytest.skip("no Chromium on this machine: the PDF cannot be printed")
    pdf = client.get("/quartiers/mbuku.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(pdf.content))
    text = " ".join(p.extract_text() for p in reader.pages)
    assert len(reader.pages) >= 1 and "Mbuku" in text and "Sources" in text


def test_only_readable_data_is_used(town):
    client, admin = town
    anonymous = client.get("/api/profiles/mbuku").json()
    keys = {i["key"] for i in anonymous["indicators"]}
    assert "ecoles" not in keys and "sante" in keys
    assert "ecoles" not in {s["dataset"] for s in anonymous["sources"]}
    assert "<code>ecoles</code>" not in client.get("/quartiers/mbuku").text
    seen = client.get("/api/profiles/mbuku", headers=admin).json()
    assert "ecoles" in {i["key"] for i in seen["indicators"]}
    everything = client.get("/api/profiles?lang=en").json()["units"]
    assert len(everything) == 17 and everything[0]["href"].startswith("http")
    assert client.get("/api/profiles/atlantis").status_code == 404

"""The DCAT-AP catalogue, parsed as JSON-LD by rdflib: what harvesters read."""

from __future__ import annotations

import pytest
import rdflib
from apiutil import city
from webutil import make_client

# open namespaces: rdflib's closed ones warn when pytest inspects the module
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
DCTERMS = rdflib.Namespace("http://purl.org/dc/terms/")
FOAF = rdflib.Namespace("http://xmlns.com/foaf/0.1/")
RDF = rdflib.Namespace("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
XSD = rdflib.Namespace("http://www.w3.org/2001/XMLSchema#")
VCARD = rdflib.Namespace("http://www.w3.org/2006/vcard/ns#")
LOCN = rdflib.Namespace("http://www.w3.org/ns/locn#")
IANA = "http://www.iana.org/assignments/media-types/"
BASE = "http://testserver"


def _graph(client, headers=None) -> rdflib.Graph:
    r = client.get("/catalog.jsonld", headers=headers or {})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/ld+json")
    assert "dcat" in r.json()["@context"]
    return rdflib.Graph().parse(data=r.text, format="json-ld")


def _datasets(g: rdflib.Graph) -> set[str]:
    return {str(s).rsplit("/", 1)[1] for s in g.subjects(RDF.type, DCAT.Dataset)}


@pytest.fixture
def api(store):
    headers = city(store)
    with make_client(store, webhook_interval=0) as client:
        yield client, headers


def test_catalogue_lists_only_what_the_caller_may_read(api):
    client, h = api
    assert _datasets(_graph(client)) == {"marches"}
    assert _datasets(_graph(client, h["lecteur"])) == {"marches"}
    staff = _graph(client, h["gardienne"])
    assert _datasets(staff) == {"marches", "dossiers"}
    catalog = rdflib.URIRef(f"{BASE}/catalog.jsonld")
    assert (catalog, RDF.type, DCAT.Catalog) in staff
    assert set(staff.objects(catalog, DCAT.dataset)) == set(
        staff.subjects(RDF.type, DCAT.Dataset)
    )
    anonymous = client.get("/catalog.jsonld").text
    assert "dossiers" not in anonymous and "Dossiers" not in anonymous


def test_dataset_entries_carry_what_dcat_ap_asks(api):
    client, _ = api
    g = _graph(client)
    ds = rdflib.URIRef(f"{BASE}/api/datasets/marches")
    assert g.value(ds, DCTERMS.identifier) == rdflib.Literal("marches")
    titles = {(str(t), t.language) for t in g.objects(ds, DCTERMS.title)}
    assert titles == {("Marchés de Kisenso", "fr"), ("Markets", "en")}
    assert g.value(ds, DCTERMS.description) is not None
    assert g.value(ds, DCTERMS.license) == rdflib.URIRef(
        "https://opendatacommons.org/licenses/odbl/1-0/"
    )
    publisher = g.value(ds, DCTERMS.publisher)
    assert (publisher, RDF.type, FOAF.Agent) in g
    assert g.value(publisher, FOAF.name) == rdflib.Literal("ONG")
    contact = g.value(ds, DCAT.contactPoint)
    assert (contact, RDF.type, VCARD.Organization) in g
    assert g.value(contact, VCARD.fn) == rdflib.Literal("VILLE")
    assert g.value(ds, DCAT.theme) == rdflib.URIRef(
        "http://publications.europa.eu/resource/authority/data-theme/ECON"
    )
    assert rdflib.Literal("économie", lang="fr") in set(g.objects(ds, DCAT.keyword))
    period = g.value(ds, DCTERMS.temporal)
    assert g.value(period, DCAT.startDate) == rdflib.Literal(
        "2018-01-01", datatype=XSD.date
    )
    spatial = g.value(ds, DCTERMS.spatial)
    bbox = str(g.value(spatial, DCAT.bbox))
    assert bbox.startswith("POLYGON ((15.34")
    assert len(list(g.objects(spatial, LOCN.geometry))) == 2
    assert g.value(ds, DCTERMS.modified).datatype == XSD.dateTime
    assert g.value(ds, DCTERMS.issued) is not None
    # one distribution per download format, plus OGC API – Features and tiles
    dists = list(g.objects(ds, DCAT.distribution))
    media = {str(g.value(d, DCAT.mediaType)).removeprefix(IANA) for d in dists}
    assert media >= {
        "application/geo+json",
        "text/csv",
        "application/geopackage+sqlite3",
        "application/zip",
        "application/vnd.apache.parquet",
        "application/vnd.google-earth.kml+xml",
        "application/vnd.mapbox-vector-tile",
    }
    downloads = [d for d in dists if g.value(d, DCAT.downloadURL) is not None]
    assert len(downloads) == 6
    for d in dists:
        assert g.value(d, DCAT.accessURL) is not None
        assert g.value(d, DCTERMS.license) is not None
    services = [g.value(d, DCAT.accessService) for d in dists]
    endpoints = {str(g.value(s, DCAT.endpointURL)) for s in services if s}
    assert f"{BASE}/ogc" in endpoints
    # each advertised download URL works
    for d in downloads:
        url = str(g.value(d, DCAT.downloadURL)).removeprefix(BASE)
        assert client.get(url).status_code == 200, url


def test_demo_catalogue_types_every_dataset(demo_client, demo_store):
    g = _graph(demo_client)
    assert _datasets(g) == {d.slug for d in demo_store.list_datasets()}
    for ds in g.subjects(RDF.type, DCAT.Dataset):
        assert g.value(ds, DCTERMS.title) is not None
        assert list(g.objects(ds, DCAT.distribution))
    catalog = rdflib.URIRef(f"{BASE}/catalog.jsonld")
    publisher = g.value(catalog, DCTERMS.publisher)
    assert g.value(publisher, FOAF.name) == rdflib.Literal("Commune de Kisenso")
    assert any("Kisenso" in str(t) for t in g.objects(catalog, DCTERMS.title))

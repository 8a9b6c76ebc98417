"""The DCAT-AP catalogue (JSON-LD) of the datasets one caller may see.

One ``dcat:Catalog`` published by the workspace's local authority, with one
``dcat:Dataset`` per readable dataset (``access.readable``): titles and
descriptions in French and English, publisher (producer organisation) and
contact point (steward), licence, access rights, themes and keywords,
spatial extent (WKT and GeoJSON), temporal extent, dates, and distributions:
one per download format and one per API (OGC API – Features, vector tiles).
The vocabularies are those of DCAT-AP 2/3 so ckanext-dcat and national
portals harvest it: EU authority tables for themes, file types and access
rights, IANA media types.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import shapely
from shapely.geometry import box

from quartier.access import Principal, readable
from quartier.domain import AccessLevel, ActorKind, Dataset, Organisation
from quartier.errors import NotFound
from quartier.services.downloads import EU_FILE_TYPE, IANA, formats_for
from quartier.storage.base import SqlStore

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "locn": "http://www.w3.org/ns/locn#",
    "gsp": "http://www.opengis.net/ont/geosparql#",
    "adms": "http://www.w3.org/ns/adms#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
EU = "http://publications.europa.eu/resource/authority/"
#: Quartier themes (French words, as users type them) → EU data themes
THEMES = {
    "santé": "HEAL",
    "sante": "HEAL",
    "éducation": "EDUC",
    "education": "EDUC",
    "économie": "ECON",
    "economie": "ECON",
    "mobilité": "TRAN",
    "mobilite": "TRAN",
    "transport": "TRAN",
    "risques": "ENVI",
    "environnement": "ENVI",
    "population": "SOCI",
    "bâti": "REGI",
    "bati": "REGI",
    "limites administratives": "REGI",
    "énergie": "ENER",
    "agriculture": "AGRI",
    "gouvernance": "GOVE",
}
ACCESS_RIGHTS = {
    AccessLevel.PUBLIC: "PUBLIC",
    AccessLevel.PARTNERS: "RESTRICTED",
    AccessLevel.RESTRICTED: "RESTRICTED",
    AccessLevel.CONFIDENTIAL: "NON_PUBLIC",
}
LICENCES = {
    "odbl-1.0": "https://opendatacommons.org/licenses/odbl/1-0/",
    "odc-by-1.0": "https://opendatacommons.org/licenses/by/1-0/",
    "pddl-1.0": "https://opendatacommons.org/licenses/pddl/1-0/",
    "cc-by-4.0": "https://creativecommons.org/licenses/by/4.0/",
    "cc-by-sa-4.0": "https://creativecommons.org/licenses/by-sa/4.0/",
    "cc0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "etalab-2.0": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
    "gpl-3.0": "https://www.gnu.org/licenses/gpl-3.0.html",
}
ADMS_PUBLISHER = "http://purl.org/adms/publishertype/"
PUBLISHER_TYPES = {
    ActorKind.LOCAL_AUTHORITY: "LocalAuthority",
    ActorKind.BUSINESS: "Company",
    ActorKind.STARTUP: "Company",
    ActorKind.UNIVERSITY: "Academia-ScientificOrganisation",
    ActorKind.NGO: "NonGovernmentalOrganisation",
    ActorKind.RESIDENTS: "PrivateIndividual(s)",
}
OGC_FEATURES = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
OGC_TILES = "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core"
MVT = "application/vnd.mapbox-vector-tile"


def catalog(store: SqlStore, p: Principal, base: str) -> dict[str, Any]:
    """The whole catalogue for ``p``, as a JSON-LD document."""
    orgs = {o.slug: o for o in store.list_organisations()}
    name, authority = _workspace(store, orgs)
    publisher = (
        _agent(authority, base)
        if authority
        else {
            "@type": "foaf:Agent",
            "foaf:name": name,
        }
    )
    return {
        "@context": CONTEXT,
        "@id": f"{base}/catalog.jsonld",
        "@type": "dcat:Catalog",
        "dct:title": [
            _text(f"Catalogue des données de {name}", "fr"),
            _text(f"{name} data catalogue", "en"),
        ],
        "dct:description": [
            _text(f"Les jeux de données de {name} publiés par Quartier.", "fr"),
            _text(f"The datasets of {name}, published by Quartier.", "en"),
        ],
        "dct:publisher": publisher,
        "foaf:homepage": {"@id": f"{base}/"},
        "dct:language": {"@id": f"{EU}language/FRA"},
        "dcat:dataset": [
            dataset(ds, orgs, base) for ds in readable(p, store.list_datasets())
        ],
    }


def _workspace(
    store: SqlStore, orgs: dict[str, Organisation]
) -> tuple[str, Organisation | None]:
    try:
        name = store.get_workspace().name
    except NotFound:
        name = "Quartier"
    authority = next(
        (o for o in orgs.values() if o.kind is ActorKind.LOCAL_AUTHORITY), None
    )
    return name, authority


def dataset(ds: Dataset, orgs: dict[str, Organisation], base: str) -> dict[str, Any]:
    """One ``dcat:Dataset``."""
    uri = f"{base}/api/datasets/{quote(ds.slug)}"
    node: dict[str, Any] = {
        "@id": uri,
        "@type": "dcat:Dataset",
        "dct:identifier": ds.slug,
        "dct:title": _texts(ds.title, ds.title_en),
        "dct:description": _texts(
            ds.description or ds.title, ds.description_en or ds.title_en
        ),
        "dct:accessRights": {
            "@id": f"{EU}access-right/{ACCESS_RIGHTS[AccessLevel(ds.access)]}"
        },
        "dcat:landingPage": {"@id": f"{base}/ogc/collections/{quote(ds.slug)}"},
        "dcat:distribution": _distributions(ds, base, uri),
    }
    _optional(node, ds, orgs, base)
    return node


def _optional(
    node: dict[str, Any], ds: Dataset, orgs: dict[str, Organisation], base: str
) -> None:
    if ds.producer and ds.producer in orgs:
        node["dct:publisher"] = _agent(orgs[ds.producer], base)
    if ds.steward and ds.steward in orgs:
        node["dcat:contactPoint"] = _contact(orgs[ds.steward])
    if ds.licence:
        node["dct:license"] = licence(ds.licence)
    if ds.theme:
        node["dcat:keyword"] = [_text(ds.theme, "fr")]
        code = THEMES.get(ds.theme.strip().lower())
        if code:
            node["dcat:theme"] = {"@id": f"{EU}data-theme/{code}"}
    if ds.bbox:
        node["dct:spatial"] = spatial(ds.bbox)
    if ds.temporal_start or ds.temporal_end:
        node["dct:temporal"] = _period(ds.temporal_start, ds.temporal_end)
    if ds.created:
        node["dct:issued"] = _date_time(ds.created)
    if ds.updated:
        node["dct:modified"] = _date_time(ds.updated)
    if ds.update_frequency:
        node["dct:accrualPeriodicity"] = {
            "@id": f"{EU}frequency/{_frequency(ds.update_frequency)}"
        }
    if ds.lineage:
        node["dct:provenance"] = {
            "@type": "dct:ProvenanceStatement",
            "rdfs:label": ds.lineage,
        }
    if ds.attribution:
        node["dct:rightsHolder"] = {"@type": "foaf:Agent", "foaf:name": ds.attribution}
    if ds.current_version:
        node["dcat:version"] = str(ds.current_version)


def _distributions(ds: Dataset, base: str, uri: str) -> list[dict[str, Any]]:
    licensed = {"dct:license": licence(ds.licence)} if ds.licence else {}
    out = []
    for fmt in formats_for(ds):
        url = f"{uri}/download?format={fmt.key}"
        out.append(
            {
                "@id": url,
                "@type": "dcat:Distribution",
                "dct:title": _text(f"{ds.title} ({fmt.label})", "fr"),
                "dcat:accessURL": {"@id": url},
                "dcat:downloadURL": {"@id": url},
                "dcat:mediaType": {"@id": IANA + fmt.media_type},
                "dct:format": {"@id": EU_FILE_TYPE + fmt.eu_code},
                **licensed,
            }
        )
    collection = f"{base}/ogc/collections/{quote(ds.slug)}"
    out.append(
        _api(
            f"{collection}/items",
            "OGC API – Features",
            f"{base}/ogc",
            f"{base}/ogc/api",
            OGC_FEATURES,
            "application/geo+json",
            licensed,
        )
    )
    if ds.kind == "features":
        out.append(
            _api(
                f"{collection}/tiles/WebMercatorQuad",
                "Tuiles vectorielles (MVT, TileJSON)",
                f"{collection}/tiles/WebMercatorQuad",
                f"{base}/ogc/api",
                OGC_TILES,
                MVT,
                licensed,
            )
        )
    return out


def _api(
    url: str,
    title: str,
    endpoint: str,
    description: str,
    standard: str,
    media: str,
    licensed: dict[str, Any],
) -> dict[str, Any]:
    return {
        "@id": url,
        "@type": "dcat:Distribution",
        "dct:title": _text(title, "fr"),
        "dcat:accessURL": {"@id": url},
        "dcat:mediaType": {"@id": IANA + media},
        "dct:conformsTo": {"@id": standard},
        "dcat:accessService": {
            "@id": endpoint,
            "@type": "dcat:DataService",
            "dct:title": _text(title, "fr"),
            "dcat:endpointURL": {"@id": endpoint},
            "dcat:endpointDescription": {"@id": description},
            "dct:conformsTo": {"@id": standard},
        },
        **licensed,
    }


# ------------------------------------------------------------------ pieces
def _text(value: str, lang: str) -> dict[str, str]:
    return {"@value": value, "@language": lang}


def _texts(fr: str, en: str) -> list[dict[str, str]]:
    return [_text(fr, "fr")] + ([_text(en, "en")] if en else [])


def _agent(org: Organisation, base: str) -> dict[str, Any]:
    agent: dict[str, Any] = {
        "@id": f"{base}/api/organisations/{quote(org.slug)}",
        "@type": "foaf:Agent",
        "foaf:name": org.name,
        "dct:type": {"@id": ADMS_PUBLISHER + PUBLISHER_TYPES[org.kind]},
    }
    if org.website:
        agent["foaf:homepage"] = {"@id": org.website}
    return agent


def _contact(org: Organisation) -> dict[str, Any]:
    contact: dict[str, Any] = {"@type": "vcard:Organization", "vcard:fn": org.name}
    if org.website:
        contact["vcard:hasURL"] = {"@id": org.website}
    return contact


def licence(value: str) -> dict[str, Any]:
    """A ``dct:LicenseDocument``: the licence's page when known, else its name."""
    url = LICENCES.get(value.strip().lower())
    if url is None and value.startswith(("http://", "https://")):
        url = value
    node: dict[str, Any] = {"@type": "dct:LicenseDocument", "rdfs:label": value}
    if url:
        node["@id"] = url
    return node


def spatial(bbox: tuple[float, float, float, float]) -> dict[str, Any]:
    shape = box(*bbox)
    return {
        "@type": "dct:Location",
        "dcat:bbox": {"@value": shape.wkt, "@type": "gsp:wktLiteral"},
        "locn:geometry": [
            {"@value": shape.wkt, "@type": "gsp:wktLiteral"},
            {"@value": shapely.to_geojson(shape), "@type": "gsp:geoJSONLiteral"},
        ],
    }


def _period(start: str | None, end: str | None) -> dict[str, Any]:
    node: dict[str, Any] = {"@type": "dct:PeriodOfTime"}
    if start:
        node["dcat:startDate"] = _date(start)
    if end:
        node["dcat:endDate"] = _date(end)
    return node


def _date(value: str) -> dict[str, str]:
    kind = "xsd:date" if len(value) == 10 else "xsd:dateTime"
    return {"@value": value, "@type": kind}


def _date_time(value: str) -> dict[str, str]:
    return {"@value": value, "@type": "xsd:dateTime"}


def _frequency(value: str) -> str:
    known = {
        "annual": "ANNUAL",
        "monthly": "MONTHLY",
        "weekly": "WEEKLY",
        "daily": "DAILY",
        "irregular": "IRREG",
        "continuous": "CONT",
        "never": "NEVER",
    }
    return known.get(value.strip().lower(), "UNKNOWN")

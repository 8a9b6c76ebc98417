"""OGC API – Features, Part 1 (and Part 3 CQL2-text basics) at ``/ogc``.

Handlers read their inputs from small dependencies (``ogc_params``), call
one use-case (``services.features``) and answer in JSON/GeoJSON or, for
``f=html`` or a browser's ``Accept``, HTML. Links are absolute, built from
the server's public URL. Paging links carry ``after``/``before`` (keyset
cursors: the last/first fid of the page), so every page costs the same and
stays right with a bbox or a filter.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Annotated, Any
from urllib.parse import urlencode

import jinja2
from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import HTMLResponse

from quartier.access import Principal
from quartier.domain import Dataset, Field, FieldType
from quartier.errors import NotFound
from quartier.services import features
from quartier.services.features import ItemsQuery
from quartier.web import openapi
from quartier.web.context import AppContext
from quartier.web.deps import base_url, context, principal
from quartier.web.ogc_params import CRS84, items_query, only, output_format, publish
from quartier.web.responses import GeoJSONResponse, JSONResponse

router = APIRouter(prefix="/ogc", tags=["OGC API – Features"])
Ctx = Annotated[AppContext, Depends(context)]
Caller = Annotated[Principal, Depends(principal)]
Format = Annotated[str, Depends(output_format)]
CollectionId = Annotated[str, Path(alias="collectionId")]

F1 = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf"
F3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf"
CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf"
CONFORMANCE = [
    *(f"{F1}/{c}" for c in ("core", "geojson", "html", "oas30")),
    *(f"{F3}/{c}" for c in ("queryables", "queryables-query-parameters")),
    *(f"{F3}/{c}" for c in ("filter", "features-filter")),
    *(f"{CQL2}/{c}" for c in ("cql2-text", "basic-cql2")),
    f"{CQL2}/advanced-comparison-operators",
]
GEOJSON, JSON, HTML = "application/geo+json", "application/json", "text/html"
SCHEMA_JSON = "application/schema+json"
OPENAPI_JSON = "application/vnd.oai.openapi+json;version=3.0"
REL_QUERYABLES = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
REL_TILES = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
TRS = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
_ERROR = {
    "content": {
        JSON: {
            "schema": {
                "type": "object",
                "required": ["code"],
                "properties": {
                    "code": {"type": "string"},
                    "description": {"type": "string"},
                },
            }
        }
    }
}
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {HTML: {}}},
    400: {"description": "Paramètre invalide", **_ERROR},
    404: {"description": "Introuvable", **_ERROR},
}
SCHEMA_RESPONSES = {**RESPONSES, 200: {"content": {SCHEMA_JSON: {}}}}


# ------------------------------------------------------------- endpoints
@router.get("", summary="Page d'accueil", responses=RESPONSES)
def landing(request: Request, ctx: Ctx, fmt: Format, _: None = Depends(only())):
    root = _root(request)
    try:
        name = ctx.store.get_workspace().name
    except NotFound:
        name = "Quartier"
    doc = {
        "title": f"{name} — OGC API Features",
        "description": "Les données de la ville, selon OGC API – Features.",
        "links": _self_links(request, JSON)
        + [
            _link(f"{root}/api", "service-desc", OPENAPI_JSON, "Définition (OpenAPI)"),
            _link(f"{root}/api?f=html", "service-doc", HTML, "Documentation"),
            _link(f"{root}/conformance", "conformance", JSON, "Conformité"),
            _link(f"{root}/collections", "data", JSON, "Collections"),
        ],
    }
    return _respond(request, fmt, doc, "landing.html")


router.add_api_route("/", landing, include_in_schema=False)


@router.get("/conformance", summary="Classes de conformité", responses=RESPONSES)
def conformance(request: Request, ctx: Ctx, fmt: Format, _: None = Depends(only())):
    extra = ctx.extras.get("ogc_conformance", [])
    doc = {"conformsTo": CONFORMANCE + list(extra)}
    return _respond(request, fmt, doc, "conformance.html")


@router.get("/api", include_in_schema=False)
def service_description(request: Request, fmt: Format, _: None = Depends(only())):
    spec = _api_document(request)
    if fmt == "html":
        return _respond(request, fmt, spec, "api.html")
    return JSONResponse(spec, media_type=OPENAPI_JSON)


@router.get("/collections", summary="Collections visibles", responses=RESPONSES)
def collections(
    request: Request, ctx: Ctx, who: Caller, fmt: Format, _: None = Depends(only())
):
    root = _root(request)
    doc = {
        "links": _self_links(request, JSON),
        "collections": [
            _collection(root, ds) for ds in features.collections(ctx.store, who)
        ],
    }
    return _respond(request, fmt, doc, "collections.html")


@router.get(
    "/collections/{collectionId}", summary="Une collection", responses=RESPONSES
)
def collection(
    request: Request,
    collection_id: CollectionId,
    ctx: Ctx,
    who: Caller,
    fmt: Format,
    _: None = Depends(only()),
):
    ds = features.collection(ctx.store, who, collection_id)
    doc = _collection(_root(request), ds)
    doc["links"] = _self_links(request, JSON) + doc["links"][2:]
    return _respond(request, fmt, doc, "collection.html")


@router.get(
    "/collections/{collectionId}/queryables",
    summary="Propriétés filtrables (JSON Schema)",
    responses=SCHEMA_RESPONSES,
)
def queryables(
    request: Request,
    collection_id: CollectionId,
    ctx: Ctx,
    who: Caller,
    _=Depends(only()),
):
    ds = features.collection(ctx.store, who, collection_id)
    fields = features.visible_fields(ctx.store, who, ds)
    props = {
        f.name: _json_type(f)
        for f in fields
        if f.type not in (FieldType.JSON, FieldType.BLOB)
    }
    return _schema(request, ds, props, additional=False)


@router.get(
    "/collections/{collectionId}/schema",
    summary="Schéma des objets (JSON Schema)",
    responses=SCHEMA_RESPONSES,
)
def schema(
    request: Request,
    collection_id: CollectionId,
    ctx: Ctx,
    who: Caller,
    _=Depends(only()),
):
    ds = features.collection(ctx.store, who, collection_id)
    props = {f.name: _json_type(f) for f in features.visible_fields(ctx.store, who, ds)}
    if ds.kind == "features":
        props = {"geometry": {"x-ogc-role": "primary-geometry"}, **props}
    return _schema(request, ds, props, additional=True)


@router.get(
    "/collections/{collectionId}/items",
    summary="Objets d'une collection",
    response_class=GeoJSONResponse,
    responses=RESPONSES,
)
def items(
    request: Request,
    collection_id: CollectionId,
    ctx: Ctx,
    who: Caller,
    fmt: Format,
    q: ItemsQuery = Depends(items_query),
):
    page = features.items(ctx.store, ctx.audit, who, collection_id, q)
    doc: dict[str, Any] = {"type": "FeatureCollection", "features": page.features}
    if page.number_matched is not None:
        doc["numberMatched"] = page.number_matched
    doc["numberReturned"] = len(page.features)
    doc["timeStamp"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    doc["links"] = _items_links(request, page, q)
    return _respond(request, fmt, doc, "items.html", page.dataset)


@router.get(
    "/collections/{collectionId}/items/{featureId}",
    summary="Un objet",
    response_class=GeoJSONResponse,
    responses=RESPONSES,
)
def item(
    request: Request,
    collection_id: CollectionId,
    feature_id: Annotated[str, Path(alias="featureId")],
    ctx: Ctx,
    who: Caller,
    fmt: Format,
    _: None = Depends(only()),
):
    ds, feature = features.item(ctx.store, ctx.audit, who, collection_id, feature_id)
    home = f"{_root(request)}/collections/{ds.slug}"
    feature["links"] = _self_links(request, GEOJSON) + [
        _link(home, "collection", JSON, ds.title)
    ]
    return _respond(request, fmt, feature, "item.html", ds)


# ----------------------------------------------------------- documents
def _root(request: Request) -> str:
    return f"{base_url(request)}/ogc"


def _link(href: str, rel: str, type_: str, title: str = "") -> dict[str, str]:
    link = {"href": href, "rel": rel, "type": type_}
    if title:
        link["title"] = title
    return link


def _url(request: Request, **changes: Any) -> str:
    """This request's URL with some parameters replaced (None removes one)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    params += [(k, str(v)) for k, v in changes.items() if v is not None]
    query = f"?{urlencode(params)}" if params else ""
    return f"{base_url(request)}{request.url.path}{query}"


def _self_links(request: Request, media: str) -> list[dict[str, str]]:
    return [
        _link(_url(request, f="json"), "self", media, "Ce document"),
        _link(_url(request, f="html"), "alternate", HTML, "Page HTML"),
    ]


def _items_links(
    request: Request, page: features.Items, q: ItemsQuery
) -> list[dict[str, str]]:
    links = _self_links(request, GEOJSON)
    home = f"{_root(request)}/collections/{page.dataset.slug}"
    links.append(_link(home, "collection", JSON, page.dataset.title))
    first, last = (page.fids[0], page.fids[-1]) if page.fids else (None, None)
    nxt = prev = None
    if q.before is None:
        nxt = last if page.more else None
        if q.after is not None or q.offset:
            prev = first if first is not None else (q.after or 0) + 1
    else:
        prev = first if page.more else None
        nxt = last if last is not None else max(q.before - 1, 0)
    cursor = {"after": None, "before": None, "offset": None}
    if nxt is not None:
        href = _url(request, **{**cursor, "after": nxt})
        links.append(_link(href, "next", GEOJSON, "Page suivante"))
    if prev is not None:
        href = _url(request, **{**cursor, "before": prev})
        links.append(_link(href, "prev", GEOJSON, "Page précédente"))
    return links


def _collection(root: str, ds: Dataset) -> dict[str, Any]:
    url = f"{root}/collections/{ds.slug}"
    links = [
        _link(f"{url}?f=json", "self", JSON, ds.title),
        _link(f"{url}?f=html", "alternate", HTML, ds.title),
        _link(f"{url}/items", "items", GEOJSON, "Objets"),
        _link(f"{url}/items?f=html", "items", HTML, "Objets (HTML)"),
        _link(f"{url}/schema", "describedby", SCHEMA_JSON, "Schéma"),
        _link(f"{url}/queryables", REL_QUERYABLES, SCHEMA_JSON, "Filtrables"),
    ]
    if ds.kind == "features":
        tiles = f"{url}/tiles/WebMercatorQuad"
        links.append(_link(tiles, REL_TILES, JSON, "Tuiles vectorielles"))
    doc: dict[str, Any] = {
        "id": ds.slug,
        "title": ds.title,
        "description": ds.description,
        "keywords": [ds.theme] if ds.theme else [],
        "attribution": ds.attribution,
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "extent": {},
        "links": links,
    }
    if ds.bbox:
        doc["extent"]["spatial"] = {"bbox": [list(ds.bbox)], "crs": CRS84}
    when = features.temporal_extent(ds)
    if when is not None:
        doc["extent"]["temporal"] = {
            "interval": [[_stamp(w) for w in when]],
            "trs": TRS,
        }
    return doc


def _stamp(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


_TYPES: dict[FieldType, dict[str, Any]] = {
    FieldType.BOOLEAN: {"type": "boolean"},
    FieldType.INTEGER: {"type": "integer"},
    FieldType.REAL: {"type": "number"},
    FieldType.TEXT: {"type": "string"},
    FieldType.DATE: {"type": "string", "format": "date"},
    FieldType.DATETIME: {"type": "string", "format": "date-time"},
    FieldType.JSON: {},
    FieldType.BLOB: {"type": "string", "contentEncoding": "base64"},
}


def _json_type(f: Field) -> dict[str, Any]:
    return {"title": f.name, **_TYPES[f.type]}


def _schema(
    request: Request, ds: Dataset, props: dict[str, Any], *, additional: bool
) -> Response:
    doc = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": _url(request),
        "type": "object",
        "title": ds.title,
        "properties": props,
        "additionalProperties": additional,
    }
    return JSONResponse(doc, media_type=SCHEMA_JSON)


def _api_document(request: Request) -> dict[str, Any]:
    """The published OpenAPI 3.0 document (built once per public URL)."""
    root = _root(request)
    cache_ = request.app.state.__dict__.setdefault("_ogc_openapi", {})
    if root not in cache_:
        spec = openapi.document(
            request,
            "ogc",
            title="Quartier — OGC API Features",
            description="Les données de la ville selon OGC API – Features "
            "(parties 1 et 3 : filtres CQL2) et les tuiles vectorielles.",
        )
        cache_[root] = publish(spec, root)
    return cache_[root]


# ----------------------------------------------------------- rendering
@cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("quartier.web", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _respond(
    request: Request,
    fmt: str,
    doc: dict[str, Any],
    template: str,
    dataset: Dataset | None = None,
) -> Response:
    headers = {"Vary": "Accept"}
    if fmt == "html":
        page = _templates().get_template(f"ogc/{template}")
        html = page.render(doc=doc, dataset=dataset, root=_root(request))
        return HTMLResponse(html, headers=headers)
    cls = (
        GeoJSONResponse
        if doc.get("type") in ("Feature", "FeatureCollection")
        else JSONResponse
    )
    return cls(doc, headers=headers)

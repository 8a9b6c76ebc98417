"""Parameters of the OGC API: small named dependencies, and how they are published.

Each dependency parses one parameter (or a tightly related group) and
raises :class:`InvalidInput` (→ 400 with the OGC exception body) naming it.
:func:`publish` turns the group's generated OpenAPI into the OpenAPI 3.0
document the OGC test suite and GDAL read, with the parameter styles the
standard fixes.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import Depends, Query, Request

from quartier.domain.filters import Expr, Interval, parse_cql2, parse_interval
from quartier.errors import InvalidInput
from quartier.services.features import ItemsQuery
from quartier.storage.query import BBox

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CRS84H = "http://www.opengis.net/def/crs/OGC/0/CRS84h"
DEFAULT_LIMIT, MAX_LIMIT = 10, 10000
MAX_FID = 2**63 - 1
ITEMS_PARAMETERS = frozenset(
    "f limit bbox bbox-crs datetime filter filter-lang filter-crs properties "
    "after before offset".split()
)
BBOX_SCHEMA = {
    "type": "array",
    "minItems": 4,
    "maxItems": 6,
    "items": {"type": "number"},
}


# ---------------------------------------------------------------- format
def prefers_html(accept: str) -> bool:
    """Does an Accept header rank HTML above JSON? (``*/*`` counts as JSON)

    >>> prefers_html("text/html,application/xhtml+xml,*/*;q=0.8")
    True
    >>> prefers_html("application/geo+json, application/json") or prefers_html("*/*")
    False
    """
    html = json = 0.0
    for part in accept.split(","):
        kind, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for p in params:
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        if kind.lower() in ("text/html", "application/xhtml+xml"):
            html = max(html, q)
        elif "json" in kind.lower() or kind in ("*/*", "application/*"):
            json = max(json, q)
    return html > json


def output_format(
    request: Request,
    f: Literal["json", "html"] | None = Query(
        None, description="Format de la réponse (sinon : en-tête Accept)."
    ),
) -> str:
    if f is not None:
        return f
    return "html" if prefers_html(request.headers.get("accept", "")) else "json"


def only(*names: str) -> Callable[[Request], None]:
    """A dependency refusing query parameters other than ``names`` (and ``f``)."""
    allowed = {"f", *names}

    def check(request: Request) -> None:
        for name in request.query_params:
            if name not in allowed:
                raise InvalidInput(f"unknown parameter {name!r}")

    return check


# ----------------------------------------------------------------- items
def limit_query(
    limit: int = Query(
        DEFAULT_LIMIT,
        ge=1,
        le=MAX_LIMIT,
        description="Nombre maximal d'objets dans la réponse.",
    ),
) -> int:
    return limit


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(f"bbox: {text.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise InvalidInput(f"bbox: {text.strip()!r} is not a finite number")
    return value


def bbox_query(
    bbox: str | None = Query(
        None,
        description="Objets dont la géométrie intersecte cette emprise : "
        "lon min, lat min, lon max, lat max (CRS84), ou 6 nombres avec "
        "les altitudes.",
    ),
    bbox_crs: str | None = Query(
        None, alias="bbox-crs", description="Seul CRS84 est accepté."
    ),
) -> BBox | None:
    if bbox_crs is not None and bbox_crs not in (CRS84, CRS84H):
        raise InvalidInput(f"bbox-crs: only {CRS84} is supported")
    if bbox is None:
        return None
    values = [_number(v) for v in bbox.split(",")]
    if len(values) == 6:
        values = [values[0], values[1], values[3], values[4]]
    if len(values) != 4:
        raise InvalidInput("bbox: give 4 numbers (or 6 with heights)")
    x0, y0, x1, y1 = values
    if y0 > y1:
        raise InvalidInput("bbox: the minimum latitude is above the maximum")
    if x0 > x1:
        raise InvalidInput("bbox: boxes across the antimeridian are not supported")
    return x0, y0, x1, y1


def datetime_query(
    value: str | None = Query(
        None,
        alias="datetime",
        description="Instant ou intervalle RFC 3339 (« .. » pour une borne "
        "ouverte), appliqué au premier champ date du jeu de données.",
    ),
) -> Interval | None:
    return None if value is None else parse_interval(value)


def filter_query(
    text: str | None = Query(
        None, alias="filter", description="Filtre CQL2 (texte), p. ex. nom LIKE 'É%'."
    ),
    lang: Literal["cql2-text"] = Query("cql2-text", alias="filter-lang"),
    crs: str | None = Query(None, alias="filter-crs"),
) -> Expr | None:
    if crs is not None and crs != CRS84:
        raise InvalidInput(f"filter-crs: only {CRS84} is supported")
    return None if text is None else parse_cql2(text)


def properties_query(
    properties: str | None = Query(
        None, description="Propriétés à renvoyer, séparées par des virgules."
    ),
) -> list[str] | None:
    if properties is None:
        return None
    return [p.strip() for p in properties.split(",") if p.strip()]


@dataclass(frozen=True)
class Paging:
    after: int | None = None
    before: int | None = None
    offset: int | None = None


def paging_query(
    after: int | None = Query(
        None, ge=0, le=MAX_FID, description="Page suivante : objets après cet id."
    ),
    before: int | None = Query(
        None, ge=0, le=MAX_FID, description="Page précédente : objets avant cet id."
    ),
    offset: int | None = Query(
        None,
        ge=0,
        le=MAX_FID,
        description="Sauter ce nombre d'objets (préférer les liens « next »).",
    ),
) -> Paging:
    if sum(v is not None for v in (after, before, offset)) > 1:
        raise InvalidInput("give at most one of after, before and offset")
    return Paging(after, before, offset)


def items_query(
    request: Request,
    limit: int = Depends(limit_query),
    bbox: BBox | None = Depends(bbox_query),
    interval: Interval | None = Depends(datetime_query),
    where: Expr | None = Depends(filter_query),
    properties: list[str] | None = Depends(properties_query),
    paging: Paging = Depends(paging_query),
) -> ItemsQuery:
    """Every ``/items`` parameter; the others are ``?property=value`` filters."""
    equals = [
        (k, v)
        for k, v in request.query_params.multi_items()
        if k not in ITEMS_PARAMETERS
    ]
    return ItemsQuery(
        limit=limit,
        bbox=bbox,
        datetime=interval,
        filter=where,
        equals=equals,
        properties=properties,
        after=paging.after,
        before=paging.before,
        offset=paging.offset,
    )


# ------------------------------------------------------------ publishing
def publish(spec: dict[str, Any], root: str) -> dict[str, Any]:
    """The OGC OpenAPI document: rooted at ``root`` (``…/ogc``), OpenAPI 3.0,
    query parameters ``style: form``, ``explode: false``, ``bbox`` an array."""
    spec = copy.deepcopy(spec)
    spec["openapi"] = "3.0.3"
    spec["servers"] = [{"url": root}]
    spec["paths"] = {
        (path[len("/ogc") :] or "/"): item for path, item in spec["paths"].items()
    }
    for item in spec["paths"].values():
        for operation in item.values():
            # FastAPI documents its 422; Quartier answers bad input with 400
            operation.get("responses", {}).pop("422", None)
            for param in operation.get("parameters", []):
                if param.get("in") == "query":
                    param.setdefault("required", False)
                    param["style"], param["explode"] = "form", False
                    if param["name"] == "bbox":
                        param["schema"] = dict(BBOX_SCHEMA)
    schemas = spec.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return _oas30(spec)


def _oas30(node: Any) -> Any:
    """JSON Schema 2020-12 idioms FastAPI emits, in their OpenAPI 3.0 form."""
    if isinstance(node, list):
        return [_oas30(x) for x in node]
    if not isinstance(node, dict):
        return node
    node = {k: _oas30(v) for k, v in node.items()}
    any_of = node.get("anyOf")
    if isinstance(any_of, list) and {"type": "null"} in any_of:
        rest = [s for s in any_of if s != {"type": "null"}]
        del node["anyOf"]
        if len(rest) == 1:
            node.update(rest[0])
        else:
            node["anyOf"] = rest
        node["nullable"] = True
    if "const" in node:
        node["enum"] = [node.pop("const")]
    if isinstance(node.get("examples"), list) and "type" in node:
        examples = node.pop("examples")
        if examples:
            node["example"] = examples[0]
    for bound, flag in (
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ):
        if isinstance(node.get(bound), int | float) and not isinstance(
            node.get(bound), bool
        ):
            node[flag], node[bound] = node[bound], True
    return node

"""The map explorer (``/carte``), its place search and the maps' configuration.

Every dataset the caller may read (``access.readable``) is a vector-tile layer;
the tiles themselves are authorised and masked by the tile service. Layers are
grouped by theme, each with a stable colour (its theme's family, then a hash
of its slug) so the legend, the explorer and the dataset preview agree.

Without an external base map (the ``basemap_url`` setting), the base map is
drawn from the city's own layers: admin units, water, buildings, roads —
only those the caller may read.

The place search reads the name field (``nom``, ``name``…) of the caller's
visible point and polygon datasets, if that field is visible to them, and
matches it accent- and case-insensitively. Names and boxes are cached per
dataset version; access is checked on every request, before the cache.
"""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Annotated, Any

import shapely
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from quartier import __version__, access
from quartier.access import Principal
from quartier.domain import Dataset
from quartier.errors import NotFound
from quartier.i18n import N_ as _
from quartier.services import places as places_service
from quartier.services.analysis_results import (
    CLASS_COLOURS,
    class_values,
    classed_field,
)
from quartier.services.places import Place, PlaceIndex, name_field
from quartier.services.search import fold
from quartier.storage.base import SqlStore
from quartier.web.deps import context, principal
from quartier.web.portal.render import Page, page, render
from quartier.web.responses import JSONResponse

router = APIRouter(include_in_schema=False)
Caller = Annotated[Principal, Depends(principal)]


#: colour families by (folded) theme prefixes; a dataset takes a shade by slug
_SHADES = (
    (("bati", "build"), ("#b5651d", "#8c510a", "#bf812d")),
    (("mobilit", "transport"), ("#4d4d4d", "#7f6a93", "#878787")),
    (("sant", "health"), ("#d7301f", "#b2182b", "#e7298a")),
    (("educ",), ("#2166ac", "#4393c3", "#5e3c99")),
    (("econ",), ("#e6ab02", "#d95f02", "#a6761d")),
    (("limit", "admin"), ("#6a51a3", "#807dba", "#54278f")),
    (("risq", "risk"), ("#e6550d", "#c51b7d", "#993404")),
    (("environ",), ("#238b45", "#66a61e", "#006d2c")),
    (("eau", "hydro", "water"), ("#1f78b4", "#41b6c4", "#225ea8")),
    (("popul",), ("#01665e", "#35978f", "#762a83")),
)
FAMILIES = {prefix: shades for prefixes, shades in _SHADES for prefix in prefixes}
OTHERS = ("#7570b3", "#1b9e77", "#e7298a", "#a6761d", "#666666", "#d95f02")
#: every colour a layer may take (map.css has a ``.swatch.c-XXXXXX`` for each)
PALETTE = sorted(
    {c for family in FAMILIES.values() for c in family}
    | set(OTHERS)
    | set(CLASS_COLOURS)
)
#: the city's layers the offline base map is drawn from: role → name prefixes
BASE_ROLES = {
    "water": ("eau", "water", "hydro", "riviere", "fleuve", "lac", "cours_eau"),
    "buildings": ("batiment", "bati", "building"),
    "roads": ("route", "road", "voirie", "rue", "street", "mobilite"),
}
MAX_RESULTS = 12
#: strings the scripts show, translated on the server
STRINGS = {
    "map": _("Carte interactive"),
    "zoomIn": _("Zoom avant"),
    "zoomOut": _("Zoom arrière"),
    "north": _("Réorienter la carte vers le nord"),
    "close": _("Fermer"),
    "attribution": _("Afficher les sources"),
    "open": _("Voir la fiche du jeu de données"),
    "noProperty": _("Aucun attribut visible pour cet objet."),
    "found": _("Lieux trouvés : {n}"),
    "none": _("Aucun lieu trouvé."),
    "failed": _("La recherche a échoué ; réessayez."),
    "searching": _("Recherche…"),
    "contest": _("C'est juste ? C'est faux ici ? Donnez votre avis"),
}


@dataclass(frozen=True)
class Layer:
    slug: str
    title: str
    theme: str
    kind: str  # fill, line, circle or mixed
    colour: str
    bbox: tuple[float, float, float, float] | None
    on: bool
    base: str | None  # admin, water, buildings, roads (drawn in the base map)
    attribution: str
    #: colour by a field's classes: {"field", "values", "colours"} (results)
    classes: dict[str, Any] | None = None
    #: the version the tiles show (a resident's contest names it)
    version: int = 0

    @property
    def swatch(self) -> str:
        shape = {"line": "line", "circle": "point"}.get(self.kind, "fill")
        return f"{shape} c-{self.colour[1:]}"

    def json(self) -> dict[str, Any]:
        return asdict(self)


# ------------------------------------------------------------------ routes
@router.get("/carte", response_class=HTMLResponse)
def explorer(request: Request, who: Caller) -> HTMLResponse:
    pg = page(request, who)
    ctx = context(request)
    layers = map_layers(ctx.store, pg, access.readable(who, ctx.store.list_datasets()))
    groups: dict[str, list[Layer]] = {}
    for layer in sorted(layers, key=lambda la: (fold(la.theme), fold(la.title))):
        groups.setdefault(layer.theme, []).append(layer)
    return render(
        pg,
        "map.html",
        active="map",
        groups=list(groups.items()),
        units=admin_units(request, who, layers),
        config=map_config(request, pg, layers),
    )


@router.get("/carte/config")
def config(request: Request, who: Caller) -> JSONResponse:
    """The layers, base map and strings of the caller's maps (dataset previews)."""
    pg = page(request, who)
    store = context(request).store
    layers = map_layers(store, pg, access.readable(who, store.list_datasets()))
    response = JSONResponse(map_config(request, pg, layers))
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Vary"] = "Cookie, Authorization"
    return response


@router.get("/carte/lieux")
def places(
    request: Request, who: Caller, q: Annotated[str, Query(max_length=200)] = ""
) -> JSONResponse:
    """Places whose name matches ``q``: admin units first, then other datasets."""
    pg = page(request, who)
    found = search_places(request, who, q)
    results = [_place_json(pg, ds, place) for ds, place in found[:MAX_RESULTS]]
    response = JSONResponse({"query": q, "results": results})
    response.headers["Cache-Control"] = "private, no-cache"
    return response


# ------------------------------------------------------------------ layers
def map_layers(store: SqlStore, pg: Page, visible: list[Dataset]) -> list[Layer]:
    """The caller's feature datasets as map layers (points shown at first)."""
    admin = _admin_slug(store)
    spatial = [d for d in visible if d.kind == "features" and d.current_version]
    roles = _base_roles(spatial, admin)
    return [
        Layer(
            slug=d.slug,
            title=pg.t.pick(d.title, d.title_en) or d.slug,
            theme=d.theme,
            kind=geometry_kind(d.geometry_type),
            colour=colour(d),
            bbox=d.bbox,
            on=geometry_kind(d.geometry_type) == "circle",
            base=roles.get(d.slug),
            attribution=d.attribution,
            classes=_classes(store, d, access.hidden_fields(pg.who, d)),
            version=d.current_version,
        )
        for d in spatial
    ]


def _classes(
    store: SqlStore, ds: Dataset, hidden: frozenset[str]
) -> dict[str, Any] | None:
    found = classed_field(ds)
    if found is None or hidden & {found[0], found[1]}:
        return None  # a class legend would show a field the caller may not see
    values = _class_values(store, ds.slug, ds.current_version, *found)
    if not values:
        return None
    return {
        "field": found[0],
        "values": list(values),
        "colours": list(CLASS_COLOURS[: len(values)]),
    }


@lru_cache(maxsize=64)
def _class_values(
    store: SqlStore, slug: str, version: int, name: str, order: str | None
) -> tuple[str, ...]:
    """Cached per dataset version: a new version is a new key."""
    return tuple(class_values(store, store.get_dataset(slug), name, order))


def geometry_kind(geometry_type: str) -> str:
    g = geometry_type.upper()
    for word, kind in (("POINT", "circle"), ("LINE", "line"), ("POLYGON", "fill")):
        if word in g:
            return kind
    return "mixed"


def colour(ds: Dataset) -> str:
    """A stable colour: a shade of the theme's family, else of the others."""
    theme = fold(ds.theme)
    family = next(
        (shades for prefix, shades in FAMILIES.items() if theme.startswith(prefix)),
        OTHERS,
    )
    return family[zlib.crc32(ds.slug.encode()) % len(family)]


def _base_roles(datasets: list[Dataset], admin: str | None) -> dict[str, str]:
    roles: dict[str, str] = {}
    if admin and any(d.slug == admin for d in datasets):
        roles[admin] = "admin"
    wanted = {"water": ("fill", "line"), "buildings": ("fill",), "roads": ("line",)}
    for role, prefixes in BASE_ROLES.items():
        for d in sorted(datasets, key=lambda d: d.slug):
            words = fold(f"{d.slug} {d.theme}").replace("-", "_").split()
            named = any(w.startswith(prefixes) for w in words)
            if (
                d.slug not in roles
                and named
                and (geometry_kind(d.geometry_type) in wanted[role])
            ):
                roles[d.slug] = role
                break
    return roles


def map_config(request: Request, pg: Page, layers: list[Layer]) -> dict[str, Any]:
    ctx = context(request)
    settings = ctx.settings
    basemap = settings.basemap_url
    return {
        "bbox": _workspace_bbox(ctx.store) or _union([la.bbox for la in layers]),
        "layers": [la.json() for la in layers],
        "basemap": {
            "url": basemap if basemap.startswith(("https://", "http://")) else "",
            "attribution": settings.basemap_attribution,
        },
        "worker": f"/static/vendor/maplibre-gl-worker.js?v={__version__}",
        "strings": pg.t.strings(STRINGS),
    }


def _admin_slug(store: SqlStore) -> str | None:
    try:
        return store.get_workspace().admin_dataset or None
    except NotFound:
        return None


def _workspace_bbox(store: SqlStore) -> list[float] | None:
    try:
        wkt = store.get_workspace().boundary_wkt
    except NotFound:
        return None
    return _bounds(wkt) if wkt else None


@lru_cache(maxsize=8)
def _bounds(wkt: str) -> list[float] | None:
    geom = shapely.from_wkt(wkt)
    return None if geom.is_empty else [round(v, 6) for v in geom.bounds]


def _union(boxes: list[tuple[float, float, float, float] | None]) -> list[float]:
    found = [b for b in boxes if b] or [(-180.0, -85.0, 180.0, 85.0)]
    return [*map(min, zip(*found, strict=True))][:2] + [
        *map(max, zip(*found, strict=True))
    ][2:]


# ------------------------------------------------------------------ places
def _index(request: Request) -> PlaceIndex:
    extras = context(request).extras
    return extras.setdefault("places", PlaceIndex())  # type: ignore[no-any-return]


def search_places(
    request: Request, who: Principal, q: str
) -> list[tuple[Dataset, Place]]:
    ctx = context(request)
    return places_service.search(
        ctx.store,
        who,
        q,
        index=_index(request),
        admin=_admin_slug(ctx.store),
        audit=lambda ds: ctx.audit.record(who, ds, "search"),
    )


def admin_units(
    request: Request, who: Principal, layers: list[Layer]
) -> list[dict[str, Any]]:
    """The admin units (name, box) for "zoom to", if the caller may read them."""
    store = context(request).store
    slug = next((la.slug for la in layers if la.base == "admin"), None)
    if slug is None:
        return []
    ds = store.get_dataset(slug)
    field = name_field(store, who, ds)
    if field is None:
        return []
    units = _index(request).places(store, ds, field)
    context(request).audit.record(who, ds, "map")
    return [
        {"fid": p.fid, "label": p.label, "bbox": ",".join(f"{v:.6f}" for v in p.bbox)}
        for p in sorted(units, key=lambda p: p.folded)
    ]


def _place_json(pg: Page, ds: Dataset, p: Place) -> dict[str, Any]:
    point = p.bbox[0] == p.bbox[2] and p.bbox[1] == p.bbox[3]
    return {
        "label": p.label,
        "dataset": ds.slug,
        "dataset_title": pg.t.pick(ds.title, ds.title_en),
        "id": p.fid,
        "bbox": [round(v, 7) for v in p.bbox],
        "point": [round(p.bbox[0], 7), round(p.bbox[1], 7)] if point else None,
    }

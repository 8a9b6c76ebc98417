"""``quartier analyze densification``: where the city can build more.

Plots are the cadastral parcels when a parcels dataset exists (theme
*foncier*/*cadastre*, polygons), else blocks enclosed by the roads — or,
when the mapped roads enclose too little to make blocks (``auto``: less than
``min_block_share`` of the built footprint lies in blocks of at most
``max_block_ha``), a grid of ``cell_m`` squares; the summary says which and
why. Hazard zones and protected areas (theme *environnement*/*protection*)
are excluded. Floors come from a ``floors`` field when the buildings have
one (``building:levels``, ``niveaux``, ``etages``…). Writes ``densification``:
every plot with its figures and rank.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from quartier.access import Principal
from quartier.analysis.densification import Rules, blocks_from_roads, densification
from quartier.analysis.suitability import square_grid
from quartier.errors import InvalidInput
from quartier.services import analyses as an
from quartier.services import analysis_inputs as inputs
from quartier.storage.base import SqlStore

PLOT_THEMES = ("foncier", "cadastre", "parcel")
PROTECTED_THEMES = ("environnement", "protection", "protege", "patrimoine")
SERVICE_THEMES = ("sante", "education", "health", "school")
FLOOR_FIELDS = (
    "building:levels",
    "building_levels",
    "levels",
    "niveaux",
    "etages",
    "nb_etages",
    "floors",
)
PLOT_KINDS = {"parcels": "parcelles", "blocks": "îlots", "grid": "grille"}


@dataclass
class DensificationParams:
    plots: str = "auto"  # auto | parcels | blocks | grid
    parcels: str | None = None
    cell_m: float = 100.0
    snap_m: float = 20.0
    max_block_ha: float = 20.0
    min_block_share: float = 0.8
    buildings: str | None = None
    floors_field: str | None = None
    roads: str | None = None
    hazard: str | None = None
    protected: str | None = None
    services: list[str] | None = None
    max_coverage: float = 0.6
    max_far: float = 1.8
    default_floors: float = 1.0
    vacant_below: float = 0.05
    underused_below: float = 0.25
    excluded_from: float = 0.5
    top: int = 10


@dataclass
class DensificationRun:
    summary: dict[str, Any]
    datasets: dict[str, int]


def run_densification(
    store: SqlStore,
    params: DensificationParams,
    *,
    author: str = "cli",
    reader: Principal | None = None,
) -> DensificationRun:
    if params.plots not in ("auto", *PLOT_KINDS):
        raise InvalidInput(
            f"plots: expected auto, parcels, blocks or grid, got {params.plots!r}"
        )
    rules = Rules(
        max_coverage=params.max_coverage,
        max_far=params.max_far,
        default_floors=params.default_floors,
        vacant_below=params.vacant_below,
        underused_below=params.underused_below,
        excluded_from=params.excluded_from,
    )
    an.checked(rules.check)
    crs = an.working_crs(store)
    lineage = an.Lineage("densification", reader)
    lineage.parameters = {
        k: v for k, v in asdict(params).items() if v not in (None, [], "")
    }
    an.claim(store, ["densification"], "densification")
    buildings = inputs.buildings(store, lineage, crs, params.buildings)
    if buildings is None:
        raise InvalidInput("no buildings dataset found: give one with --buildings")
    roads = inputs.roads(store, lineage, crs, params.roads)
    kind, plots, note = _plots(store, lineage, crs, params, buildings, roads)
    floors_field = _floors_field(buildings, params.floors_field)
    exclusions = _exclusions(store, lineage, crs, params)
    result = an.checked(
        densification,
        plots,
        buildings,
        floors=buildings[floors_field].reset_index(drop=True) if floors_field else None,
        roads=roads,
        services=_services(store, lineage, crs, params.services),
        exclusions=exclusions,
        rules=rules,
    )
    result.insert(1, "plot_kind", PLOT_KINDS[kind])
    version = an.write_result(
        store,
        "densification",
        result,
        lineage=lineage,
        author=author,
        theme="urbanisme",
        title="Potentiel de densification",
        title_en="Densification potential",
        description=(
            f"Par {PLOT_KINDS[kind]} : emprise bâtie, surface de plancher, "
            f"surface de plancher supplémentaire permise (COS max {params.max_far:g}, "
            f"emprise max {params.max_coverage:.0%}), hors zones d'aléa et protégées."
        ),
    )
    written = {"densification": version.version}
    summary = _summary(result, params, kind, note, floors_field, exclusions)
    return DensificationRun(summary | {"datasets": written}, written)


def _plots(
    store: SqlStore,
    lineage: an.Lineage,
    crs: int,
    p: DensificationParams,
    buildings: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame | None,
) -> tuple[str, gpd.GeoDataFrame, str]:
    """(kind, plots, note): parcels, else blocks, else a grid."""
    if p.plots in ("auto", "parcels"):
        slug = p.parcels or _first(
            an.find(
                store, themes=PLOT_THEMES, geometry="POLYGON", reader=lineage.reader
            )
        )
        if slug:
            frame = an.read_frame(store, lineage.use(store, "parcels", slug), crs)
            frame = frame.reset_index(drop=True)
            frame["plot"] = np.arange(1, len(frame) + 1, dtype=np.int64)
            return "parcels", frame[["plot", "geometry"]], ""
        if p.plots == "parcels":
            raise InvalidInput("no parcels dataset found: give one with --parcels")
    area = an.territory(store, crs, buildings)
    if p.plots in ("auto", "blocks"):
        if roads is None or roads.empty:
            if p.plots == "blocks":
                raise InvalidInput("blocks need a roads dataset: give one with --roads")
        else:
            blocks = an.checked(blocks_from_roads, roads, area, snap_m=p.snap_m)
            share = _share_in_small_blocks(blocks, buildings, p.max_block_ha)
            if p.plots == "blocks" or share >= p.min_block_share:
                return "blocks", blocks, ""
            note = (
                f"roads enclose {share:.0%} of the built footprint in blocks of at "
                f"most {p.max_block_ha:g} ha (needed: {p.min_block_share:.0%}): "
                f"grid of {p.cell_m:g} m used instead"
            )
            return "grid", _grid(area, p.cell_m, crs), note
    return "grid", _grid(area, p.cell_m, crs), ""


def _grid(area: Any, cell_m: float, crs: int) -> gpd.GeoDataFrame:
    cells = an.checked(square_grid, area, cell_m, crs=crs)
    cells["plot"] = np.arange(1, len(cells) + 1, dtype=np.int64)
    return cells[["plot", "geometry"]]


def _share_in_small_blocks(
    blocks: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, max_ha: float
) -> float:
    """Share of the built footprint inside blocks of at most ``max_ha``."""
    if blocks.empty or buildings.empty:
        return 0.0
    small = blocks[blocks.area <= max_ha * 10_000]
    total = float(buildings.area.sum())
    if small.empty or total == 0:
        return 0.0
    inside = gpd.overlay(
        buildings[["geometry"]], small[["geometry"]], how="intersection"
    )
    return float(inside.area.sum()) / total


def _floors_field(buildings: gpd.GeoDataFrame, name: str | None) -> str | None:
    if name:
        if name not in buildings:
            raise InvalidInput(f"buildings: no floors field {name!r}")
        return name
    return next((f for f in FLOOR_FIELDS if f in buildings), None)


def _exclusions(
    store: SqlStore, lineage: an.Lineage, crs: int, p: DensificationParams
) -> gpd.GeoDataFrame | None:
    frames = []
    hazard = inputs.optional_hazard(store, lineage, crs, p.hazard)
    if hazard is not None:
        frames.append(hazard[["geometry"]])
    slug = p.protected or _first(
        an.find(
            store, themes=PROTECTED_THEMES, geometry="POLYGON", reader=lineage.reader
        )
    )
    if slug:
        protected = an.read_frame(store, lineage.use(store, "protected", slug), crs)
        frames.append(protected[["geometry"]])
    if not frames:
        return None
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=crs)


def _services(
    store: SqlStore, lineage: an.Lineage, crs: int, slugs: list[str] | None
) -> gpd.GeoDataFrame | None:
    if not slugs:
        slugs = [
            d.slug
            for d in an.find(
                store, themes=SERVICE_THEMES, geometry="POINT", reader=lineage.reader
            )
        ]
    frames = [
        an.read_frame(store, lineage.use(store, f"services:{s}", s), crs)[["geometry"]]
        for s in slugs
    ]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return None
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=crs)


def _first(found: list[Any]) -> str | None:
    return found[0].slug if found else None


def _summary(
    result: gpd.GeoDataFrame,
    p: DensificationParams,
    kind: str,
    note: str,
    floors_field: str | None,
    exclusions: gpd.GeoDataFrame | None,
) -> dict[str, Any]:
    best = result[~result["excluded"]].head(p.top)
    centres = best.geometry.representative_point().to_crs(4326) if len(best) else []
    return {
        "plots": kind,
        "plots_count": int(len(result)),
        "note": note,
        "floors": floors_field or f"unknown ({p.default_floors:g} assumed)",
        "exclusions": exclusions is not None,
        "excluded": int(result["excluded"].sum()),
        "excluded_m2": round(float(result["excluded_m2"].sum()), 1),
        "vacant": int(result["vacant"].sum()),
        "underused": int(result["underused"].sum()),
        "built_m2": round(float(result["built_m2"].sum()), 1),
        "floor_m2": round(float(result["floor_m2"].sum()), 1),
        "extra_floor_m2": round(float(result["extra_floor_m2"].sum()), 1),
        "top": [
            {
                "plot": int(row.plot),
                "extra_floor_m2": round(float(row.extra_floor_m2), 1),
                "coverage": round(float(row.coverage), 3),
                "lon": round(float(c.x), 6),
                "lat": round(float(c.y), 6),
            }
            for row, c in zip(best.itertuples(), centres, strict=True)
        ],
    }

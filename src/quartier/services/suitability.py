"""``quartier analyze suitability``: where a business could set up.

A grid of ``cell_m`` squares (or flat-topped hexagons ``cell_m`` across, with
``grid="hexagon"``) over the territory (the workspace's boundary, else the
buildings' extent); per cell the people within ``minutes`` on the road
network, competitors within ``radius_m`` (default: the markets, theme
*économie*) and the hazard-free share; weighted into a 0–100 score. With a
``zoning`` dataset, cells where commerce is known to be forbidden everywhere
are excluded (score 0, ranked last). Writes ``aptitude_sites`` (every cell
with its criteria, scores and rank).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from quartier.access import Principal
from quartier.analysis.accessibility import road_graph
from quartier.analysis.suitability import (
    DEFAULT_WEIGHTS,
    GRIDS,
    people_within,
    suitability,
)
from quartier.errors import InvalidInput
from quartier.services import analyses as an
from quartier.services import analysis_inputs as inputs
from quartier.storage.base import SqlStore


@dataclass
class SuitabilityParams:
    cell_m: float = 250.0
    minutes: float = 10.0
    profile: str = "walk"
    competitors: str | None = None
    radius_m: float = 500.0
    hazard: str | None = None
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    top: int = 10
    #: ``square`` (``cell_m`` a side) or ``hexagon`` (flat-topped, ``cell_m``
    #: between opposite edges)
    grid: str = "square"
    #: zoning polygons (dataset); cells entirely in zones forbidding commerce
    #: are excluded
    zoning: str | None = None
    #: the zoning's field: yes/no to commerce, or a zone code (``allowed_zones``)
    zoning_field: str | None = None
    #: zone codes where commerce is allowed (None: ``zoning_field`` is yes/no)
    allowed_zones: list[str] | None = None


@dataclass
class SuitabilityRun:
    summary: dict[str, Any]
    datasets: dict[str, int]


def run_suitability(
    store: SqlStore,
    params: SuitabilityParams,
    *,
    author: str = "cli",
    reader: Principal | None = None,
) -> SuitabilityRun:
    crs = an.working_crs(store)
    lineage = an.Lineage("suitability", reader)
    lineage.parameters = asdict(params)
    buildings = inputs.buildings(store, lineage, crs)
    roads = inputs.roads(store, lineage, crs)
    if buildings is None or roads is None:
        raise InvalidInput("site suitability needs buildings and roads datasets")
    if params.grid not in GRIDS:
        raise InvalidInput(
            f"grid: {params.grid!r} is not one of {', '.join(sorted(GRIDS))}"
        )
    cells = an.checked(
        GRIDS[params.grid], _area(store, crs, buildings), params.cell_m, crs=crs
    )
    people, _ = inputs.people_in_buildings(store, lineage, crs, buildings)
    homes = shapely.get_coordinates(
        shapely.point_on_surface(np.asarray(buildings.geometry.values, dtype=object))
    )
    graph = an.checked(road_graph, roads, profile=params.profile)
    weight = people.to_numpy() if people is not None else np.ones(len(buildings))
    reach = people_within(graph, cells, homes, weight, params.minutes)
    result = an.checked(
        suitability,
        cells,
        population=reach,
        competitors=_competitors(store, lineage, crs, params.competitors),
        radius_m=params.radius_m,
        hazard=inputs.optional_hazard(store, lineage, crs, params.hazard),
        weights=params.weights,
        **_zoning(store, lineage, crs, params),
    )
    version = an.write_result(
        store,
        "aptitude_sites",
        result.cells,
        lineage=lineage,
        author=author,
        theme="économie",
        title="Aptitude des sites (commerce)",
        title_en="Site suitability (business)",
    )
    summary = _summary(result.cells, params, people is not None)
    written = {"aptitude_sites": version.version}
    return SuitabilityRun(summary | {"datasets": written}, written)


def _area(store: SqlStore, crs: int, buildings: gpd.GeoDataFrame) -> Any:
    boundary = store.get_workspace().boundary_wkt
    if boundary:
        return gpd.GeoSeries([shapely.from_wkt(boundary)], crs=4326).to_crs(crs).iloc[0]
    return shapely.box(*buildings.total_bounds)


def _competitors(
    store: SqlStore, lineage: an.Lineage, crs: int, slug: str | None
) -> gpd.GeoDataFrame | None:
    if not slug:
        found = an.find(
            store,
            themes=("economie", "commerce", "market"),
            geometry="POINT",
            reader=lineage.reader,
        )
        slug = found[0].slug if found else None
    if not slug:
        return None
    return an.read_frame(store, lineage.use(store, "competitors", slug), crs)


def _zoning(
    store: SqlStore, lineage: an.Lineage, crs: int, p: SuitabilityParams
) -> dict[str, Any]:
    if not p.zoning:
        return {}
    zones = an.read_frame(store, lineage.use(store, "zoning", p.zoning), crs)
    return {
        "zoning": zones,
        "zoning_field": p.zoning_field,
        "allowed_zones": p.allowed_zones,
    }


def _summary(
    cells: gpd.GeoDataFrame, p: SuitabilityParams, counted_people: bool
) -> dict[str, Any]:
    excluded = cells["excluded"] if "excluded" in cells else cells["rank"] < 0
    best = cells[~excluded].sort_values(["rank", "cell"]).head(p.top)
    centres = best.geometry.centroid.to_crs(4326) if len(best) else []
    return {
        "cells": int(len(cells)),
        "grid": p.grid,
        "cell_m": p.cell_m,
        **({"excluded": int(excluded.sum())} if p.zoning else {}),
        "minutes": p.minutes,
        "people": "dasymetric" if counted_people else "buildings (no population)",
        "top": [
            {
                "cell": int(row.cell),
                "score": float(row.score),
                "population": float(row.population),
                "competition": int(row.competition),
                "lon": round(float(c.x), 6),
                "lat": round(float(c.y), 6),
            }
            for row, c in zip(best.itertuples(), centres, strict=True)
        ],
    }

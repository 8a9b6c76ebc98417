"""``quartier analyze accessibility``: travel time to the nearest facility.

Defaults on a workspace such as the demo: health facilities (theme *santé*)
on foot, a 15-minute limit, isochrones at 5, 10, 15 and 30 minutes. Three
datasets are written, each a new version with its lineage:
``acces_<facilities>`` (every building with its minutes and nearest
facility), ``isochrones_<facilities>`` and ``acces_<facilities>_synthese``
(per unit: buildings and people beyond the limit).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from quartier.access import Principal
from quartier.analysis.accessibility import (
    accessibility,
    isochrones,
    road_graph,
    travel_times,
)
from quartier.analysis.shelters import (
    CAPACITY_FIELDS,
    capacity_of,
    exposed_buildings,
    shelter_load,
    unserved,
)
from quartier.domain import Dataset
from quartier.errors import InvalidInput
from quartier.services import analyses as an
from quartier.services import analysis_inputs as inputs
from quartier.storage.base import SqlStore


@dataclass
class AccessibilityParams:
    facilities: str | None = None
    profile: str = "walk"
    limit_min: float = 15.0
    thresholds_min: list[float] = field(default_factory=lambda: [5, 10, 15, 30])
    roads: str | None = None
    buildings: str | None = None
    units: str | None = None
    population: str | None = None
    #: shelters: their capacity field (default: found by name) and the hazard
    #: whose exposed people they must hold (default: the hazard layer found)
    capacity_field: str | None = None
    hazard: str | None = None
    buffer_m: float = 0.0


@dataclass
class AccessibilityRun:
    summary: dict[str, Any]
    datasets: dict[str, int]


def run_accessibility(
    store: SqlStore,
    params: AccessibilityParams,
    *,
    author: str = "cli",
    reader: Principal | None = None,
) -> AccessibilityRun:
    crs = an.working_crs(store)
    lineage = an.Lineage("accessibility", reader)
    facilities_ds = pick_facilities(store, params.facilities, reader)
    facilities = an.read_frame(
        store, lineage.use(store, "facilities", facilities_ds.slug), crs
    )
    roads = inputs.roads(store, lineage, crs, params.roads)
    if roads is None or roads.empty:
        raise InvalidInput("no roads dataset found: give one with --roads DATASET")
    buildings = inputs.buildings(store, lineage, crs, params.buildings)
    if buildings is None:
        raise InvalidInput("no buildings dataset found: give one with --buildings")
    lineage.parameters = {
        k: v for k, v in asdict(params).items() if v not in (None, [], "")
    } | {"facilities": facilities_ds.slug}
    graph = an.checked(road_graph, roads, profile=params.profile)
    times = travel_times(graph, facilities)
    people, unit = inputs.people_in_buildings(
        store, lineage, crs, buildings, params.units, params.population
    )
    out, table = accessibility(
        times, buildings, limit_min=params.limit_min, people=people, units=unit
    )
    names = _names(facilities)
    out["facility_name"] = [names[i] if i >= 0 else None for i in out["facility"]]
    areas = isochrones(times, params.thresholds_min)
    shelters = _shelters(store, lineage, crs, params, facilities, buildings, out)
    written = _write(store, facilities_ds.slug, out, table, areas, lineage, author)
    summary = _summary(out, params, facilities_ds.slug)
    if shelters is not None:
        load, figures = shelters
        slug = f"abris_{facilities_ds.slug}"[:48]
        an.claim(store, [slug], lineage.analysis)
        written[slug] = an.write_result(
            store,
            slug,
            load,
            lineage=lineage,
            author=author,
            theme="accessibilité",
            title=f"Abris : capacité et personnes exposées — {facilities_ds.slug}",
            title_en=f"Shelter capacity against exposed people — {facilities_ds.slug}",
        ).version
        summary["shelters"] = figures
    return AccessibilityRun(summary | {"datasets": written}, written)


def _shelters(
    store: SqlStore,
    lineage: an.Lineage,
    crs: int,
    p: AccessibilityParams,
    facilities: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    out: gpd.GeoDataFrame,
) -> tuple[gpd.GeoDataFrame, dict[str, Any]] | None:
    """When the facilities have a capacity (shelters): the exposed people each
    must hold, from the hazard layer, against that capacity."""
    if not p.capacity_field and not any(f in facilities for f in CAPACITY_FIELDS):
        return None
    capacity = an.checked(capacity_of, facilities, p.capacity_field)
    hazard = inputs.optional_hazard(store, lineage, crs, p.hazard)
    if hazard is None:
        raise InvalidInput(
            "shelter capacity needs a hazard layer: give one with --hazard DATASET"
        )
    exposed = exposed_buildings(buildings, hazard, p.buffer_m)
    counted = out["people"].notna().any()
    people = out["people"].to_numpy(dtype=float) if counted else np.ones(len(out))
    nearest = out["facility"].to_numpy(dtype=np.int64)
    load = shelter_load(nearest, people, exposed, capacity)
    load.insert(0, "name", _names(facilities))
    frame = gpd.GeoDataFrame(load, geometry=facilities.geometry.values, crs=crs)
    figures = {
        "counted": "people" if counted else "buildings",
        "shelters": int(len(load)),
        "capacity_total": round(float(np.nansum(capacity)), 1),
        "exposed": round(float(people[exposed].sum()), 1),
        "shortfall_total": round(float(load["shortfall"].sum()), 1),
        "over_capacity": int((load["shortfall"] > 0).sum()),
        "unserved": round(unserved(nearest, people, exposed), 1),
    }
    return frame, figures


def pick_facilities(
    store: SqlStore, slug: str | None = None, reader: Principal | None = None
) -> Dataset:
    """The facilities: ``slug``, else the first point dataset of a health theme."""
    if slug:
        return an.get(store, slug, "facilities")
    found = an.find(
        store, themes=("sante", "santé", "health"), geometry="POINT", reader=reader
    )
    return an.first(found, "facilities", "give one with --facilities DATASET")


def _names(facilities: gpd.GeoDataFrame) -> list[str]:
    for column in ("name", "nom"):
        if column in facilities:
            return [str(v) if v is not None else "" for v in facilities[column]]
    return [f"#{i + 1}" for i in range(len(facilities))]


def _summary(out: gpd.GeoDataFrame, p: AccessibilityParams, slug: str) -> dict:
    minutes = out["minutes"]
    beyond = minutes > p.limit_min
    summary: dict[str, Any] = {
        "facilities": slug,
        "profile": p.profile,
        "limit_min": p.limit_min,
        "buildings_total": int(len(out)),
        "buildings_beyond": int(beyond.sum()),
        "buildings_unreachable": int(np.isinf(minutes).sum()),
        "median_min": round(float(minutes[np.isfinite(minutes)].median()), 1)
        if np.isfinite(minutes).any()
        else None,
    }
    if out["people"].notna().any():
        summary["people_beyond"] = round(float(out["people"][beyond].sum()), 1)
        summary["people_total"] = round(float(out["people"].sum()), 1)
    return summary


def _write(
    store: SqlStore,
    slug: str,
    out: gpd.GeoDataFrame,
    table: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    lineage: an.Lineage,
    author: str,
) -> dict[str, int]:
    base = f"acces_{slug}"[:38]
    an.claim(
        store, [base, f"isochrones_{slug}"[:48], f"{base}_synthese"], lineage.analysis
    )
    frame = gpd.GeoDataFrame(
        {
            "minutes": out["minutes"].replace(np.inf, np.nan).round(2),
            "facility_name": out["facility_name"],
            "unit": out["unit"].astype(str),
            "people": out["people"].astype(float),
        },
        geometry=out.geometry.values,
        crs=out.crs,
    )
    written = {}
    for name, data, title, title_en in (
        (base, frame, "Temps d'accès", "Travel time"),
        (f"isochrones_{slug}"[:48], areas, "Isochrones", "Isochrones"),
        (f"{base}_synthese", table, "Accès par unité", "Access by unit"),
    ):
        v = an.write_result(
            store,
            name,
            data,
            lineage=lineage,
            author=author,
            theme="accessibilité",
            title=f"{title} — {slug}",
            title_en=f"{title_en} — {slug}",
        )
        written[name] = v.version
    return written

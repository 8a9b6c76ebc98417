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
    written = _write(store, facilities_ds.slug, out, table, areas, lineage, author)
    summary = _summary(out, params, facilities_ds.slug) | {"datasets": written}
    return AccessibilityRun(summary, written)


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

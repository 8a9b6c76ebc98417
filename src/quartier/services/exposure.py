"""``quartier analyze exposure``: hazard exposure on the store, kept as datasets.

Inputs default to what the catalogue holds (the demo city works without any
parameter): the first polygon dataset of a *risques/aléas/hazard* theme, the
buildings (*bâti*), the workspace's admin units, a population table joined
to them by code (with its census groups by age or sex, when it has them),
facilities (*santé*, *éducation*, *économie* points) and roads
(*mobilité* lines). Two datasets are written, each a new version with its
lineage: ``exposition_<hazard>`` (the exposed buildings, with class, unit and
people) and ``exposition_<hazard>_synthese`` (one row per unit and class).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from quartier.access import Principal
from quartier.analysis.exposure import ExposureResult, exposure
from quartier.domain import Dataset
from quartier.errors import InvalidInput
from quartier.services import analyses as an
from quartier.services import analysis_inputs as inputs
from quartier.storage.base import SqlStore

HAZARD_THEMES = ("risque", "alea", "hazard", "inondation", "flood")
FACILITY_THEMES = {"sante": "santé", "education": "éducation", "economie": "économie"}


@dataclass
class ExposureParams:
    hazard: str | None = None
    buildings: str | None = None
    units: str | None = None
    #: ``DATASET`` or ``DATASET:FIELD`` (a table with a ``code`` per unit)
    population: str | None = None
    facilities: list[str] = field(default_factory=list)
    roads: str | None = None
    class_field: str | None = None
    class_order: list[str] = field(default_factory=list)
    buffer_m: float = 0.0
    people_per_building: float | None = None
    #: census groups of the population table to count too (``femmes``,
    #: ``f_0_4``…): None picks its numeric columns named like one
    #: (:func:`~quartier.services.analysis_inputs.is_group`); ``[]`` counts none
    breakdown: list[str] | None = None


@dataclass
class ExposureRun:
    summary: dict[str, Any]
    datasets: dict[str, int]  # slug → version written
    lineage: an.Lineage
    result: ExposureResult


def run_exposure(
    store: SqlStore,
    params: ExposureParams,
    *,
    author: str = "cli",
    reader: Principal | None = None,
) -> ExposureRun:
    crs = an.working_crs(store)
    lineage = an.Lineage("exposure", reader)
    hazard = lineage.use(
        store, "hazard", pick_hazard(store, params.hazard, reader).slug
    )
    frames = _inputs(store, params, lineage, crs)
    buildings: inputs.Features | None = frames.pop("buildings", None)
    if buildings is not None:
        frames["buildings"] = buildings.frame
    lineage.parameters = _parameters(params, hazard)
    result = an.checked(
        exposure,
        an.read_frame(store, hazard, crs),
        class_field=params.class_field,
        class_order=params.class_order or None,
        buffer_m=params.buffer_m,
        people_per_building=params.people_per_building,
        **frames,
    )
    stored = buildings.stored if buildings is not None else None
    written = _write(store, hazard, result, lineage, author, stored)
    summary = {"hazard": hazard.slug, **result.summary, "datasets": written}
    return ExposureRun(summary, written, lineage, result)


# ------------------------------------------------------------------ inputs
def pick_hazard(
    store: SqlStore, slug: str | None = None, reader: Principal | None = None
) -> Dataset:
    """The hazard dataset: ``slug``, else the first of a hazard theme."""
    if slug:
        return an.get(store, slug, "hazard")
    found = an.find(store, themes=HAZARD_THEMES, geometry="POLYGON", reader=reader)
    return an.first(found, "hazard", "give one with --hazard DATASET")


def _inputs(
    store: SqlStore, p: ExposureParams, lineage: an.Lineage, crs: int
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    buildings = inputs.building_features(store, lineage, crs, p.buildings)
    if buildings is not None:
        out["buildings"] = buildings
    units = inputs.units(store, lineage, crs, p.units)
    if units is not None:
        out["units"], out["unit_field"] = units, "name"
        found = inputs.census(store, lineage, units, p.population, p.breakdown)
        if found is not None:
            out["population"], groups = found
            if len(groups.columns):
                out["groups"] = groups
    elif p.breakdown:
        raise InvalidInput("breakdown: no admin units to join the population to")
    kinds = p.facilities or [
        d.slug
        for theme in FACILITY_THEMES.values()
        for d in an.find(
            store, themes=(theme,), geometry="POINT", reader=lineage.reader
        )
    ]
    out["facilities"] = {
        slug: an.read_frame(store, lineage.use(store, f"facilities.{slug}", slug), crs)
        for slug in kinds
    }
    roads = inputs.roads(store, lineage, crs, p.roads)
    if roads is not None:
        out["roads"] = roads
    return out


def _parameters(params: ExposureParams, hazard: Dataset) -> dict[str, Any]:
    out = {k: v for k, v in asdict(params).items() if v not in (None, [], "")}
    if params.breakdown is not None:  # [] (no group) is not None (every group)
        out["breakdown"] = params.breakdown
    out["hazard"] = hazard.slug
    return out


# ------------------------------------------------------------------ output
def _write(
    store: SqlStore,
    hazard: Dataset,
    result: ExposureResult,
    lineage: an.Lineage,
    author: str,
    stored: np.ndarray | None = None,
) -> dict[str, int]:
    base = f"exposition_{hazard.slug}"[:40]
    an.claim(store, [base, f"{base}_synthese"], lineage.analysis)
    written = {}
    if len(result.buildings):
        v = an.write_result(
            store,
            base,
            _exposed(result.buildings, stored),
            lineage=lineage,
            author=author,
            theme=hazard.theme,
            title=f"Bâtiments exposés — {hazard.title}",
            title_en=f"Exposed buildings — {hazard.title_en or hazard.title}",
            description=_describe(result),
        )
        written[base] = v.version
    v = an.write_result(
        store,
        f"{base}_synthese",
        result.table,
        lineage=lineage,
        author=author,
        theme=hazard.theme,
        title=f"Exposition par unité et classe — {hazard.title}",
        title_en=f"Exposure by unit and class — {hazard.title_en or hazard.title}",
        description=_describe(result),
    )
    written[f"{base}_synthese"] = v.version
    return written


def _exposed(b: gpd.GeoDataFrame, stored: np.ndarray | None) -> gpd.GeoDataFrame:
    """The exposed buildings to write: their geometry as stored (EPSG:4326) when
    known, so it is not projected back; text columns as plain objects (cheaper
    to encode than Arrow-backed strings)."""
    hit = b["hazard_class"].notna().to_numpy()
    keep = [c for c in ("hazard_class", "unit", "people", "footprint_m2") if c in b]
    columns = {
        c: b[c].to_numpy()[hit]
        if pd.api.types.is_numeric_dtype(b[c])
        else pd.Series(b[c].to_numpy(dtype=object)[hit], dtype=object)
        for c in keep
    }
    if stored is not None and len(stored) == len(b):
        return gpd.GeoDataFrame(columns, geometry=stored[hit], crs=4326)
    return gpd.GeoDataFrame(columns, geometry=b.geometry.values[hit], crs=b.crs)


def _describe(result: ExposureResult) -> str:
    method = result.summary.get("people_method")
    people = {
        "dasymetric": "population des unités répartie sur les bâtiments au prorata "
        "de leur emprise (dasymétrie)",
        "estimate": "ESTIMATION : un nombre fixe de personnes par bâtiment",
        "none": "population non calculée (aucune table de population)",
    }.get(str(method), "")
    return f"Analyse d'exposition (quartier analyze exposure). Personnes : {people}."

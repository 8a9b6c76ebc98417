"""``quartier analyze expansion``: built-up growth by period, unit and ring.

The year of each building comes from a field of the buildings themselves
(``year_field``) or from a table joined on a shared key (``years``:
``DATASET[:FIELD]``, e.g. the demo's ``batiments_annees_illustratives``);
by default the first table with a year-like field (``annee…``, ``year…``) and
a field in common with the buildings. Four datasets are written, each a new
version with its lineage: ``expansion_batiments`` (dated buildings with their
period, for a map coloured by period), ``expansion_periodes``,
``expansion_unites`` and ``expansion_anneaux``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from quartier.access import Principal
from quartier.analysis.expansion import ExpansionResult, expansion
from quartier.domain import FieldType
from quartier.errors import InvalidInput
from quartier.services import analyses as an
from quartier.services import analysis_inputs as inputs
from quartier.storage.base import SqlStore

YEAR_WORDS = ("annee", "year", "date_construction")


@dataclass
class ExpansionParams:
    breaks: list[int] = field(default_factory=lambda: [1990, 2000, 2010, 2020])
    year_field: str | None = None
    #: ``DATASET[:FIELD]``: a table giving the year of each building
    years: str | None = None
    #: the field joining that table to the buildings (default: the shared one)
    key: str | None = None
    ring_km: float = 1.0
    hazard: str | None = None
    planned: str | None = None
    buildings: str | None = None
    units: str | None = None


@dataclass
class ExpansionRun:
    summary: dict[str, Any]
    datasets: dict[str, int]
    result: ExpansionResult


def run_expansion(
    store: SqlStore,
    params: ExpansionParams,
    *,
    author: str = "cli",
    reader: Principal | None = None,
) -> ExpansionRun:
    crs = an.working_crs(store)
    lineage = an.Lineage("expansion", reader)
    lineage.parameters = {
        k: v for k, v in asdict(params).items() if v not in (None, [], "")
    }
    buildings = inputs.buildings(store, lineage, crs, params.buildings)
    if buildings is None:
        raise InvalidInput("no buildings dataset found: give one with --buildings")
    dated, year_field = _with_years(store, lineage, buildings, params)
    result = an.checked(
        expansion,
        dated,
        year_field=year_field,
        breaks=params.breaks,
        units=inputs.units(store, lineage, crs, params.units),
        centre=_centre(store, crs),
        ring_km=params.ring_km,
        hazard=inputs.optional_hazard(store, lineage, crs, params.hazard),
        planned=_planned(store, lineage, crs, params.planned),
    )
    written = _write(store, result, lineage, author)
    return ExpansionRun(result.summary | {"datasets": written}, written, result)


def _with_years(
    store: SqlStore,
    lineage: an.Lineage,
    buildings: gpd.GeoDataFrame,
    p: ExpansionParams,
) -> tuple[gpd.GeoDataFrame, str]:
    if p.year_field:
        if p.year_field not in buildings:
            raise InvalidInput(f"buildings: no year field {p.year_field!r}")
        return buildings, p.year_field
    spec = p.years or _year_table(store, lineage, buildings)
    if not spec:
        raise InvalidInput(
            "no year for the buildings: give --year-field FIELD, or --years "
            "TABLE[:FIELD] joined on a shared field"
        )
    slug, _, column = spec.partition(":")
    table = an.read_table(store, lineage.use(store, "years", slug))
    column = column or _year_column(table)
    key = p.key or _shared_key(buildings, table, column)
    if column not in table or key not in table or key not in buildings:
        raise InvalidInput(f"years: {slug!r} needs the fields {column!r} and {key!r}")
    years = table.drop_duplicates(key).set_index(key)[column]
    joined = buildings.copy()
    joined["year"] = joined[key].map(years)
    lineage.parameters |= {"years": f"{slug}:{column}", "key": key}
    return joined, "year"


def _year_table(store: SqlStore, lineage: an.Lineage, buildings: Any) -> str | None:
    every_table = an.find(store, slugs=("",), kind="attributes", reader=lineage.reader)
    for ds in every_table:
        version = store.get_version(ds.slug, ds.current_version)
        numeric = [
            f.name
            for f in version.fields
            if f.type in (FieldType.INTEGER, FieldType.REAL)
        ]
        year = next((n for n in numeric if n.startswith(YEAR_WORDS)), None)
        shared = {f.name for f in version.fields} & set(buildings.columns)
        if year and shared:
            return f"{ds.slug}:{year}"
    return None


def _year_column(table: pd.DataFrame) -> str:
    return next((c for c in table.columns if str(c).startswith(YEAR_WORDS)), "")


def _shared_key(buildings: Any, table: pd.DataFrame, column: str) -> str:
    shared = [
        c
        for c in table.columns
        if c in buildings.columns and c not in ("fid", column, "geometry")
    ]
    return shared[0] if shared else ""


def _centre(store: SqlStore, crs: int) -> shapely.Point | None:
    boundary = store.get_workspace().boundary_wkt
    if not boundary:
        return None
    shape = gpd.GeoSeries([shapely.from_wkt(boundary)], crs=4326).to_crs(crs)
    return shapely.centroid(shape.iloc[0])


def _planned(
    store: SqlStore, lineage: an.Lineage, crs: int, slug: str | None
) -> gpd.GeoDataFrame | None:
    if not slug:
        return None
    return an.read_frame(store, lineage.use(store, "planned", slug), crs)


def _write(
    store: SqlStore, r: ExpansionResult, lineage: an.Lineage, author: str
) -> dict[str, int]:
    an.claim(
        store,
        [
            "expansion_batiments",
            "expansion_periodes",
            "expansion_unites",
            "expansion_anneaux",
        ],
        lineage.analysis,
    )
    keep = ["year", "period", "unit", "ring_km", "area_m2", "in_hazard"]
    dated = gpd.GeoDataFrame(
        r.buildings[keep].reset_index(drop=True),
        geometry=r.buildings.geometry.values,
        crs=r.buildings.crs,
    )
    out = {}
    for slug, data, title, title_en in (
        ("expansion_batiments", dated, "Bâtiments par période", "Buildings by period"),
        (
            "expansion_periodes",
            r.periods,
            "Extension urbaine par période",
            "Urban expansion by period",
        ),
        (
            "expansion_unites",
            r.units,
            "Extension urbaine par unité",
            "Urban expansion by unit",
        ),
        (
            "expansion_anneaux",
            r.rings,
            "Extension urbaine par anneau",
            "Urban expansion by ring",
        ),
    ):
        version = an.write_result(
            store,
            slug,
            data,
            lineage=lineage,
            author=author,
            theme="bâti",
            title=title,
            title_en=title_en,
        )
        out[slug] = version.version
    return out

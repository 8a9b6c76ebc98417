"""``quartier analyze expansion``: built-up growth by period, unit and ring.

The year of each building comes from a field of the buildings themselves
(``year_field``) or from a table joined on a shared key (``years``:
``DATASET[:FIELD]``, e.g. the demo's ``batiments_annees_illustratives``);
by default the first table with a year-like field (``annee…``, ``year…``) and
a field in common with the buildings. Four datasets are written, each a new
version with its lineage: ``expansion_batiments`` (dated buildings with their
period, for a map coloured by period), ``expansion_periodes``,
``expansion_unites`` and ``expansion_anneaux``.

Two other sources, one at a time:

- ``layers`` (``{dataset: year}``): dated building layers; a building is dated
  by the first layer it appears in (``date_by_layers``), then counted as above
  into the same four datasets;
- ``rasters`` (``{path: year}``, built-up surface in m² per cell) or
  ``epoch_raster`` (one raster whose value dates each cell, with
  ``epoch_codes``): GeoTIFFs on disk, read over the territory only (the
  workspace's boundary, else the admin units, which are required). Their paths
  and sha256 are the lineage's inputs, since they are not datasets; results
  take the access level of the datasets used (units, hazard, plan). Written
  to ``expansion_raster_cellules``, ``…_periodes``, ``…_unites``,
  ``…_anneaux``, which count ``cells`` instead of buildings.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import rasterio
import rasterio.errors
import shapely
from rasterio.warp import transform_bounds
from rasterio.windows import Window

from quartier.access import Principal
from quartier.analysis import expansion as ex
from quartier.analysis.expansion import ExpansionResult, expansion
from quartier.domain import FieldType
from quartier.errors import InvalidInput
from quartier.services import analyses as an
from quartier.services import analysis_inputs as inputs
from quartier.services.importer import file_checksum
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
    #: dated building layers ``{dataset: year}``, instead of years on buildings
    layers: dict[str, int] | None = None
    #: share of a building's footprint that buildings of earlier layers must
    #: cover for it to be the same building (with ``layers`` only)
    min_overlap: float = 0.5
    #: built-up surface rasters ``{path: year}`` (GeoTIFF, m² built per cell)
    rasters: dict[str, int] | None = None
    #: one raster whose cell values date the built-up (GeoTIFF)
    epoch_raster: str | None = None
    #: ``epoch_raster``'s codes → year (None: the values are years)
    epoch_codes: dict[int, int] | None = None

    def source(self) -> str:
        """Where the years come from: ``buildings``, ``layers`` or ``rasters``."""
        given = [
            name
            for name, used in (
                ("layers", self.layers),
                ("rasters", self.rasters or self.epoch_raster),
                ("buildings", self.year_field or self.years or self.buildings),
            )
            if used
        ]
        if len(given) > 1 or (self.rasters and self.epoch_raster):
            raise InvalidInput(
                "give one source of years: dated layers, built-up rasters (dated "
                "rasters or one epoch raster), or buildings with their years"
            )
        return given[0] if given else "buildings"


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
    source = params.source()
    lineage = an.Lineage("expansion", reader)
    lineage.parameters = {
        k: v for k, v in asdict(params).items() if v not in (None, [], "", {})
    }
    if source != "layers":
        lineage.parameters.pop("min_overlap", None)
    if source == "rasters":
        return _run_rasters(store, params, crs, lineage, author)
    if source == "layers":
        dated, year_field = _dated_layers(store, lineage, crs, params), "year"
    else:
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
    if source == "layers":
        result.summary["layers"] = _layer_counts(params.layers or {}, result)
    written = _write(store, _outputs(result, "expansion", "buildings"), lineage, author)
    return ExpansionRun(result.summary | {"datasets": written}, written, result)


def _dated_layers(
    store: SqlStore, lineage: an.Lineage, crs: int, p: ExpansionParams
) -> gpd.GeoDataFrame:
    """The buildings of every layer, each once, dated by its first layer."""
    frames = [
        (year, an.read_frame(store, lineage.use(store, f"layer_{year}", slug), crs))
        for slug, year in (p.layers or {}).items()
    ]
    return an.checked(ex.date_by_layers, frames, min_overlap=p.min_overlap)


def _layer_counts(layers: dict[str, int], r: ExpansionResult) -> dict[str, Any]:
    """Per layer: the buildings first seen in it."""
    new = r.buildings.groupby("year").size()
    return {slug: int(new.get(year, 0)) for slug, year in layers.items()}


def _run_rasters(
    store: SqlStore, p: ExpansionParams, crs: int, lineage: an.Lineage, author: str
) -> ExpansionRun:
    units = inputs.units(store, lineage, crs, p.units)
    if units is None:
        raise InvalidInput(
            "built-up rasters need the admin units (the territory and its units)"
        )
    area = _territory(store, crs, units)
    if p.epoch_raster:
        grid = _read_raster(lineage, "epoch_raster", p.epoch_raster, area, crs)
        cells = an.checked(
            ex.epoch_cells, grid, crs=crs, codes=p.epoch_codes, area=area
        )
    else:
        grids = [
            (year, _read_raster(lineage, f"raster_{year}", path, area, crs))
            for path, year in (p.rasters or {}).items()
        ]
        cells = an.checked(ex.built_up_cells, grids, crs=crs, area=area)
    result = an.checked(
        ex.raster_expansion,
        cells,
        breaks=p.breaks,
        units=units,
        centre=_centre(store, crs),
        ring_km=p.ring_km,
        hazard=inputs.optional_hazard(store, lineage, crs, p.hazard),
        planned=_planned(store, lineage, crs, p.planned),
    )
    outputs = _outputs(result, "expansion_raster", "cells")
    written = _write(store, outputs, lineage, author)
    return ExpansionRun(result.summary | {"datasets": written}, written, result)


def _territory(store: SqlStore, crs: int, units: gpd.GeoDataFrame) -> Any:
    boundary = store.get_workspace().boundary_wkt
    if boundary:
        return gpd.GeoSeries([shapely.from_wkt(boundary)], crs=4326).to_crs(crs).iloc[0]
    return shapely.union_all(units.geometry.values)


def _read_raster(
    lineage: an.Lineage, role: str, path: str, area: Any, crs: int
) -> ex.Raster:
    """Band 1 of ``path`` over ``area``'s extent; the file's path and sha256
    go into the lineage as the input ``role``."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise InvalidInput(f"{role}: no raster file {path!r}")
    try:
        with rasterio.open(file) as src:
            if src.crs is None:
                raise InvalidInput(f"{role}: {file.name} has no CRS")
            window = _window(src, shapely.bounds(area), crs)
            if window is None:
                raise InvalidInput(f"{role}: {file.name} does not cover the territory")
            raster = ex.Raster(
                src.read(1, window=window),
                tuple(src.window_transform(window))[:6],
                src.crs.to_wkt(),
                src.nodata,
            )
    except rasterio.errors.RasterioError as e:
        raise InvalidInput(f"{role}: cannot read {file.name} ({e})") from None
    lineage.inputs[role] = {"path": str(file.resolve()), "sha256": file_checksum(file)}
    return raster


def _window(src: Any, bounds: Any, crs: int) -> Window | None:
    """The raster's cells covering ``bounds`` (in ``crs``), or None."""
    west, south, east, north = transform_bounds(
        f"EPSG:{crs}", src.crs, *bounds, densify_pts=21
    )
    a, b, c, d, e, f = tuple(~src.transform)[:6]
    xs, ys = (west, east, west, east), (south, south, north, north)
    cols = [a * x + b * y + c for x, y in zip(xs, ys, strict=True)]
    rows = [d * x + e * y + f for x, y in zip(xs, ys, strict=True)]
    col0, col1 = max(0, math.floor(min(cols))), min(src.width, math.ceil(max(cols)))
    row0, row1 = max(0, math.floor(min(rows))), min(src.height, math.ceil(max(rows)))
    if col1 <= col0 or row1 <= row0:
        return None
    return Window(col0, row0, col1 - col0, row1 - row0)


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


def _outputs(
    r: ExpansionResult, prefix: str, items: str
) -> list[tuple[str, pd.DataFrame, str, str]]:
    """The four result datasets: (slug, data, French title, English title)."""
    keep = ["year", "period", "unit", "ring_km", "area_m2", "in_hazard"]
    mapped = gpd.GeoDataFrame(
        r.buildings[keep].reset_index(drop=True),
        geometry=r.buildings.geometry.values,
        crs=r.buildings.crs,
    )
    first = (
        ("batiments", "Bâtiments par période", "Buildings by period")
        if items == "buildings"
        else ("cellules", "Cellules bâties par période", "Built-up cells by period")
    )
    return [
        (f"{prefix}_{first[0]}", mapped, first[1], first[2]),
        (
            f"{prefix}_periodes",
            r.periods,
            "Extension urbaine par période",
            "Urban expansion by period",
        ),
        (
            f"{prefix}_unites",
            r.units,
            "Extension urbaine par unité",
            "Urban expansion by unit",
        ),
        (
            f"{prefix}_anneaux",
            r.rings,
            "Extension urbaine par anneau",
            "Urban expansion by ring",
        ),
    ]


def _write(
    store: SqlStore,
    outputs: list[tuple[str, pd.DataFrame, str, str]],
    lineage: an.Lineage,
    author: str,
) -> dict[str, int]:
    an.claim(store, [slug for slug, *_ in outputs], lineage.analysis)
    out = {}
    for slug, data, title, title_en in outputs:
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

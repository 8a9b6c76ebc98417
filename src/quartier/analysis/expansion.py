"""Urban expansion: built-up area and buildings by period, unit and distance ring.

From buildings that carry a year (of construction, or of first appearance on
imagery), in a metric CRS:

- each building falls in a **period** (``breaks``: ``[1990, 2000, 2010]`` gives
  ``<1990``, ``1990–1999``, ``2000–2009``, ``≥2010``);
- per period and per unit, and per **distance ring** from the centre: the new
  buildings, their footprint (m²) and the built-up stock at the end of the
  period;
- the **annual growth rate** of the stock between consecutive periods:
  ``(stock_end / stock_start) ** (1 / years) − 1``;
- the new built-up area **inside hazard zones** (and, with a zoning layer,
  **outside planned zones**).

Buildings without a year are counted apart (``undated``), never guessed.

Two other sources of years are read into the same tables:

- **dated building layers** (:func:`date_by_layers`): a building is dated by the
  first layer it appears in;
- **built-up rasters** (:func:`built_up_cells` for dated rasters of built-up
  surface in m² per cell, such as GHSL GHS-BUILT-S; :func:`epoch_cells` for one
  raster whose cell value tells when the cell became built-up, such as GHSL's
  built-up epochs or WSF-Evolution), then :func:`raster_expansion`, which counts
  ``cells`` instead of buildings.

>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> b = gpd.GeoDataFrame({"year": [1995, 2005, 2005, None]},
...     geometry=[box(0, 0, 10, 10), box(20, 0, 30, 10), box(40, 0, 50, 10),
...               box(60, 0, 70, 10)], crs=32733)
>>> r = expansion(b, year_field="year", breaks=[2000])
>>> r.periods[["period", "buildings", "area_m2", "stock_m2"]].values.tolist()
[['<2000', 1, 100.0, 100.0], ['≥2000', 2, 200.0, 300.0]]
>>> r.summary["undated"]
1
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from quartier.analysis.spatial import check_metric, unit_of


@dataclass
class ExpansionResult:
    #: every dated building with ``year``, ``period``, ``unit``, ``ring_km``
    buildings: gpd.GeoDataFrame
    #: per period: new buildings, new area, stock at the end, annual growth
    periods: pd.DataFrame
    #: per (period, unit)
    units: pd.DataFrame
    #: per (period, ring)
    rings: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


def expansion(
    buildings: gpd.GeoDataFrame,
    *,
    year_field: str,
    breaks: Sequence[int],
    units: gpd.GeoDataFrame | None = None,
    unit_field: str = "name",
    centre: shapely.Point | None = None,
    ring_km: float = 1.0,
    hazard: gpd.GeoDataFrame | None = None,
    planned: gpd.GeoDataFrame | None = None,
    area_field: str | None = None,
) -> ExpansionResult:
    """Expansion by period (see the module's description).

    ``centre`` defaults to the centroid of all buildings; rings are
    ``ring_km`` wide. ``hazard`` and ``planned`` are polygons (same CRS).
    ``area_field`` gives each item's built-up area in m² instead of its
    footprint (raster cells, see :func:`raster_expansion`).
    """
    check_metric(buildings, "buildings")
    if year_field not in buildings.columns:
        raise ValueError(f"buildings: no year field {year_field!r}")
    if area_field is not None and area_field not in buildings.columns:
        raise ValueError(f"buildings: no area field {area_field!r}")
    if not breaks or list(breaks) != sorted(set(breaks)):
        raise ValueError("breaks: give increasing years, e.g. 2000,2010,2020")
    years = pd.to_numeric(buildings[year_field], errors="coerce")
    dated = buildings[years.notna()].copy()
    dated["year"] = years[years.notna()].astype(int)
    geoms = np.asarray(dated.geometry.values, dtype=object)
    dated["area_m2"] = (
        shapely.area(geoms)
        if area_field is None
        else pd.to_numeric(dated[area_field], errors="coerce").fillna(0.0)
    )
    dated["period"] = _periods(dated["year"].to_numpy(), breaks)
    points = shapely.point_on_surface(geoms)
    dated["unit"] = unit_of(points, units, unit_field)
    middle = (
        centre if centre is not None else shapely.centroid(shapely.multipoints(points))
    )
    distance = shapely.distance(points, middle) / 1000.0
    dated["ring_km"] = (np.floor(distance / ring_km) * ring_km).round(3)
    dated["in_hazard"] = _inside(geoms, hazard)
    dated["outside_plan"] = ~_inside(geoms, planned) if planned is not None else False
    labels = _labels(breaks)
    periods = _by_period(dated, labels, breaks)
    summary = _summary(buildings, dated, periods, hazard, planned)
    return ExpansionResult(
        dated,
        periods,
        _grouped(dated, labels, "unit"),
        _grouped(dated, labels, "ring_km"),
        summary,
    )


# ----------------------------------------------------------------- helpers


def _labels(breaks: Sequence[int]) -> list[str]:
    inner = [f"{a}–{b - 1}" for a, b in zip(breaks[:-1], breaks[1:], strict=True)]
    return [f"<{breaks[0]}", *inner, f"≥{breaks[-1]}"]


def _periods(years: np.ndarray, breaks: Sequence[int]) -> np.ndarray:
    labels = np.asarray(_labels(breaks), dtype=object)
    return labels[np.searchsorted(np.asarray(breaks), years, side="right")]


def _inside(geoms: np.ndarray, zones: gpd.GeoDataFrame | None) -> np.ndarray:
    """Whether each building touches one of ``zones``."""
    hit = np.zeros(len(geoms), dtype=bool)
    if zones is None or len(zones) == 0 or len(geoms) == 0:
        return hit
    shapes = shapely.make_valid(np.asarray(zones.geometry.values, dtype=object))
    touching, _ = shapely.STRtree(shapes).query(geoms, predicate="intersects")
    hit[touching] = True
    return hit


def _by_period(
    dated: gpd.GeoDataFrame, labels: list[str], breaks: Sequence[int]
) -> pd.DataFrame:
    grouped = dated.groupby("period")
    table = pd.DataFrame(
        {
            "buildings": grouped.size(),
            "area_m2": grouped["area_m2"].sum().round(1),
            "in_hazard_m2": dated[dated["in_hazard"]]
            .groupby("period")["area_m2"]
            .sum()
            .round(1),
        }
    ).reindex(labels)
    table = table.fillna(0).astype({"buildings": int})
    table["stock_m2"] = table["area_m2"].cumsum().round(1)
    # growth over each closed period: from its first to its last year
    growth = [None]
    for i in range(1, len(labels)):
        years = _span(breaks, i)
        before, after = table["stock_m2"].iloc[i - 1], table["stock_m2"].iloc[i]
        rate = (after / before) ** (1 / years) - 1 if before > 0 and years else None
        growth.append(None if rate is None else round(100 * rate, 2))
    table["growth_pct_year"] = growth
    return table.reset_index(names="period")


def _span(breaks: Sequence[int], i: int) -> int | None:
    """Years covered by period ``i`` (the last, open, period: unknown)."""
    return breaks[i] - breaks[i - 1] if i < len(breaks) else None


def _grouped(dated: gpd.GeoDataFrame, labels: list[str], by: str) -> pd.DataFrame:
    grouped = dated.groupby(["period", by])
    table = pd.DataFrame(
        {"buildings": grouped.size(), "area_m2": grouped["area_m2"].sum().round(1)}
    ).reset_index()
    table["order"] = table["period"].map({p: i for i, p in enumerate(labels)})
    table = table.sort_values(["order", by]).drop(columns="order")
    return table.reset_index(drop=True)


def _summary(
    buildings: gpd.GeoDataFrame,
    dated: gpd.GeoDataFrame,
    periods: pd.DataFrame,
    hazard: gpd.GeoDataFrame | None,
    planned: gpd.GeoDataFrame | None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "buildings": int(len(buildings)),
        "dated": int(len(dated)),
        "undated": int(len(buildings) - len(dated)),
        "built_m2": round(float(dated["area_m2"].sum()), 1),
        "first_year": int(dated["year"].min()) if len(dated) else None,
        "last_year": int(dated["year"].max()) if len(dated) else None,
    }
    if hazard is not None:
        out["in_hazard_m2"] = round(
            float(dated.loc[dated["in_hazard"], "area_m2"].sum()), 1
        )
    if planned is not None:
        out["outside_plan_m2"] = round(
            float(dated.loc[dated["outside_plan"], "area_m2"].sum()), 1
        )
    rates = periods["growth_pct_year"].dropna()
    out["last_growth_pct_year"] = float(rates.iloc[-1]) if len(rates) else None
    return out


# ------------------------------------------------ dated layers and rasters

#: GHSL built-up epochs (GHS_BUILT_LDSMT R2015B): cell code → the year by which
#: the cell was built-up (6: up to 1975, 5: 1975–1990, 4: 1990–2000,
#: 3: 2000–2014); 0 no data, 1 water and 2 land never built are not built-up
GHSL_EPOCHS = {6: 1975, 5: 1990, 4: 2000, 3: 2014}


def date_by_layers(
    layers: Sequence[tuple[int, gpd.GeoDataFrame]], *, min_overlap: float = 0.5
) -> gpd.GeoDataFrame:
    """Each distinct building of dated layers, with the year it first appears.

    Layers are taken in year order. A building of a layer is **the same** as
    one already seen when the buildings already seen cover at least
    ``min_overlap`` of its footprint (the sum of its overlaps with them, so a
    building split or merged between layers is still recognised); otherwise it
    is new and gets its layer's year. A building already seen keeps its first
    footprint and year; one missing from a later layer stays (demolitions are
    not inferred: a building may just be unmapped there).

    >>> from shapely.geometry import box
    >>> old = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10)], crs=32733)
    >>> new = gpd.GeoDataFrame(geometry=[box(4, 0, 14, 10), box(20, 0, 30, 10)],
    ...                        crs=32733)
    >>> date_by_layers([(2015, new), (2005, old)])["year"].tolist()
    [2005, 2015]
    """
    if not layers:
        raise ValueError("layers: give at least one dated building layer")
    years = [int(y) for y, _ in layers]
    if len(set(years)) != len(years):
        raise ValueError("layers: two layers have the same year")
    if not 0 < min_overlap <= 1:
        raise ValueError("min_overlap: give a share of the footprint, in ]0, 1]")
    crs = layers[0][1].crs
    seen = np.empty(0, dtype=object)
    seen_year = np.empty(0, dtype=np.int64)
    for year, layer in sorted(layers, key=lambda pair: pair[0]):
        check_metric(layer, f"layer {year}")
        if layer.crs != crs:
            raise ValueError(f"layer {year}: not in the same CRS as the others")
        geoms = shapely.make_valid(np.asarray(layer.geometry.values, dtype=object))
        geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
        new = ~_seen_before(geoms, seen, min_overlap)
        seen = np.concatenate([seen, geoms[new]])
        seen_year = np.concatenate([seen_year, np.full(int(new.sum()), int(year))])
    return gpd.GeoDataFrame({"year": seen_year}, geometry=seen, crs=crs)


@dataclass
class Raster:
    """One band of a raster, in memory.

    ``values[row, col]``; ``transform`` is rasterio's affine transform of the
    cells' corners (``x = a·col + b·row + c``, ``y = d·col + e·row + f``, its
    first six numbers ``a, b, c, d, e, f``); ``nodata`` cells count as 0.
    """

    values: np.ndarray
    transform: Sequence[float]
    crs: Any
    nodata: float | None = None


def built_up_cells(
    rasters: Sequence[tuple[int, Raster]],
    *,
    crs: Any,
    area: shapely.Geometry | None = None,
) -> gpd.GeoDataFrame:
    """New built-up surface per cell and epoch, from dated surface rasters.

    Each cell holds the **built-up surface in m²** inside it (GHSL
    GHS-BUILT-S), summed as is: it is not rescaled by the cell's area, so the
    raster's own grid (Mollweide for GHSL) keeps its exact sums. The rasters
    share one grid. A cell's surface never shrinks: each epoch counts the
    largest surface seen so far (GHSL's small decreases are mostly noise;
    demolitions are not measured), so an epoch's new surface is the growth
    since the previous epoch, and the first epoch holds all that was built by
    then. One row per cell and epoch with new surface: ``year``, ``area_m2``,
    ``row``, ``col`` and the cell's polygon in ``crs``; with ``area``, only
    cells whose centre is inside it.
    """
    if not rasters:
        raise ValueError("rasters: give at least one dated built-up raster")
    ordered = sorted(rasters, key=lambda pair: pair[0])
    years = np.array([int(y) for y, _ in ordered], dtype=np.int64)
    if len(set(years.tolist())) != len(years):
        raise ValueError("rasters: two rasters have the same year")
    grid = ordered[0][1]
    for year, r in ordered[1:]:
        if r.values.shape != grid.values.shape or not np.allclose(
            tuple(r.transform)[:6], tuple(grid.transform)[:6]
        ):
            raise ValueError(f"raster {year}: not on the same grid as the others")
    stock = np.maximum.accumulate(np.stack([_clean(r) for _, r in ordered]), axis=0)
    new = np.diff(stock, axis=0, prepend=0.0)
    k, rows, cols = np.nonzero(new > 0)
    shapes = _cell_shapes(grid, rows, cols, crs)
    _check_surface(stock[-1, rows, cols], shapely.area(shapes))
    cells = gpd.GeoDataFrame(
        {"year": years[k], "area_m2": new[k, rows, cols], "row": rows, "col": cols},
        geometry=shapes,
        crs=crs,
    )
    return _centre_in(cells, area)


def epoch_cells(
    raster: Raster,
    *,
    crs: Any,
    codes: Mapping[int, int] | None = None,
    area: shapely.Geometry | None = None,
) -> gpd.GeoDataFrame:
    """Built-up cells of one epoch raster, each dated by its value.

    With ``codes`` a cell's value is a code mapped to a year (``GHSL_EPOCHS``
    for GHSL's built-up epochs; unmapped codes are not built-up); without,
    the value is the year itself (WSF-Evolution), 0 meaning never built. A
    built-up cell counts its **whole area**, measured in ``crs`` (m²) after
    reprojecting its corners. Same columns as :func:`built_up_cells`.
    """
    values = _clean(raster).astype(np.int64)
    if codes is not None:
        lookup = {int(k): int(v) for k, v in codes.items()}
        found, where = np.unique(values, return_inverse=True)
        years = np.array([lookup.get(int(v), 0) for v in found], dtype=np.int64)
        year = years[where].reshape(values.shape)
    else:
        year = values
        odd = np.unique(year[(year != 0) & ((year < 1000) | (year > 3000))])
        if len(odd):
            raise ValueError(
                f"epoch raster: value {odd[0]} is not a year; give the codes "
                "(GHSL's epochs: 3:2014,4:2000,5:1990,6:1975)"
            )
    rows, cols = np.nonzero(year > 0)
    shapes = _cell_shapes(raster, rows, cols, crs)
    cells = gpd.GeoDataFrame(
        {
            "year": year[rows, cols],
            "area_m2": shapely.area(shapes),
            "row": rows,
            "col": cols,
        },
        geometry=shapes,
        crs=crs,
    )
    return _centre_in(cells, area)


def raster_expansion(
    cells: gpd.GeoDataFrame, *, breaks: Sequence[int], **options: Any
) -> ExpansionResult:
    """:func:`expansion` of built-up cells (from :func:`built_up_cells` or
    :func:`epoch_cells`): areas come from ``area_m2``, a cell falls in the
    unit, ring, hazard or planned zone that holds its **centre**, and the
    tables count ``cells`` (with new built-up in the period) instead of
    buildings. ``options`` are those of :func:`expansion`.
    """
    check_metric(cells, "cells")
    shapes = np.asarray(cells.geometry.values, dtype=object)
    centres = gpd.GeoDataFrame(
        cells.drop(columns="geometry"), geometry=shapely.centroid(shapes), crs=cells.crs
    )
    r = expansion(
        centres, year_field="year", breaks=breaks, area_field="area_m2", **options
    )
    r.buildings = r.buildings.set_geometry(cells.geometry.loc[r.buildings.index])
    cells_count = {"buildings": "cells"}
    r.periods = r.periods.rename(columns=cells_count)
    r.units = r.units.rename(columns=cells_count)
    r.rings = r.rings.rename(columns=cells_count)
    for key in ("buildings", "dated", "undated"):
        r.summary.pop(key, None)
    distinct = cells[["row", "col"]].drop_duplicates() if len(cells) else cells
    r.summary = {"cells": int(len(distinct))} | r.summary
    return r


def _seen_before(geoms: np.ndarray, seen: np.ndarray, min_overlap: float) -> np.ndarray:
    """Whether buildings already ``seen`` cover ``min_overlap`` of each of
    ``geoms`` (a shape with no area: whether it touches one)."""
    if len(seen) == 0 or len(geoms) == 0:
        return np.zeros(len(geoms), dtype=bool)
    i, j = shapely.STRtree(seen).query(geoms, predicate="intersects")
    pieces = shapely.area(shapely.intersection(geoms[i], seen[j]))
    overlap = np.bincount(i, weights=pieces, minlength=len(geoms))
    area = shapely.area(geoms)
    touching = np.bincount(i, minlength=len(geoms)) > 0
    share = np.divide(overlap, area, out=np.zeros(len(geoms)), where=area > 0)
    # a tolerance, so that an exact half counts at min_overlap=0.5
    return np.where(area > 0, share >= min_overlap - 1e-9, touching)


def _clean(raster: Raster) -> np.ndarray:
    """Values as floats, no data, NaN and negative values as 0."""
    values = np.asarray(raster.values, dtype=float)
    if values.ndim != 2:
        raise ValueError("raster: expected one band (a 2-D array)")
    bad = ~np.isfinite(values) | (values < 0)
    if raster.nodata is not None:
        bad |= values == raster.nodata
    return np.where(bad, 0.0, values)


def _check_surface(surface: np.ndarray, cell_area: np.ndarray) -> None:
    """Refuse more built-up m² than a cell holds (an undeclared no-data value,
    or a raster that is not in m²), with 5 % for the reprojection."""
    over = surface > 1.05 * cell_area
    if over.any():
        value, size = surface[over][0], cell_area[over][0]
        raise ValueError(
            f"raster: a cell holds {value:g} m² of built-up but measures "
            f"{size:.0f} m²: is {value:g} the no-data value, are the values m²?"
        )


def _cell_shapes(
    raster: Raster, rows: np.ndarray, cols: np.ndarray, crs: Any
) -> np.ndarray:
    """The cells' polygons, their corners reprojected to ``crs``."""
    if raster.crs is None:
        raise ValueError("raster: no CRS")
    a, b, c, d, e, f = (float(v) for v in tuple(raster.transform)[:6])
    corner = np.array([(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)], dtype=float)
    col = cols[:, None] + corner[None, :, 0]
    row = rows[:, None] + corner[None, :, 1]
    ring = np.stack([a * col + b * row + c, d * col + e * row + f], axis=-1)
    shapes = shapely.polygons(ring) if len(rows) else np.empty(0, dtype=object)
    return np.asarray(
        gpd.GeoSeries(shapes, crs=raster.crs).to_crs(crs).values, dtype=object
    )


def _centre_in(cells: gpd.GeoDataFrame, area: shapely.Geometry | None) -> Any:
    if area is None or len(cells) == 0:
        return cells.reset_index(drop=True)
    centres = shapely.centroid(np.asarray(cells.geometry.values, dtype=object))
    return cells[shapely.intersects(centres, area)].reset_index(drop=True)

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

from collections.abc import Sequence
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
) -> ExpansionResult:
    """Expansion by period (see the module's description).

    ``centre`` defaults to the centroid of all buildings; rings are
    ``ring_km`` wide. ``hazard`` and ``planned`` are polygons (same CRS).
    """
    check_metric(buildings, "buildings")
    if year_field not in buildings.columns:
        raise ValueError(f"buildings: no year field {year_field!r}")
    if not breaks or list(breaks) != sorted(set(breaks)):
        raise ValueError("breaks: give increasing years, e.g. 2000,2010,2020")
    years = pd.to_numeric(buildings[year_field], errors="coerce")
    dated = buildings[years.notna()].copy()
    dated["year"] = years[years.notna()].astype(int)
    geoms = np.asarray(dated.geometry.values, dtype=object)
    dated["area_m2"] = shapely.area(geoms)
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

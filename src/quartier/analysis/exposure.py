"""Hazard exposure: what lies in each hazard class, per administrative unit.

The ideas of InaSAFE, as pure functions over GeoDataFrames in a metric CRS:

1. The hazard polygons are merged per class and made **exclusive**: a place in
   two classes counts once, in the most severe (``class_order`` first), so no
   building, person or metre of road is counted twice.
2. A **building** is exposed when its footprint touches a class zone; it counts
   in the most severe class it touches, and in the unit holding its
   representative point.
3. **People** are spread from each unit's population to its buildings in
   proportion to their footprint area (dasymetric mapping); the people of the
   exposed buildings are exposed. Without a population table, people can be
   estimated from a number per building — the result then says ``estimate``.
   Census **groups** (by age, by sex…) are spread with the same shares and
   counted like the total, group by group.
4. **Facilities** (points) are exposed when they lie in a zone; **roads** count
   the length of their parts inside each zone.
5. **Minimum needs** of the exposed people come from per-person quantities
   (InaSAFE's defaults, per week).

>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> hazard = gpd.GeoDataFrame({"cls": ["high", "low"]},
...     geometry=[box(0, 0, 10, 10), box(0, 0, 20, 20)], crs=32733)
>>> buildings = gpd.GeoDataFrame(geometry=[box(1, 1, 2, 2), box(15, 15, 16, 16),
...     box(30, 30, 31, 31)], crs=32733)
>>> result = exposure(hazard, buildings=buildings, class_field="cls",
...     class_order=["high", "low"])
>>> result.buildings["hazard_class"].fillna("-").tolist()
['high', 'low', '-']
>>> result.summary["buildings_exposed"], result.summary["buildings_total"]
(2, 3)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from quartier.analysis.population import (
    dasymetric,
    dasymetric_groups,
    unplaced,
)
from quartier.analysis.spatial import UNIT_OUTSIDE, check_metric, unit_of

#: weekly quantities per displaced person (InaSAFE's defaults, BNPB Perka 7/2008)
MINIMUM_NEEDS: dict[str, float] = {
    "riz_kg": 2.8,
    "eau_potable_l": 17.5,
    "eau_propre_l": 67.0,
    "kits_familiaux": 0.2,
    "toilettes": 0.05,
}
#: the class name when the hazard layer has no class field
SINGLE_CLASS = "aléa"
#: the column of a census group's people (``people_femmes``, ``people_f_0_4``…)
GROUP_PREFIX = "people_"


@dataclass
class ExposureResult:
    #: every building with ``hazard_class`` (None: not exposed), ``unit``, ``people``
    buildings: gpd.GeoDataFrame
    #: one row per (unit, hazard class): buildings, people, facilities, road metres
    table: pd.DataFrame
    #: headline figures (``buildings_exposed``, ``people_exposed``…)
    summary: dict[str, Any] = field(default_factory=dict)
    #: the exclusive zone of each class (most severe first)
    zones: gpd.GeoDataFrame | None = None


def exposure(
    hazard: gpd.GeoDataFrame,
    *,
    buildings: gpd.GeoDataFrame | None = None,
    units: gpd.GeoDataFrame | None = None,
    unit_field: str = "name",
    population: pd.Series | None = None,
    groups: pd.DataFrame | None = None,
    people_per_building: float | None = None,
    facilities: Mapping[str, gpd.GeoDataFrame] | None = None,
    roads: gpd.GeoDataFrame | None = None,
    class_field: str | None = None,
    class_order: Sequence[str] | None = None,
    buffer_m: float = 0.0,
    needs: Mapping[str, float] | None = None,
) -> ExposureResult:
    """Buildings, people, facilities and road length in each hazard class.

    Parameters
    ----------
    hazard : GeoDataFrame
        Hazard polygons in a metric CRS (the workspace's working CRS).
    buildings : GeoDataFrame, optional
        Building footprints (or points), same CRS.
    units : GeoDataFrame, optional
        Administrative units (polygons) with a name column ``unit_field``.
    population : Series, optional
        People per unit, indexed by the unit's name; spread to buildings by
        footprint area. Needs ``units`` and ``buildings``.
    groups : DataFrame, optional
        People per unit of each census group (one column per group, e.g.
        ``femmes``, ``f_0_4``; indexed like ``population``), spread with the
        same shares as the total: the buildings get ``people_<group>``, the
        table and the summary (``people_exposed_by_group``) count each group.
        Groups need not partition the total (``femmes`` and ``0_14`` overlap).
        Needs ``population``.
    people_per_building : float, optional
        Without ``population``: an estimate of people per building, labelled so.
    facilities : mapping of kind → GeoDataFrame, optional
        Points (health centres, schools…) counted per class.
    roads : GeoDataFrame, optional
        Lines whose length inside each class is measured, in metres.
    class_field : str, optional
        The hazard's class column; without it every polygon is one class.
    class_order : sequence of str, optional
        Classes from most to least severe (default: sorted names).
    buffer_m : float
        Widen every hazard polygon by this distance (e.g. a safety margin
        around erosion gullies), in metres.
    needs : mapping, optional
        Weekly quantities per exposed person (default :data:`MINIMUM_NEEDS`).

    Returns
    -------
    ExposureResult
    """
    check_metric(hazard, "hazard")
    if groups is not None and population is None:
        raise ValueError("groups: census groups need the population table")
    classified = _Classified(*_classified(hazard, class_field, class_order, buffer_m))
    zones = _exclusive(classified, hazard.crs)
    table_parts: list[pd.DataFrame] = []
    summary: dict[str, Any] = {
        "classes": zones["hazard_class"].tolist(),
        "buffer_m": buffer_m,
    }
    exposed_buildings = _buildings(buildings, classified, units, unit_field)
    if exposed_buildings is not None:
        _people(exposed_buildings, population, people_per_building, summary)
        names = _spread_groups(exposed_buildings, groups)
        table_parts.append(_count_buildings(exposed_buildings, names))
        hit = exposed_buildings["hazard_class"].notna().to_numpy()
        summary["buildings_total"] = int(len(exposed_buildings))
        summary["buildings_exposed"] = int(hit.sum())
        people = exposed_buildings["people"]
        if people.notna().any():
            summary["people_exposed"] = round(float(people[hit].sum()), 1)
            summary["people_total"] = round(float(people.sum()), 1)
        if names:
            _summarise_groups(exposed_buildings, names, hit, summary)
    for kind, points in (facilities or {}).items():
        counted = _count_points(points, classified, units, unit_field, kind)
        table_parts.append(counted)
        summary[f"{kind}_exposed"] = int(counted[kind].sum()) if len(counted) else 0
    if roads is not None:
        lengths = _road_lengths(roads, zones, units, unit_field)
        table_parts.append(lengths)
        summary["road_m_exposed"] = round(float(lengths["road_m"].sum()), 1)
    table = _merge(table_parts)
    people_exposed = summary.get("people_exposed")
    if people_exposed is not None:
        summary["needs"] = minimum_needs(people_exposed, needs)
    buildings_out = (
        exposed_buildings if exposed_buildings is not None else gpd.GeoDataFrame()
    )
    return ExposureResult(buildings_out, table, summary, zones)


def exclusive_zones(
    hazard: gpd.GeoDataFrame,
    class_field: str | None = None,
    class_order: Sequence[str] | None = None,
    buffer_m: float = 0.0,
) -> gpd.GeoDataFrame:
    """One polygon per class, most severe first, no two overlapping.

    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> h = gpd.GeoDataFrame({"c": ["b", "a"]}, geometry=[box(0, 0, 2, 2),
    ...     box(1, 0, 3, 2)], crs=32733)
    >>> z = exclusive_zones(h, "c", ["a", "b"])
    >>> list(zip(z["hazard_class"], z.area))
    [('a', 4.0), ('b', 2.0)]
    """
    classified = _Classified(*_classified(hazard, class_field, class_order, buffer_m))
    return _exclusive(classified, hazard.crs)


@dataclass(frozen=True)
class _Classified:
    """Hazard polygons with the rank of their class (0 = most severe)."""

    geoms: np.ndarray
    ranks: np.ndarray
    names: list[str]


def _exclusive(hazard: _Classified, crs: Any) -> gpd.GeoDataFrame:
    taken = shapely.Polygon()
    rows = []
    for rank, name in enumerate(hazard.names):
        merged = shapely.union_all(hazard.geoms[hazard.ranks == rank])
        zone = shapely.difference(merged, taken)
        taken = shapely.union(taken, merged)
        if not zone.is_empty:
            rows.append((name, zone))
    return gpd.GeoDataFrame(
        {"hazard_class": [r[0] for r in rows]},
        geometry=[r[1] for r in rows],
        crs=crs,
    )


def _classified(
    hazard: gpd.GeoDataFrame,
    class_field: str | None,
    class_order: Sequence[str] | None,
    buffer_m: float,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    if class_field is not None and class_field not in hazard.columns:
        raise ValueError(f"hazard: no class field {class_field!r}")
    geoms = hazard.geometry.buffer(buffer_m) if buffer_m else hazard.geometry
    geoms = shapely.make_valid(np.asarray(geoms.values, dtype=object))
    labels = (
        hazard[class_field].astype("string").fillna("?").to_numpy(dtype=object)
        if class_field
        else np.full(len(hazard), SINGLE_CLASS, dtype=object)
    )
    order = list(class_order) if class_order else sorted(set(labels))
    order += sorted(set(labels) - set(order))  # unranked classes last, by name
    rank_of = {name: i for i, name in enumerate(order)}
    ranks = np.array([rank_of[label] for label in labels], dtype=np.int64)
    return geoms, ranks, order


def minimum_needs(
    people: float, needs: Mapping[str, float] | None = None
) -> dict[str, float]:
    """Weekly needs of ``people`` displaced persons, rounded up.

    >>> minimum_needs(100)["riz_kg"]
    280.0
    """
    per_person = MINIMUM_NEEDS if needs is None else needs
    return {k: float(np.ceil(people * q)) for k, q in per_person.items()}


# ----------------------------------------------------------------- helpers


def _assign(geoms: np.ndarray, hazard: _Classified) -> np.ndarray:
    """The most severe class each geometry touches, else None.

    One bulk query against the hazard polygons: touching the exclusive zone of
    a class is touching one of its polygons where no more severe one lies, so
    the most severe class touched is the same. The tree holds the geometries
    and each hazard polygon is the query, prepared once (rather than once per
    building): a third less time for 200,000 buildings.
    """
    out = np.full(len(geoms), None, dtype=object)
    if len(geoms) == 0 or len(hazard.geoms) == 0:
        return out
    polygon, hit = shapely.STRtree(geoms).query(hazard.geoms, predicate="intersects")
    best = np.full(len(geoms), len(hazard.names), dtype=np.int64)
    np.minimum.at(best, hit, hazard.ranks[polygon])
    touched = best < len(hazard.names)
    out[touched] = np.asarray(hazard.names, dtype=object)[best[touched]]
    return out


def _buildings(
    buildings: gpd.GeoDataFrame | None,
    hazard: _Classified,
    units: gpd.GeoDataFrame | None,
    unit_field: str,
) -> gpd.GeoDataFrame | None:
    if buildings is None:
        return None
    check_metric(buildings, "buildings")
    out = buildings.copy()
    geoms = np.asarray(out.geometry.values, dtype=object)
    out["hazard_class"] = _assign(geoms, hazard)
    out["unit"] = unit_of(shapely.point_on_surface(geoms), units, unit_field)
    out["footprint_m2"] = shapely.area(geoms)
    return out


def _people(
    b: gpd.GeoDataFrame,
    population: pd.Series | None,
    per_building: float | None,
    summary: dict[str, Any],
) -> None:
    if population is not None:
        b["people"] = dasymetric(b["footprint_m2"], b["unit"], population)
        summary["people_method"] = "dasymetric"
        summary["people_without_buildings"] = round(unplaced(b["unit"], population), 1)
    elif per_building is not None:
        b["people"] = float(per_building)
        summary["people_method"] = "estimate"
        summary["people_per_building"] = per_building
    else:
        b["people"] = np.nan
        summary["people_method"] = "none"


def _spread_groups(b: gpd.GeoDataFrame, groups: pd.DataFrame | None) -> list[str]:
    """``people_<group>`` per building; the names of the columns added."""
    if groups is None or groups.empty:
        return []
    spread = dasymetric_groups(b["footprint_m2"], b["unit"], groups)
    names = [f"{GROUP_PREFIX}{g}" for g in groups.columns]
    for name, group in zip(names, groups.columns, strict=True):
        b[name] = spread[group].to_numpy()
    return names


def _summarise_groups(
    b: gpd.GeoDataFrame, names: list[str], hit: np.ndarray, summary: dict[str, Any]
) -> None:
    values = b[names].to_numpy(dtype=float)
    groups = [n.removeprefix(GROUP_PREFIX) for n in names]
    exposed, total = values[hit].sum(axis=0), values.sum(axis=0)
    summary["people_exposed_by_group"] = {
        g: round(float(v), 1) for g, v in zip(groups, exposed, strict=True)
    }
    summary["people_total_by_group"] = {
        g: round(float(v), 1) for g, v in zip(groups, total, strict=True)
    }


def _count_buildings(b: gpd.GeoDataFrame, groups: Sequence[str] = ()) -> pd.DataFrame:
    hit = b[b["hazard_class"].notna()]
    grouped = hit.groupby(["unit", "hazard_class"])
    table = grouped.size().rename("buildings").to_frame()
    if hit["people"].notna().any():
        table["people"] = grouped["people"].sum().round(1)
        for name in groups:
            table[name] = grouped[name].sum().round(1)
    return table.reset_index()


def _count_points(
    points: gpd.GeoDataFrame,
    hazard: _Classified,
    units: gpd.GeoDataFrame | None,
    unit_field: str,
    kind: str,
) -> pd.DataFrame:
    check_metric(points, kind)
    geoms = shapely.point_on_surface(np.asarray(points.geometry.values, dtype=object))
    frame = pd.DataFrame(
        {
            "unit": unit_of(geoms, units, unit_field),
            "hazard_class": _assign(geoms, hazard),
        }
    )
    hit = frame[frame["hazard_class"].notna()]
    return hit.groupby(["unit", "hazard_class"]).size().rename(kind).reset_index()


def _road_lengths(
    roads: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame | None,
    unit_field: str,
) -> pd.DataFrame:
    check_metric(roads, "roads")
    lines = np.asarray(roads.geometry.values, dtype=object)
    tree = shapely.STRtree(lines)
    unit_shapes = (
        list(zip(units[unit_field].astype(str), units.geometry.values, strict=True))
        if units is not None
        else []
    )
    rows = []
    for name, zone in zip(zones["hazard_class"], zones.geometry, strict=True):
        inside = shapely.intersection(lines[tree.query(zone, "intersects")], zone)
        left = float(shapely.length(inside).sum())
        for unit, shape in unit_shapes:
            if shape is None:
                continue
            length = float(shapely.length(shapely.intersection(inside, shape)).sum())
            if length > 0:
                rows.append((unit, name, round(length, 1)))
                left -= length
        if left > 0.05:  # parts outside every unit still count
            rows.append((UNIT_OUTSIDE, name, round(left, 1)))
    return pd.DataFrame(rows, columns=["unit", "hazard_class", "road_m"])


def _merge(parts: list[pd.DataFrame]) -> pd.DataFrame:
    keys = ["unit", "hazard_class"]
    if not parts:
        return pd.DataFrame(columns=keys)
    table = parts[0]
    for part in parts[1:]:
        table = table.merge(part, on=keys, how="outer")
    counts = [c for c in table.columns if c not in keys]
    table[counts] = table[counts].fillna(0)
    return table.sort_values(keys).reset_index(drop=True)

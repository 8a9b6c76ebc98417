"""Shelter capacity against the people exposed to a hazard.

Every exposed person goes to the shelter nearest to their home on the road
network (the one the accessibility analysis found for their building); per
shelter, the demand is compared with its capacity. This is a first check,
not an evacuation plan: people do not all leave, and a full shelter sends
them to the next one.

>>> import numpy as np
>>> load = shelter_load(np.array([0, 0, 1, -1]), np.array([30., 20., 5., 9.]),
...                     np.array([True, True, True, True]), np.array([40., 10.]))
>>> load[["capacity", "demand", "shortfall"]].values.tolist()
[[40.0, 50.0, 10.0], [10.0, 5.0, 0.0]]
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from quartier.analysis.spatial import check_metric

#: names a shelter's capacity field may have (first found is used)
CAPACITY_FIELDS = ("capacity", "capacite", "capacité", "places", "nb_places")


def exposed_buildings(
    buildings: gpd.GeoDataFrame, hazard: gpd.GeoDataFrame, buffer_m: float = 0.0
) -> np.ndarray:
    """Whether each building touches the hazard zones (grown by ``buffer_m``)."""
    check_metric(buildings, "buildings")
    check_metric(hazard, "hazard")
    zones = np.asarray(hazard.geometry.values, dtype=object)
    if buffer_m > 0:
        zones = shapely.buffer(zones, buffer_m)
    homes = np.asarray(buildings.geometry.values, dtype=object)
    out = np.zeros(len(homes), dtype=bool)
    if len(zones) and len(homes):
        hit, _ = shapely.STRtree(zones).query(homes, predicate="intersects")
        out[hit] = True
    return out


def shelter_load(
    nearest: np.ndarray,
    people: np.ndarray,
    exposed: np.ndarray,
    capacity: np.ndarray,
) -> pd.DataFrame:
    """Per shelter: capacity, exposed people for whom it is the nearest
    (``demand``), ``shortfall`` (demand beyond capacity) and ``occupancy``
    (demand / capacity). ``nearest`` is −1 for a building no shelter reaches:
    those people are counted in no shelter (see :func:`unserved`)."""
    n = len(capacity)
    if not (len(nearest) == len(people) == len(exposed)):
        raise ValueError("nearest, people and exposed must have one value per building")
    counted = exposed & (nearest >= 0) & np.isfinite(people)
    demand = np.bincount(nearest[counted], weights=people[counted], minlength=n)
    capacity = np.asarray(capacity, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        occupancy = np.where(capacity > 0, demand / capacity, np.nan)
    return pd.DataFrame(
        {
            "capacity": capacity,
            "demand": demand.round(1),
            "shortfall": np.maximum(demand - np.nan_to_num(capacity), 0).round(1),
            "occupancy": np.round(occupancy, 3),
        }
    )


def unserved(nearest: np.ndarray, people: np.ndarray, exposed: np.ndarray) -> float:
    """Exposed people no shelter can be reached from."""
    lost = exposed & (nearest < 0) & np.isfinite(people)
    return float(people[lost].sum())


def capacity_of(shelters: gpd.GeoDataFrame, field: str | None = None) -> np.ndarray:
    """Each shelter's capacity from ``field`` (or the first of
    :data:`CAPACITY_FIELDS`); missing or unreadable values are NaN."""
    name = field or next((f for f in CAPACITY_FIELDS if f in shelters), None)
    if name is None:
        raise ValueError(
            "shelters: no capacity field (one of "
            + ", ".join(CAPACITY_FIELDS)
            + "); name it with --capacity-field"
        )
    if name not in shelters:
        raise ValueError(f"shelters: no capacity field {name!r}")
    return pd.to_numeric(shelters[name], errors="coerce").to_numpy(dtype=float)

"""Key figures of the home page, from the catalogue the visitor may see."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from pyproj import Transformer

from quartier.domain import Dataset
from quartier.errors import NotFound
from quartier.storage.base import SqlStore


@dataclass(frozen=True)
class Figures:
    datasets: int
    features: int
    #: versions written (imports, edits, restores): the city's contributions
    contributions: int
    organisations: int
    admin_units: int
    #: area of the territory in km² (None without a boundary)
    area_km2: float | None


def key_figures(store: SqlStore, visible: list[Dataset]) -> Figures:
    try:
        ws = store.get_workspace()
    except NotFound:
        ws = None
    units = 0
    if ws is not None and ws.admin_dataset:
        admin = next((d for d in visible if d.slug == ws.admin_dataset), None)
        units = admin.feature_count if admin else 0
    return Figures(
        datasets=len(visible),
        features=sum(d.feature_count for d in visible),
        contributions=sum(d.current_version for d in visible),
        organisations=len(store.list_organisations()),
        admin_units=units,
        area_km2=_area(ws.boundary_wkt, ws.working_crs) if ws else None,
    )


@lru_cache(maxsize=8)
def _area(boundary_wkt: str | None, crs: int) -> float | None:
    if not boundary_wkt:
        return None
    to_metric = Transformer.from_crs(4326, crs, always_xy=True)
    geom = shapely.transform(
        shapely.from_wkt(boundary_wkt),
        lambda xy: np.column_stack(to_metric.transform(*xy.T)),
    )
    return round(shapely.area(geom) / 1e6, 1)

"""A workspace is one city: its name, boundary, working CRS and admin units."""

from __future__ import annotations

from dataclasses import dataclass

#: The admin-unit hierarchy, from largest to smallest.
ADMIN_LEVELS = ("commune", "arrondissement", "quartier")


@dataclass(frozen=True)
class Workspace:
    name: str
    #: EPSG code of the metric working CRS (auto UTM from the boundary).
    working_crs: int
    #: Boundary as WKT in EPSG:4326 (None until a boundary is given).
    boundary_wkt: str | None = None
    #: Slug of the dataset holding the admin units (commune → quartier).
    admin_dataset: str | None = None
    created: str = ""


@dataclass(frozen=True)
class AdminUnit:
    code: str
    name: str
    level: str
    parent_code: str | None = None


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the WGS 84 / UTM zone containing a point.

    >>> utm_epsg(15.35, -4.40)   # Kinshasa
    32733
    >>> utm_epsg(-16.5, 16.0)    # Saint-Louis, Senegal
    32628
    """
    zone = int((lon + 180.0) // 6.0) % 60 + 1
    return (32600 if lat >= 0 else 32700) + zone

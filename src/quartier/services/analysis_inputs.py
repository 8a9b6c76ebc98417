"""The usual inputs of analyses, chosen from the catalogue when not given.

Buildings (theme *bâti*), the workspace's admin units (finest level), a
population table joined to them by ``code``, roads (*mobilité* lines). Each
reader records the dataset and its version in the run's lineage.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from quartier.analysis.population import dasymetric
from quartier.analysis.spatial import unit_of
from quartier.domain import Dataset, FieldType
from quartier.errors import InvalidInput
from quartier.services import analyses as an
from quartier.storage.base import SqlStore


def buildings(
    store: SqlStore, lineage: an.Lineage, crs: int, slug: str | None = None
) -> gpd.GeoDataFrame | None:
    slug = slug or _slug(
        an.find(store, themes=("bati", "building"), reader=lineage.reader)
    )
    if not slug:
        return None
    return an.read_frame(store, lineage.use(store, "buildings", slug), crs)


def roads(
    store: SqlStore, lineage: an.Lineage, crs: int, slug: str | None = None
) -> gpd.GeoDataFrame | None:
    slug = slug or _slug(
        an.find(
            store,
            themes=("mobilite", "transport", "voirie"),
            geometry="LINE",
            reader=lineage.reader,
        )
    )
    if not slug:
        return None
    return an.read_frame(store, lineage.use(store, "roads", slug), crs)


def units(
    store: SqlStore, lineage: an.Lineage, crs: int, slug: str | None = None
) -> gpd.GeoDataFrame | None:
    """Admin units of the finest level, with a ``name`` column."""
    slug = slug or store.get_workspace().admin_dataset
    if not slug:
        return None
    frame = an.read_frame(store, lineage.use(store, "units", slug), crs)
    if "name" not in frame and "nom" in frame:
        frame = frame.rename(columns={"nom": "name"})
    if "name" not in frame:
        raise InvalidInput(f"units: {slug!r} has no 'name' (or 'nom') field")
    return finest_level(frame)


def finest_level(units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Of a hierarchy (commune → quartier), the level with the most units."""
    if "level" not in units or units["level"].nunique() < 2:
        return units
    finest = units["level"].value_counts().idxmax()
    return units[units["level"] == finest].reset_index(drop=True)


def population(
    store: SqlStore,
    lineage: an.Lineage,
    units: gpd.GeoDataFrame,
    spec: str | None = None,
) -> pd.Series | None:
    """People per unit name, from ``DATASET[:FIELD]`` (a table with a ``code``)."""
    spec = spec or _population_table(store, lineage)
    if not spec or "code" not in units:
        return None
    slug, _, column = spec.partition(":")
    ds = lineage.use(store, "population", slug)
    table = an.read_table(store, ds)
    column = column or _numeric(store, ds, "population")
    if column not in table or "code" not in table:
        raise InvalidInput(
            f"population: {slug!r} needs a 'code' column and a {column!r} column"
        )
    names = dict(zip(units["code"].astype(str), units["name"], strict=False))
    people = table.groupby(table["code"].astype(str))[column].sum()
    return people.rename(index=names)[lambda s: s.index.isin(names.values())]


def _population_table(store: SqlStore, lineage: an.Lineage) -> str | None:
    found = an.find(
        store, themes=("population",), kind="attributes", reader=lineage.reader
    )
    for ds in found:
        column = _numeric(store, ds, "population")
        if column:
            return f"{ds.slug}:{column}"
    return None


def _numeric(store: SqlStore, ds: Dataset, word: str) -> str:
    version = store.get_version(ds.slug, ds.current_version)
    numeric = (FieldType.INTEGER, FieldType.REAL)
    return next(
        (f.name for f in version.fields if word in f.name and f.type in numeric), ""
    )


def _slug(found: list[Dataset]) -> str | None:
    return found[0].slug if found else None


def people_in_buildings(
    store: SqlStore,
    lineage: an.Lineage,
    crs: int,
    buildings: gpd.GeoDataFrame,
    units_slug: str | None = None,
    population_spec: str | None = None,
) -> tuple[pd.Series | None, pd.Series | None]:
    """(people, unit) per building: the unit holding it, and its share of the
    unit's population by footprint (dasymetric); None where not available."""
    found = units(store, lineage, crs, units_slug)
    if found is None:
        return None, None
    geoms = np.asarray(buildings.geometry.values, dtype=object)
    unit = pd.Series(unit_of(shapely.point_on_surface(geoms), found, "name"))
    table = population(store, lineage, found, population_spec)
    if table is None:
        return None, unit
    return dasymetric(pd.Series(shapely.area(geoms)), unit, table), unit


def optional_hazard(
    store: SqlStore, lineage: an.Lineage, crs: int, slug: str | None = None
) -> gpd.GeoDataFrame | None:
    """The hazard layer if one is named or found; None when there is none."""
    from quartier.services.exposure import pick_hazard

    try:
        ds = pick_hazard(store, slug, lineage.reader)
    except InvalidInput:
        if slug:
            raise
        return None  # no hazard layer: the figures that need one are not given
    return an.read_frame(store, lineage.use(store, "hazard", ds.slug), crs)

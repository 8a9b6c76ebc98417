"""The usual inputs of analyses, chosen from the catalogue when not given.

Buildings (theme *bâti*), the workspace's admin units (finest level), a
population table joined to them by ``code`` (with its census groups, by age
or sex, when it has them), roads (*mobilité* lines). Each reader records the
dataset and its version in the run's lineage.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from quartier.analysis.population import dasymetric
from quartier.analysis.spatial import unit_of
from quartier.domain import Dataset, FieldType
from quartier.errors import InvalidInput
from quartier.services import analyses as an
from quartier.services.search import fold
from quartier.storage.base import SqlStore

_SEX = (
    r"(?:femmes?|hommes?|filles?|garcons?|females?|males?|women|men|feminin|masculin)"
)
_AGE = (
    r"(?:ages?_)?(?:\d{1,3}_\d{1,3}|\d{1,3}_(?:ans_)?(?:et_)?plus"
    r"|(?:moins|plus)_(?:de_)?\d{1,3})(?:_ans)?"
)
#: a census group's column name, folded (``Femmes 0-4`` → ``femmes_0_4``): a sex,
#: an age band, or both, with an optional ``pop_``/``population_``/``nb_`` prefix
GROUP_NAME = re.compile(
    rf"(?:pop_|population_|nb_)?(?:{_SEX}|(?:(?:{_SEX}|[fmh])_)?{_AGE}"
    rf"|{_AGE}_(?:{_SEX}|[fmh]))"
)


@dataclass(frozen=True)
class Features:
    """A dataset read for an analysis: in the working CRS, and as stored."""

    #: the current version in the working CRS (rows without geometry left out)
    frame: gpd.GeoDataFrame
    #: the same rows' geometries as stored (EPSG:4326), so that a result
    #: written back needs no second reprojection
    stored: np.ndarray


def read_features(store: SqlStore, ds: Dataset, crs: int) -> Features:
    """:func:`~quartier.services.analyses.read_frame`, keeping the stored shapes.

    The same rows, columns and coordinates; the reprojection is one pyproj
    call over every coordinate (what GeoPandas does, without its copies).
    """
    table = an.current_table(store, ds)
    if table is None or table.num_rows == 0:
        empty = gpd.GeoDataFrame(geometry=[], crs=crs)
        return Features(empty, np.empty(0, dtype=object))
    geoms = shapely.from_wkb(table.column("geometry").to_numpy(zero_copy_only=False))
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    frame = table.drop(["geometry"]).to_pandas()
    if not present.all():
        frame, geoms = frame[present], geoms[present]
    projected = gpd.GeoSeries(_project(geoms, crs), index=frame.index, crs=crs)
    return Features(gpd.GeoDataFrame(frame, geometry=projected, crs=crs), geoms)


def _project(geoms: np.ndarray, crs: int) -> np.ndarray:
    """Geometries in EPSG:4326 → ``crs`` (x, y as GeoPandas' ``to_crs`` does)."""
    if shapely.has_z(geoms).any():  # rare: GeoPandas handles the mix
        return np.asarray(gpd.GeoSeries(geoms, crs=4326).to_crs(crs).values)
    coords = shapely.get_coordinates(geoms)
    x, y = _transformer(crs).transform(coords[:, 0], coords[:, 1])
    return shapely.set_coordinates(geoms.copy(), np.column_stack([x, y]))


@lru_cache(maxsize=8)
def _transformer(crs: int) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(4326, crs, always_xy=True)


def buildings(
    store: SqlStore, lineage: an.Lineage, crs: int, slug: str | None = None
) -> gpd.GeoDataFrame | None:
    found = building_features(store, lineage, crs, slug)
    return None if found is None else found.frame


def building_features(
    store: SqlStore, lineage: an.Lineage, crs: int, slug: str | None = None
) -> Features | None:
    """The buildings (``slug``, else the first of theme *bâti*), or None."""
    slug = slug or _slug(
        an.find(store, themes=("bati", "building"), reader=lineage.reader)
    )
    if not slug:
        return None
    return read_features(store, lineage.use(store, "buildings", slug), crs)


#: themes of a roads dataset (first line dataset found)
ROAD_THEMES = ("mobilite", "transport", "voirie")


def roads(
    store: SqlStore, lineage: an.Lineage, crs: int, slug: str | None = None
) -> gpd.GeoDataFrame | None:
    slug = slug or _slug(
        an.find(store, themes=ROAD_THEMES, geometry="LINE", reader=lineage.reader)
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
    found = census(store, lineage, units, spec, breakdown=())
    return None if found is None else found[0]


def census(
    store: SqlStore,
    lineage: an.Lineage,
    units: gpd.GeoDataFrame,
    spec: str | None = None,
    breakdown: Sequence[str] | None = None,
) -> tuple[pd.Series, pd.DataFrame] | None:
    """People per unit name and people of each census group per unit name.

    The groups are the ``breakdown`` columns of the population table; by
    default (None) its numeric columns named like a census group
    (:func:`is_group`), in the table's order; ``()`` for none.
    """
    spec = spec or _population_table(store, lineage)
    if not spec or "code" not in units:
        if breakdown:
            raise InvalidInput("breakdown: no population table joined to the units")
        return None
    slug, _, column = spec.partition(":")
    ds = lineage.use(store, "population", slug)
    table = an.read_table(store, ds)
    column = column or _numeric(store, ds, "population")
    stored = {f.name for f in store.get_version(ds.slug, ds.current_version).fields}
    if column in stored and column not in table:
        # hidden from this reader (a sensitive field): no population for them
        if breakdown:
            raise InvalidInput(f"population: field {column!r} is not visible to you")
        return None
    if column not in table or "code" not in table:
        raise InvalidInput(
            f"population: {slug!r} needs a 'code' column and a {column!r} column"
        )
    groups = [g for g in _groups(store, ds, column, breakdown) if g in table]
    names = dict(zip(units["code"].astype(str), units["name"], strict=False))
    by_code = table.groupby(table["code"].astype(str))[[column, *groups]].sum()
    people = by_code.rename(index=names)
    people = people[people.index.isin(names.values())]
    return people[column], people[groups].astype(float)


def is_group(name: str) -> bool:
    """Whether a column name reads as a census group (by sex, age or both).

    >>> [is_group(n) for n in ("Femmes", "f_0_4", "M 65+", "age_0_14", "pop_0_5",
    ...     "moins_5_ans", "plus_de_65_ans", "0-4 ans", "hommes_15_64")]
    [True, True, True, True, True, True, True, True, True]
    >>> [is_group(n) for n in ("population", "menages", "superficie_km2",
    ...     "pop_2020", "f", "densite_supposee")]
    [False, False, False, False, False, False]
    """
    folded = fold(name).replace("+", "_plus")
    folded = re.sub(r"[^a-z0-9]+", "_", folded).strip("_")
    return GROUP_NAME.fullmatch(folded) is not None


def _groups(
    store: SqlStore, ds: Dataset, total: str, breakdown: Sequence[str] | None
) -> list[str]:
    version = store.get_version(ds.slug, ds.current_version)
    numeric = {
        f.name
        for f in version.fields
        if f.type in (FieldType.INTEGER, FieldType.REAL) and f.name != total
    }
    if breakdown is None:
        return [
            f.name for f in version.fields if f.name in numeric and is_group(f.name)
        ]
    for name in breakdown:
        if name not in numeric:
            raise InvalidInput(
                f"breakdown: {ds.slug!r} has no numeric column {name!r} "
                f"(numeric columns: {', '.join(sorted(numeric)) or 'none'})"
            )
    return list(dict.fromkeys(breakdown))


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

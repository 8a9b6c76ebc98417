"""Neighbourhood profiles ("fiches quartier") of every admin unit.

Each unit's key figures next to the city's median: from the base data
(area, population, density, buildings, built share, facilities, roads) and
from the latest result of each analysis the reader may see (exposure,
accessibility, vulnerability, expansion). Every dataset used is listed as a
source with its version, date and licence; what limits the profile — a
missing dataset, an analysis not run, illustrative data, a result computed
on an older version of its inputs, a unit with no mapped building — is
listed as a gap. Only datasets the reader may read are used: a visitor's
profile is built from public data only.

``build_profiles`` gathers everything once for all units;
``write_profiles`` keeps the table as the dataset ``profils_quartiers``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from quartier import access
from quartier.access import Principal
from quartier.analysis.profile import compare
from quartier.analysis.spatial import (
    area_in_units,
    count_in_units,
    length_in_units,
)
from quartier.domain import Dataset, Version
from quartier.errors import InvalidInput, NotFound
from quartier.i18n import N_, Translator
from quartier.services import analyses as an
from quartier.services import analysis_inputs as inputs
from quartier.services.search import fold
from quartier.storage.base import SqlStore

FACILITIES = (
    ("sante", N_("Établissements de santé"), ("sante", "health")),
    ("ecoles", N_("Écoles"), ("education", "ecole", "school")),
    ("marches", N_("Marchés"), ("economie", "marche", "market")),
)


@dataclass(frozen=True)
class Indicator:
    """What a figure is: its label (French msgid, ``{}`` filled from
    ``params``), unit, decimals, and whether more is better or worse."""

    key: str
    label: str
    unit: str = ""
    digits: int = 0
    better: str = ""  # "higher", "lower" or ""
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Gap:
    """Something that limits a profile (French msgid + its parameters)."""

    message: str
    params: tuple[tuple[str, str], ...] = ()


@dataclass
class Source:
    dataset: Dataset
    version: Version | None
    role: str


@dataclass
class Profiles:
    #: the units (finest level) in the working CRS, with ``name``
    units: gpd.GeoDataFrame
    #: one row per unit name, one column per indicator key
    table: pd.DataFrame
    indicators: list[Indicator]
    sources: list[Source]
    #: gaps for every unit, and per unit name
    gaps: list[Gap]
    unit_gaps: dict[str, list[Gap]]
    #: what the small maps draw (working CRS): buildings, exposed buildings,
    #: facilities by kind
    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    #: built-up area by period per unit (expansion), when known
    periods: pd.DataFrame | None = None
    lineage: an.Lineage | None = None

    def comparison(self) -> pd.DataFrame:
        return compare(self.table)

    def compared(self, unit: str) -> dict[str, dict[str, float]]:
        """Indicator key → value, median, rank, ranked for ``unit``."""
        rows = pd.DataFrame(self.comparison().xs(unit, level="unit"))
        return {
            str(key): {str(c): float(row[c]) for c in rows.columns}
            for key, row in rows.iterrows()
        }

    def unit(self, name: str) -> str:
        """The unit called ``name`` (accents and case ignored)."""
        wanted = fold(name).strip()
        for known in self.table.index:
            if fold(str(known)).strip() == wanted:
                return str(known)
        raise NotFound(
            f"no admin unit {name!r}; known: "
            + ", ".join(sorted(map(str, self.table.index)))
        )


def build_profiles(store: SqlStore, reader: Principal | None = None) -> Profiles:
    """Profiles of every admin unit, from what ``reader`` may see (None: all)."""
    with an.reading_as(reader):
        return _build_profiles(store, reader)


def _build_profiles(store: SqlStore, reader: Principal | None) -> Profiles:
    crs = an.working_crs(store)
    lineage = an.Lineage("profile", reader)
    units = inputs.units(store, lineage, crs)
    if units is None or units.empty:
        raise InvalidInput(
            "profiles need admin units: set the workspace's admin dataset "
            "(quartier workspace --admin DATASET)"
        )
    units = units.reset_index(drop=True)
    names = units["name"].astype(str).to_numpy()
    table = pd.DataFrame(index=pd.Index(names, name="unit"))
    table = table[~table.index.duplicated()]
    defs: list[Indicator] = []
    gaps: list[Gap] = []
    unit_gaps: dict[str, list[Gap]] = {str(n): [] for n in table.index}
    layers: dict[str, gpd.GeoDataFrame] = {}

    area_km2 = pd.Series(units.area.to_numpy() / 1e6, index=names)
    area_km2 = area_km2.groupby(level=0).sum()
    table["area_km2"] = area_km2
    defs.append(Indicator("area_km2", N_("Superficie"), "km²", 2))

    people = inputs.population(store, lineage, units)
    if people is not None:
        table["population"] = people.reindex(table.index)
        table["density"] = table["population"] / table["area_km2"]
        defs += [
            Indicator("population", N_("Population"), N_("hab."), 0),
            Indicator("density", N_("Densité"), N_("hab./km²"), 0),
        ]
    else:
        gaps.append(
            Gap(
                N_(
                    "Aucune table de population : densité et figures par habitant "
                    "manquent."
                )
            )
        )

    buildings = inputs.buildings(store, lineage, crs)
    if buildings is not None:
        layers["buildings"] = buildings[["geometry"]]
        count = count_in_units(buildings, units)
        table["buildings"] = count.groupby(level=0).sum().reindex(table.index)
        built = area_in_units(buildings, units).reindex(table.index)
        table["built_share"] = 100 * built / (table["area_km2"] * 1e6)
        defs += [
            Indicator("buildings", N_("Bâtiments cartographiés"), "", 0),
            Indicator("built_share", N_("Part du sol bâtie"), "%", 1),
        ]
        for unit, n in table["buildings"].items():
            if n == 0:
                unit_gaps[str(unit)].append(
                    Gap(
                        N_(
                            "Aucun bâtiment cartographié dans ce quartier : les "
                            "figures qui dépendent du bâti y sont à zéro ou "
                            "manquent."
                        )
                    )
                )
    else:
        gaps.append(Gap(N_("Aucun jeu de bâtiments : le bâti n'est pas décrit.")))

    for key, label, themes in FACILITIES:
        found = an.find(store, themes=themes, geometry="POINT", reader=reader)
        if not found:
            gaps.append(Gap(N_("Aucun jeu « {what} »."), (("what", label),)))
            continue
        points = an.read_frame(store, lineage.use(store, key, found[0].slug), crs)
        layers[key] = points[["geometry"]]
        counts = count_in_units(points, units).groupby(level=0).sum()
        table[key] = counts.reindex(table.index)
        defs.append(Indicator(key, label, "", 0, "higher"))
        if "population" in table:
            per = 10_000 * table[key] / table["population"].replace(0, np.nan)
            table[f"{key}_10k"] = per
            defs.append(
                Indicator(
                    f"{key}_10k",
                    N_("{what} pour 10 000 hab."),
                    "",
                    2,
                    "higher",
                    (("what", label),),
                )
            )

    roads = inputs.roads(store, lineage, crs)
    if roads is not None:
        layers["roads"] = roads[["geometry"]]
        km = length_in_units(roads, units).groupby(level=0).sum() / 1000
        table["road_density"] = km.reindex(table.index) / table["area_km2"]
        defs.append(Indicator("road_density", N_("Voies"), "km/km²", 1, "higher"))
    else:
        gaps.append(Gap(N_("Aucun jeu de voies : la desserte n'est pas décrite.")))

    results = _Results(store, reader, lineage, gaps)
    periods = results.add(table, defs, layers)
    _illustrative_and_stale(store, lineage, gaps)
    return Profiles(
        units=units,
        table=table,
        indicators=defs,
        sources=_sources(store, lineage),
        gaps=gaps,
        unit_gaps=unit_gaps,
        layers=layers,
        periods=periods,
        lineage=lineage,
    )


class _Results:
    """The latest results of analyses the reader may see, as indicators."""

    def __init__(
        self,
        store: SqlStore,
        reader: Principal | None,
        lineage: an.Lineage,
        gaps: list[Gap],
    ) -> None:
        self.store, self.reader, self.lineage, self.gaps = store, reader, lineage, gaps
        self.found: dict[str, list[tuple[Dataset, dict[str, Any]]]] = {}
        for ds in store.list_datasets():
            if not an.is_result(ds) or not ds.current_version:
                continue
            if reader is not None and not access.can_read(reader, ds):
                continue
            info = json.loads(ds.lineage)
            self.found.setdefault(info["analysis"], []).append((ds, info))

    def _missing(self, analysis: str) -> None:
        self.gaps.append(
            Gap(
                N_(
                    "Analyse « {analysis} » pas encore lancée : "
                    "quartier analyze {analysis}."
                ),
                (("analysis", analysis),),
            )
        )

    def _title(self, slug: str) -> str:
        """A dataset's title — for one the reader may not see, a plain word."""
        try:
            ds = self.store.get_dataset(slug)
        except NotFound:
            return slug
        if self.reader is not None and not access.can_read(self.reader, ds):
            return N_("donnée non publique")
        return ds.title

    def _read(self, ds: Dataset) -> pd.DataFrame:
        self.lineage.use(self.store, f"result:{ds.slug}", ds.slug)
        if ds.kind == "attributes":
            return an.read_table(self.store, ds)
        return an.read_frame(self.store, ds, an.working_crs(self.store))

    def add(
        self,
        table: pd.DataFrame,
        defs: list[Indicator],
        layers: dict[str, gpd.GeoDataFrame],
    ) -> pd.DataFrame | None:
        self._exposure(table, defs, layers)
        self._accessibility(table, defs)
        self._vulnerability(table, defs)
        return self._expansion(table, defs)

    def _exposure(
        self,
        table: pd.DataFrame,
        defs: list[Indicator],
        layers: dict[str, gpd.GeoDataFrame],
    ) -> None:
        runs = [
            (ds, info)
            for ds, info in self.found.get("exposure", [])
            if not ds.slug.endswith("_synthese")
        ]
        if not runs:
            self._missing("exposure")
        for ds, info in runs:
            hazard = info["inputs"].get("hazard", {}).get("dataset", ds.slug)
            exposed = self._read(ds)
            if "unit" not in exposed:
                continue
            if hasattr(exposed, "geometry") and "exposed" not in layers:
                layers["exposed"] = exposed[["geometry"]]
            count = exposed.groupby(exposed["unit"].astype(str)).size()
            key = f"exposed_{hazard}"
            table[key] = count.reindex(table.index, fill_value=0)
            params = (("hazard", self._title(hazard)),)
            defs.append(
                Indicator(
                    key, N_("Bâtiments exposés : {hazard}"), "", 0, "lower", params
                )
            )
            if "buildings" in table:
                share = 100 * table[key] / table["buildings"].replace(0, np.nan)
                table[f"{key}_share"] = share
                defs.append(
                    Indicator(
                        f"{key}_share",
                        N_("Part des bâtiments exposés : {hazard}"),
                        "%",
                        1,
                        "lower",
                        params,
                    )
                )
            if "people" in exposed:
                people = exposed.groupby(exposed["unit"].astype(str))["people"].sum()
                table[f"{key}_people"] = people.reindex(table.index, fill_value=0)
                defs.append(
                    Indicator(
                        f"{key}_people",
                        N_("Personnes exposées : {hazard}"),
                        "",
                        0,
                        "lower",
                        params,
                    )
                )

    def _accessibility(self, table: pd.DataFrame, defs: list[Indicator]) -> None:
        runs = [
            (ds, info)
            for ds, info in self.found.get("accessibility", [])
            if ds.slug.endswith("_synthese")
        ]
        if not runs:
            self._missing("accessibility")
        for ds, info in runs:
            what = info["parameters"].get("facilities", ds.slug)
            limit = info["parameters"].get("limit_min", 15)
            summary = self._read(ds).set_index("unit")
            params = (("what", self._title(str(what))), ("limit", f"{float(limit):g}"))
            beyond = (
                100
                * summary["buildings_beyond"]
                / summary["buildings"].replace(0, np.nan)
            )
            table[f"beyond_{what}"] = beyond.reindex(table.index)
            table[f"minutes_{what}"] = summary["median_min"].reindex(table.index)
            defs += [
                Indicator(
                    f"beyond_{what}",
                    N_("Bâtiments à plus de {limit} min de : {what}"),
                    "%",
                    1,
                    "lower",
                    params,
                ),
                Indicator(
                    f"minutes_{what}",
                    N_("Temps médian jusqu'à : {what}"),
                    "min",
                    1,
                    "lower",
                    params,
                ),
            ]

    def _vulnerability(self, table: pd.DataFrame, defs: list[Indicator]) -> None:
        runs = [
            ds
            for ds, _ in self.found.get("vulnerability", [])
            if ds.slug == "vulnerabilite"
        ]
        if not runs:
            self._missing("vulnerability")
            return
        frame = self._read(runs[0])
        index = frame.set_index(frame["unite"].astype(str))["index"]
        table["vulnerability"] = index.reindex(table.index)
        defs.append(
            Indicator(
                "vulnerability", N_("Indice de vulnérabilité (0–100)"), "", 1, "lower"
            )
        )

    def _expansion(
        self, table: pd.DataFrame, defs: list[Indicator]
    ) -> pd.DataFrame | None:
        runs = [
            ds
            for ds, _ in self.found.get("expansion", [])
            if ds.slug == "expansion_unites"
        ]
        if not runs:
            self._missing("expansion")
            return None
        periods = self._read(runs[0])
        dated = periods[periods["area_m2"] > 0]
        if dated.empty:
            return periods
        order = list(dict.fromkeys(periods["period"]))
        last = max(dated["period"], key=order.index)
        total = periods.groupby("unit")["area_m2"].sum()
        recent = periods[periods["period"] == last].groupby("unit")["area_m2"].sum()
        table["recent_share"] = (100 * recent / total.replace(0, np.nan)).reindex(
            table.index
        )
        defs.append(
            Indicator(
                "recent_share",
                N_("Part du bâti daté de {period}"),
                "%",
                1,
                "",
                (("period", str(last)),),
            )
        )
        return periods


def _illustrative_and_stale(
    store: SqlStore, lineage: an.Lineage, gaps: list[Gap]
) -> None:
    seen: set[str] = set()
    for ds in lineage.datasets:
        if ds.slug in seen:
            continue
        seen.add(ds.slug)
        if ds.illustrative and not an.is_result(ds):  # results inherit the flag
            gaps.append(
                Gap(
                    N_(
                        "« {title} » est une donnée illustrative, pas une "
                        "observation : ses figures ne décrivent pas la réalité."
                    ),
                    (("title", ds.title),),
                )
            )
        if an.is_result(ds):
            for used in json.loads(ds.lineage).get("inputs", {}).values():
                try:
                    source = store.get_dataset(used["dataset"])
                except (NotFound, KeyError):
                    continue
                if lineage.reader is not None and not access.can_read(
                    lineage.reader, source
                ):
                    continue  # never name a dataset the reader may not see
                now = source.current_version
                if now != used["version"]:
                    gaps.append(
                        Gap(
                            N_(
                                "« {result} » a été calculé sur la version "
                                "{old} de « {input} », qui en est à la version "
                                "{new} : relancez l'analyse."
                            ),
                            (
                                ("result", ds.slug),
                                ("old", str(used["version"])),
                                ("input", used["dataset"]),
                                ("new", str(now)),
                            ),
                        )
                    )


def _sources(store: SqlStore, lineage: an.Lineage) -> list[Source]:
    out: dict[str, Source] = {}
    for role, used in lineage.inputs.items():
        slug = used["dataset"]
        if slug in out:
            continue
        ds = next(d for d in lineage.datasets if d.slug == slug)
        try:
            version = store.get_version(slug, used["version"])
        except NotFound:
            version = None
        out[slug] = Source(ds, version, role.split(":")[0])
    return list(out.values())


def write_profiles(
    store: SqlStore, profiles: Profiles, *, author: str = "cli"
) -> Version:
    """The profile table (one row per unit, values and ranks) as
    ``profils_quartiers``, with the lineage of every figure."""
    assert profiles.lineage is not None
    comparison = profiles.comparison()
    frame = profiles.table.copy()
    for key in profiles.table.columns:
        ranks = comparison.xs(key, level="indicator")["rank"]
        frame[f"{key}_rang"] = ranks.reindex(frame.index).astype(float)
    frame = frame.reset_index().rename(columns={"unit": "unite"})
    frame = frame.replace([np.inf, -np.inf], np.nan)
    return an.write_result(
        store,
        "profils_quartiers",
        frame,
        lineage=profiles.lineage,
        author=author,
        theme="population",
        title="Profils des quartiers",
        title_en="Neighbourhood profiles",
        description="Indicateurs clés par quartier, avec leur rang ; la médiane "
        "de la ville est celle de chaque colonne.",
    )


def profile_json(profiles: Profiles, unit: str, t: Translator) -> dict[str, Any]:
    """One unit's profile as plain data (the CLI's ``--json``, the API)."""
    compared = profiles.compared(unit)

    def clean(value: Any) -> float | None:
        number = float(value)
        return None if not np.isfinite(number) else round(number, 4)

    return {
        "unit": unit,
        "indicators": [
            {
                "key": ind.key,
                "label": t.gettext(ind.label).format(
                    **{k: t.gettext(v) for k, v in ind.params}
                ),
                "unit": t.gettext(ind.unit) if ind.unit else "",
                "value": clean(compared[ind.key]["value"]),
                "city_median": clean(compared[ind.key]["median"]),
                "rank": clean(compared[ind.key]["rank"]),
                "ranked": int(compared[ind.key]["ranked"]),
                "better": ind.better or None,
            }
            for ind in profiles.indicators
        ],
        "gaps": [
            t.gettext(g.message).format(**{k: t.gettext(v) for k, v in g.params})
            for g in profiles.gaps + profiles.unit_gaps.get(unit, [])
        ],
        "sources": [
            {
                "dataset": s.dataset.slug,
                "version": s.version.version if s.version else None,
                "date": s.version.created if s.version else None,
                "licence": s.dataset.licence,
                "attribution": s.dataset.attribution,
                "illustrative": s.dataset.illustrative,
            }
            for s in profiles.sources
        ],
    }


_PAGES: an.PageCache[Profiles] = an.PageCache(8)


def cached_profiles(store: SqlStore, reader: Principal) -> Profiles:
    """``build_profiles`` for pages: reused while the datasets the reader may
    see (and their versions, and the fields hidden from them) are the same —
    two readers who see the same data share an entry, so nothing leaks from
    one to the other."""
    key = (id(store), store.get_workspace().admin_dataset, an.seen_by(store, reader))
    return _PAGES.get_or_build(key, lambda: build_profiles(store, reader))

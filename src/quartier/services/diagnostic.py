"""The data self-diagnostic: for each entry of the reference list, which
catalogued datasets answer it, who holds them, how open, fresh, complete
and how much of the territory they cover — computed from the data — with a
maturity level, an overall score and where data is missing.

Built from what the reader may see (``None``: the local operator, all of
it): a dataset hidden from the reader is absent, as everywhere else.
``save`` writes the gap maps and the levels as result datasets, so each run
is a version and their history is the diagnostic's time series.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from quartier import access
from quartier.access import Principal
from quartier.analysis import coverage as cov
from quartier.domain import Dataset
from quartier.domain.diagnostic import (
    OPEN_ACCESS,
    Candidate,
    EntryResult,
    Facts,
    assign,
    freshness,
    maturity,
    score,
)
from quartier.errors import InvalidInput
from quartier.services import analyses as an
from quartier.services import analysis_inputs as inputs
from quartier.services import reference as reference_list
from quartier.storage.base import SqlStore

#: layers whose features show people live there (buildings should be too)
EVIDENCE = ("routes", "adresses", "sante", "ecoles", "marches", "points_eau",
            "transport_public", "assainissement", "secours")  # fmt: skip
GRID_M = 250.0
#: result datasets this diagnostic writes (never read back as inputs)
OUTPUTS = ("diagnostic_niveaux", "diagnostic_quartiers", "diagnostic_lacunes_batiments")


@dataclass
class Diagnostic:
    entries: list[EntryResult]
    score: float
    created: str
    #: the admin units with one boolean column per entry (data there?)
    units: gpd.GeoDataFrame | None = None
    #: grid cells: buildings mapped, settlement seen, buildings missing
    cells: gpd.GeoDataFrame | None = None
    grid_m: float = GRID_M
    notes: list[str] = field(default_factory=list)
    #: the inputs read (dataset versions) and parameters
    lineage: an.Lineage = field(default_factory=lambda: an.Lineage("diagnostic"))


def diagnose(
    store: SqlStore,
    reader: Principal | None = None,
    *,
    reference: Path | None = None,
    grid_m: float = GRID_M,
    today: dt.date | None = None,
    progress: Callable[[int], None] | None = None,
) -> Diagnostic:
    entries = reference_list.entries(store, reference)
    if not 10 <= grid_m <= 5000:
        raise InvalidInput(f"grid: {grid_m:g} m; choose 10 to 5,000 m")
    day = today or dt.date.today()
    crs = an.working_crs(store)
    visible = [
        d
        for d in (
            access.readable(reader, store.list_datasets())
            if reader is not None
            else store.list_datasets()
        )
        if not an.is_result(d) and d.slug not in OUTPUTS
    ]
    by_slug = {d.slug: d for d in visible}
    assigned = assign(
        entries,
        (Candidate(d.slug, d.title, d.theme, d.kind, d.geometry_type) for d in visible),
    )
    lineage = an.Lineage("diagnostic", reader)
    lineage.parameters = {"grid_m": grid_m, "reference": str(reference or "default")}
    notes: list[str] = []
    with an.reading_as(reader):
        units = _units(store, lineage, crs, notes)
        frames: dict[str, list[pd.DataFrame]] = {}
        results = []
        for entry in entries:
            result = EntryResult(entry, datasets=assigned[entry.key])
            for slug in result.datasets:
                ds = by_slug[slug]
                if not ds.current_version:
                    continue
                frame = _read(store, lineage, ds, crs, entry.key)
                frames.setdefault(entry.key, []).append(frame)
                result.details.append(_judge(store, ds, entry, frame, units, day))
            _settle(result, units)
            results.append(result)
            if progress:
                progress(1)
        cells = _building_gaps(store, crs, units, frames, grid_m, notes)
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return Diagnostic(
        entries=results,
        score=score([r.level for r in results]),
        created=created,
        units=units,
        cells=cells,
        grid_m=grid_m,
        notes=notes,
        lineage=lineage,
    )


def _units(
    store: SqlStore, lineage: an.Lineage, crs: int, notes: list[str]
) -> gpd.GeoDataFrame | None:
    try:
        units = inputs.units(store, lineage, crs)
    except InvalidInput as e:
        notes.append(f"admin units: {e}")
        return None
    if units is None or units.empty:
        notes.append("no admin units: coverage by quartier cannot be computed")
        return None
    return units.reset_index(drop=True)


def _read(
    store: SqlStore, lineage: an.Lineage, ds: Dataset, crs: int, role: str
) -> pd.DataFrame:
    lineage.use(store, f"{role}:{ds.slug}", ds.slug)
    if ds.kind == "features":
        return an.read_frame(store, ds, crs)
    return an.read_table(store, ds)


def _judge(
    store: SqlStore,
    ds: Dataset,
    entry: Any,
    frame: pd.DataFrame,
    units: gpd.GeoDataFrame | None,
    day: dt.date,
) -> dict[str, Any]:
    """The facts about one dataset for one entry."""
    version = store.get_version(ds.slug, ds.current_version)
    last = ds.temporal_end or version.created
    filled = cov.completeness(frame, entry.attributes) if entry.attributes else {}
    covered = _covered(frame, entry, units)
    facts = Facts(
        exists=len(frame) > 0,
        documented=bool(ds.steward and ds.licence),
        open=ds.access.value in OPEN_ACCESS and bool(ds.licence),
        coverage=None if covered is None else float(covered.mean()),
        completeness=float(np.mean(list(filled.values()))) if filled else None,
        freshness=freshness(last, entry.frequency_days, day),
    )
    return {
        "dataset": ds.slug,
        "title": ds.title,
        "holder": ds.producer or ds.steward or "",
        "steward": ds.steward or "",
        "access": ds.access.value,
        "licence": ds.licence,
        "version": ds.current_version,
        "last_update": last,
        "features": len(frame),
        "attributes": filled,
        "facts": facts,
        "level": maturity(facts),
        "covered": covered,
    }


def _covered(
    frame: pd.DataFrame, entry: Any, units: gpd.GeoDataFrame | None
) -> np.ndarray | None:
    """Per unit: does the dataset have data there? (None: not computable)."""
    if units is None:
        return None
    if isinstance(frame, gpd.GeoDataFrame):
        return cov.units_with_data(units.geometry, frame.geometry)
    if "code" not in units or "code" not in frame:
        return None
    value = next(
        (
            name
            for names in entry.attributes
            for name in names
            if name in frame and name not in ("code", "id")
        ),
        None,
    )
    if value is None:
        return None
    return cov.units_in_table(units["code"].astype(str).tolist(), frame, value)


def _settle(result: EntryResult, units: gpd.GeoDataFrame | None) -> None:
    """The entry takes the level of its best dataset; per unit, data from
    any of them counts."""
    if not result.details:
        return
    best = max(result.details, key=lambda d: (d["level"], d["features"]))
    result.facts = best["facts"]
    result.level = best["level"]
    if units is not None:
        seen = np.zeros(len(units), dtype=bool)
        for d in result.details:
            if d["covered"] is not None:
                seen |= d["covered"]
        column = covered_column(result.entry.key)
        units[column] = seen
        if all(d["covered"] is None for d in result.details):
            units[column] = pd.array([pd.NA] * len(units), dtype="boolean")


def _building_gaps(
    store: SqlStore,
    crs: int,
    units: gpd.GeoDataFrame | None,
    frames: dict[str, list[pd.DataFrame]],
    grid_m: float,
    notes: list[str],
) -> gpd.GeoDataFrame | None:
    """Grid cells where other layers show settlement but no building is mapped."""
    evidence = [
        f.geometry
        for key in EVIDENCE
        for f in frames.get(key, [])
        if isinstance(f, gpd.GeoDataFrame)
    ]
    buildings = [
        f.geometry
        for f in frames.get("batiments", [])
        if isinstance(f, gpd.GeoDataFrame)
    ]
    if not evidence:
        notes.append("no roads or facilities: where buildings are missing is unknown")
        return None
    fallback = (
        units
        if units is not None
        else gpd.GeoDataFrame(geometry=pd.concat(evidence), crs=crs)
    )
    area = an.territory(store, crs, fallback)
    try:
        cells = cov.grid_cells(area, grid_m, crs)
    except MemoryError:  # pragma: no cover - guarded by the size check
        raise InvalidInput("grid too fine for the territory") from None
    houses = (
        gpd.GeoSeries(pd.concat(buildings, ignore_index=True), crs=crs)
        if buildings
        else gpd.GeoSeries([], crs=crs)
    )
    flags = cov.missing_buildings(cells, houses, evidence)
    cells = cells.join(flags)
    if units is not None:
        centres = gpd.GeoDataFrame(geometry=cells.geometry.centroid, crs=crs)
        joined = gpd.sjoin(centres, units[["name", "geometry"]], how="left")
        cells["unit"] = joined.groupby(level=0)["name"].first().reindex(cells.index)
    return cells


# ----------------------------------------------------------------- outputs
def to_json(d: Diagnostic, lang: str = "fr") -> dict[str, Any]:
    """The diagnostic as JSON (``quartier diagnose --json``, the API)."""
    en = lang == "en"
    entries = []
    for r in d.entries:
        e = r.entry
        entries.append(
            {
                "key": e.key,
                "title": (e.title_en or e.title) if en else e.title,
                "why": (e.why_en or e.why) if en else e.why,
                "category": e.category,
                "geometry": e.geometry,
                "expected_update_days": e.frequency_days,
                "level": r.level,
                "coverage": _pct(r.facts.coverage),
                "completeness": _pct(r.facts.completeness),
                "freshness": r.facts.freshness.value,
                "datasets": [_dataset_json(x) for x in r.details],
            }
        )
    out: dict[str, Any] = {
        "created": d.created,
        "score": d.score,
        "levels": {str(n): sum(r.level == n for r in d.entries) for n in range(5)},
        "maturity_rule": MATURITY_RULE_EN if en else MATURITY_RULE,
        "entries": entries,
        "notes": d.notes,
    }
    if d.units is not None:
        missing = missing_by_unit(d)
        out["units"] = [
            {
                "name": str(name),
                "code": str(d.units.at[i, "code"]) if "code" in d.units else None,
                "missing": missing[n],
            }
            for n, (i, name) in enumerate(d.units["name"].items())
        ]
    if d.cells is not None:
        out["building_gaps"] = {
            "grid_m": d.grid_m,
            "cells": len(d.cells),
            "settled": int(d.cells["settled"].sum()),
            "with_buildings": int(d.cells["buildings"].sum()),
            "missing": int(d.cells["missing"].sum()),
        }
    return out


def covered_column(key: str) -> str:
    """The admin units' column that says where entry ``key`` has data (named
    apart from the units' own columns: an entry may be called ``name``)."""
    return f"covered:{key}"


def missing_by_unit(d: Diagnostic) -> list[list[str]]:
    """Per unit (in order), the entries with data elsewhere but none there,
    and those with no data at all (not where coverage is not computable)."""
    assert d.units is not None
    keys = [r.entry.key for r in d.entries if covered_column(r.entry.key) in d.units]
    absent = [r.entry.key for r in d.entries if not r.details]
    columns = [covered_column(k) for k in keys]
    seen = d.units[columns].astype("boolean").fillna(True).to_numpy(dtype=bool)
    return [
        [k for k, there in zip(keys, row, strict=True) if not there] + absent
        for row in seen
    ]


def _dataset_json(x: dict[str, Any]) -> dict[str, Any]:
    f: Facts = x["facts"]
    return {
        "dataset": x["dataset"],
        "title": x["title"],
        "holder": x["holder"],
        "steward": x["steward"],
        "access": x["access"],
        "licence": x["licence"],
        "version": x["version"],
        "last_update": x["last_update"],
        "freshness": f.freshness.value,
        "features": x["features"],
        "coverage": _pct(f.coverage),
        "completeness": _pct(f.completeness),
        "attributes": {k: _pct(v) for k, v in x["attributes"].items()},
        "documented": f.documented,
        "open": f.open,
        "level": x["level"],
    }


def _pct(share: float | None) -> float | None:
    return None if share is None else round(100 * share, 1)


MATURITY_RULE = (
    "0 : aucune donnée ; 1 : une donnée existe ; 2 : documentée (gestionnaire et "
    "licence) et couvrant au moins 50 % des quartiers ; 3 : couvrant 80 % des "
    "quartiers, attributs clés remplis à 70 %, pas périmée (au plus deux fois "
    "l'intervalle de mise à jour attendu) ; 4 : ouverte (publique ou partenaires, "
    "avec licence), couvrant 95 %, remplie à 90 % et à jour. Sans couverture "
    "calculable : au plus 2. Score : niveau moyen en pourcentage de 4."
)
MATURITY_RULE_EN = (
    "0: no data; 1: a dataset exists; 2: documented (steward and licence) and "
    "covering at least 50% of quartiers; 3: covering 80% of quartiers, key "
    "attributes 70% filled, not out of date (at most twice the expected update "
    "interval); 4: open (public or partners, with a licence), covering 95%, 90% "
    "filled and up to date. Without computable coverage: at most 2. Score: mean "
    "level as a percentage of 4."
)


def save(store: SqlStore, d: Diagnostic, *, author: str) -> list[str]:
    """Write the levels, the per-quartier gaps and the building gaps as
    result datasets (a new version each time the findings change)."""
    if not d.lineage.datasets:
        raise InvalidInput("nothing to save: no dataset answers the reference list")
    lineage = d.lineage
    written = []
    levels = pd.DataFrame(
        {
            "entree": [r.entry.key for r in d.entries],
            "titre": [r.entry.title for r in d.entries],
            "niveau": [r.level for r in d.entries],
            "couverture": [_pct(r.facts.coverage) for r in d.entries],
            "completude": [_pct(r.facts.completeness) for r in d.entries],
            "fraicheur": [r.facts.freshness.value for r in d.entries],
            # how many, not which: a reader of the result may not read them all
            "nombre_jeux": [len(r.datasets) for r in d.entries],
        }
    )
    an.write_result(
        store,
        "diagnostic_niveaux",
        levels,
        title="Diagnostic des données : niveaux",
        title_en="Data diagnostic: levels",
        theme="programme",
        lineage=lineage,
        author=author,
    )
    written.append("diagnostic_niveaux")
    if d.units is not None:
        gaps = d.units[["name", "geometry"]].copy()
        missing = missing_by_unit(d)
        gaps["manquantes"] = [len(m) for m in missing]
        gaps["liste"] = [", ".join(m) for m in missing]
        an.write_result(
            store,
            "diagnostic_quartiers",
            gaps,
            title="Diagnostic des données : lacunes par quartier",
            title_en="Data diagnostic: gaps by quartier",
            theme="programme",
            lineage=replace(lineage),
            author=author,
        )
        written.append("diagnostic_quartiers")
    if d.cells is not None:
        cells = d.cells[["cell", "buildings", "settled", "missing", "geometry"]]
        if "unit" in d.cells:
            cells = cells.assign(unit=d.cells["unit"])
        an.write_result(
            store,
            "diagnostic_lacunes_batiments",
            cells.rename(
                columns={
                    "cellule": "cell",
                    "buildings": "batiments",
                    "settled": "habite",
                    "missing": "batiments_manquants",
                    "unit": "quartier",
                }
            ),
            title="Diagnostic : où manquent les bâtiments",
            title_en="Diagnostic: where buildings are missing",
            theme="programme",
            lineage=replace(lineage),
            author=author,
        )
        written.append("diagnostic_lacunes_batiments")
    return written


_PAGES: an.PageCache[Diagnostic] = an.PageCache(8)


def cached_diagnostic(store: SqlStore, reader: Principal) -> Diagnostic:
    """``diagnose`` for pages and the API: reused while the data the reader
    may see (datasets, versions, fields hidden from them) is the same — two
    readers who see the same data share an entry, nothing leaks between."""
    ws = store.get_workspace()
    seen = an.seen_by(store, reader)
    key = (
        id(store),
        ws.admin_dataset,
        ws.boundary_wkt,
        seen,
        reference_list.revision(store),
        dt.date.today(),
    )
    return _PAGES.get_or_build(key, lambda: diagnose(store, reader))

"""Evaluation (step 6 of the founding text): how the city's data changes
over time, who contributes and where, and how far the pilots have got.

- **Time series** of the diagnostic: read from the saved versions of
  ``diagnostic_niveaux`` (``quartier diagnose --save`` writes one when the
  findings change); the overall score of a version is the mean of its saved
  levels (the diagnostic's own rule), so versions saved before this module
  need nothing more. Shown only to those who may read that dataset.
- **Contributions** by actor kind and by quartier: form submissions
  (approved / pending), residents' reports, campaign cells mapped and
  validated, features added, changed or removed by dataset versions. Only
  counts: never a name, contact or account. A submission to a dataset, or
  an edit of one, counts only for those who may read that dataset.
- **Campaign progress**: cells mapped and validated of each campaign the
  reader may see.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pyarrow as pa
import shapely

from quartier import access
from quartier.access import Principal
from quartier.domain import Dataset
from quartier.domain.campaigns import Action
from quartier.domain.diagnostic import score
from quartier.domain.forms import Status
from quartier.domain.reports import ReportKind
from quartier.errors import InvalidInput, NotFound
from quartier.services import analyses as an
from quartier.services import analysis_inputs as inputs
from quartier.services import campaigns as campaign_service
from quartier.services import reference as reference_list
from quartier.services.diagnostic import OUTPUTS
from quartier.services.moderation import read_values
from quartier.storage.base import SqlStore

LEVELS_DATASET = "diagnostic_niveaux"
#: what the series keeps of each entry of each saved version
ENTRY_FIELDS = ("level", "coverage", "completeness", "freshness")
#: what is counted, in the order tables show it
SOURCES = (
    "submissions_approved",
    "submissions_pending",
    "reports",
    "cells_mapped",
    "cells_validated",
    "features_edited",
)
#: contributions gathered in the field (the bar charts); edits are apart
FIELD_SOURCES = SOURCES[:5]
#: actor kinds, then who cannot be attributed (imports by the command line)
KINDS = (
    "local_authority",
    "business",
    "startup",
    "university",
    "ngo",
    "residents",
    "unattributed",
)


@dataclass
class Point:
    """One saved diagnostic: its version, date, score and entries."""

    version: int
    created: str
    score: float
    #: entry key → level, coverage, completeness, freshness
    entries: dict[str, dict[str, Any]]


@dataclass
class Evaluation:
    created: str
    #: saved diagnostics, oldest first (empty: none the reader may see)
    series: list[Point] = field(default_factory=list)
    #: actor kind → source → count
    by_kind: dict[str, Counter[str]] = field(default_factory=dict)
    #: quartier → source → count (every quartier, in the admin units' order)
    by_unit: dict[str, Counter[str]] = field(default_factory=dict)
    #: contributions without a location (or outside every quartier)
    unlocated: Counter[str] = field(default_factory=Counter)
    campaigns: list[dict[str, Any]] = field(default_factory=list)
    #: entry key → (French, English) title, from the city's reference list
    titles: dict[str, tuple[str, str]] = field(default_factory=dict)


def evaluate(
    store: SqlStore,
    reader: Principal,
    *,
    progress: Callable[[int], None] | None = None,
) -> Evaluation:
    """The evaluation as ``reader`` may see it (``progress``: 4 steps)."""
    step = progress or (lambda n: None)
    out = Evaluation(created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    out.series = series(store, reader)
    out.titles = {e.key: (e.title, e.title_en) for e in reference_list.entries(store)}
    step(1)
    units = _units(store, reader)
    tally = _Tally(store, units)
    out.by_unit = tally.by_unit
    _submissions(store, reader, tally)
    _reports(store, tally)
    step(1)
    out.campaigns = _campaigns(store, reader, tally)
    step(1)
    _edits(store, reader, tally)
    out.by_kind, out.unlocated = tally.by_kind, tally.unlocated
    step(1)
    return out


# ------------------------------------------------------------ time series
def series(store: SqlStore, reader: Principal) -> list[Point]:
    """Every saved version of the diagnostic's levels the reader may read."""
    try:
        ds = store.get_dataset(LEVELS_DATASET)
    except NotFound:
        return []
    if not access.can_read(reader, ds):
        return []
    points = []
    for v in store.list_versions(ds.slug):
        batches = list(store.read_batches(ds.slug, version=v.version))
        rows = pa.Table.from_batches(batches).to_pylist() if batches else []
        entries = {
            str(r["entree"]): {
                "title": r.get("titre") or "",
                "level": _int(r.get("niveau")),
                "coverage": r.get("couverture"),
                "completeness": r.get("completude"),
                "freshness": r.get("fraicheur") or "unknown",
            }
            for r in rows
            if r.get("entree")
        }
        levels = [e["level"] for e in entries.values() if e["level"] is not None]
        points.append(Point(v.version, v.created, score(levels), entries))
    return points


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


# ---------------------------------------------------------- contributions
class _Tally:
    """Counts by actor kind and by quartier; people reduced to their kind."""

    def __init__(self, store: SqlStore, units: gpd.GeoDataFrame | None) -> None:
        self.kinds = {o.slug: o.kind.value for o in store.list_organisations()}
        self.users = {u.username: u for u in store.list_users()}
        self.units = units
        self.tree = (
            shapely.STRtree(units.geometry.values) if units is not None else None
        )
        names = [] if units is None else [str(n) for n in units["name"]]
        self.names = names
        self.by_unit: dict[str, Counter[str]] = {n: Counter() for n in names}
        self.by_kind: dict[str, Counter[str]] = {k: Counter() for k in KINDS}
        self.unlocated: Counter[str] = Counter()

    def kind(self, username: str, prefer: Iterable[str | None] = ()) -> str | None:
        """The actor kind of a user: of the organisation the work was for if
        they belong to it, else of their first organisation; a user of no
        organisation is a resident. None: not a user (the command line)."""
        user = self.users.get(username)
        if user is None:
            return None
        if not user.roles:
            return "residents"
        org = next((o for o in prefer if o and o in user.roles), sorted(user.roles)[0])
        return self.kinds.get(org, "unattributed")

    def add(
        self, source: str, kind: str | None, where: shapely.Geometry | None, n: int = 1
    ) -> None:
        self.by_kind[kind or "unattributed"][source] += n
        unit = self.unit_of(where)
        if unit is None:
            self.unlocated[source] += n
        else:
            self.by_unit[unit][source] += n

    def unit_of(self, where: shapely.Geometry | None) -> str | None:
        if where is None or self.tree is None or where.is_empty:
            return None
        hits = self.tree.query(where.centroid, predicate="intersects")
        return self.names[int(min(hits))] if len(hits) else None


def _units(store: SqlStore, reader: Principal) -> gpd.GeoDataFrame | None:
    """The diagnostic's quartiers (finest admin units) in EPSG:4326, if the
    reader may read the admin dataset."""
    try:
        slug = store.get_workspace().admin_dataset
        ds = store.get_dataset(slug) if slug else None
    except NotFound:  # no workspace yet, or its admin dataset is gone
        return None
    if ds is None:
        return None
    if not access.can_read(reader, ds):
        return None
    try:
        with an.reading_as(reader):
            units = inputs.units(store, an.Lineage("evaluation", reader), 4326)
    except InvalidInput:
        return None
    if units is None or units.empty:
        return None
    return units.reset_index(drop=True)


def _readable(store: SqlStore, reader: Principal, slug: str | None) -> bool:
    """May the reader count what feeds ``slug``? (No dataset: yes.)"""
    if not slug:
        return True
    try:
        return access.can_read(reader, store.get_dataset(slug))
    except NotFound:
        return True


def _submissions(store: SqlStore, reader: Principal, tally: _Tally) -> None:
    forms = {f.form_id: f for f in store.list_forms()}
    allowed = {fid: _readable(store, reader, f.dataset) for fid, f in forms.items()}
    for sub in store.list_submissions(limit=None):
        form = forms.get(sub.form_id)
        if form is None or not allowed[sub.form_id]:
            continue
        if sub.status is Status.APPROVED:
            source = "submissions_approved"
        elif sub.status in (Status.PENDING, Status.HAS_ISSUES):
            source = "submissions_pending"
        else:
            continue
        kind = tally.kind(sub.submitter, [form.organisation])
        tally.add(source, kind, _located(form.mapping, sub.xml))


def _located(mapping: dict[str, str], xml: str) -> shapely.Geometry | None:
    """The first point of the answer mapped to the geometry (lon, lat)."""
    path = next((p for p, target in mapping.items() if target == "geometry"), None)
    if path is None:
        return None
    try:
        values = read_values(xml)
    except Exception:  # noqa: BLE001 - a malformed stored instance is not located
        return None
    text = values.get("/".join([p for p in path.split("/") if p][1:]), "")
    parts = text.split(";")[0].split()
    try:
        return shapely.Point(float(parts[1]), float(parts[0]))
    except (IndexError, ValueError):
        return None


def _reports(store: SqlStore, tally: _Tally) -> None:
    """Residents' reports (those not hidden by moderators): all "residents"."""
    for r in store.list_reports(kind=ReportKind.REPORT, limit=None):
        where = (
            shapely.Point(r.lon, r.lat)
            if r.lon is not None and r.lat is not None
            else None
        )
        tally.add("reports", "residents", where)


def _campaigns(
    store: SqlStore, reader: Principal, tally: _Tally
) -> list[dict[str, Any]]:
    out = []
    for c in campaign_service.visible_campaigns(store, reader):
        cells = store.list_cells(c.slug)
        shapes = {cell.cell: shapely.from_wkt(cell.geometry_wkt) for cell in cells}
        events = store.list_cell_events(c.slug)
        for e in events:
            source = {
                Action.MAPPED: "cells_mapped",
                Action.VALIDATE: "cells_validated",
            }.get(e.action)
            if source:
                tally.add(
                    source, tally.kind(e.actor, [c.organisation]), shapes.get(e.cell)
                )
        done = campaign_service.progress(cells)
        settled = Counter(cell.state.value for cell in cells)
        out.append(
            {
                "slug": c.slug,
                "title": c.title,
                "status": c.status.value,
                "starts": c.starts,
                "ends": c.ends,
                "created": c.created,
                "last_activity": events[-1].at if events else "",
                "cells": len(cells),
                "mapped": settled["mapped"] + settled["validated"],
                "validated": settled["validated"],
                "mapped_pct": done["mapped_pct"] if cells else 0.0,
                "validated_pct": done["validated_pct"] if cells else 0.0,
            }
        )
    return out


def _edits(store: SqlStore, reader: Principal, tally: _Tally) -> None:
    """Features added, changed or removed by the versions of the datasets
    the reader may read (not analysis results; approvals of submissions are
    counted as submissions). Versions span many quartiers: not located."""
    for ds in access.readable(reader, store.list_datasets()):
        if an.is_result(ds) or ds.slug in OUTPUTS:
            continue
        for v in store.list_versions(ds.slug):
            if v.source.startswith("form "):
                continue
            n = v.added + v.changed + v.removed
            if n:
                tally.add("features_edited", _edit_kind(tally, ds, v.author), None, n)


def _edit_kind(tally: _Tally, ds: Dataset, author: str) -> str | None:
    """A user's kind; an import from the command line is the producer's."""
    kind = tally.kind(author, [ds.producer, ds.steward])
    if kind is not None:
        return kind
    owner = ds.producer or ds.steward
    return tally.kinds.get(owner) if owner else None


# ----------------------------------------------------------------- output
def to_json(e: Evaluation, lang: str = "fr") -> dict[str, Any]:
    """The evaluation as JSON (``quartier evaluate --json``, the API)."""
    titles = _titles(e, lang)
    keys = list(dict.fromkeys(k for p in e.series for k in p.entries))
    return {
        "created": e.created,
        "series": {
            "points": [
                {"version": p.version, "date": p.created, "score": p.score}
                for p in e.series
            ],
            "entries": [
                {
                    "key": k,
                    "title": titles.get(k) or _saved_title(e.series, k),
                    "values": [_entry_value(p, k) for p in e.series],
                }
                for k in keys
            ],
        },
        "contributions": {
            "sources": list(SOURCES),
            "by_kind": {k: _counts(c) for k, c in e.by_kind.items()},
            "by_unit": [{"name": name, **_counts(c)} for name, c in e.by_unit.items()],
            "unlocated": _counts(e.unlocated),
            "total": _counts(sum(e.by_kind.values(), Counter())),
        },
        "campaigns": e.campaigns,
    }


def _counts(c: Counter[str]) -> dict[str, int]:
    return {s: int(c.get(s, 0)) for s in SOURCES}


def _entry_value(p: Point, key: str) -> dict[str, Any]:
    found = p.entries.get(key) or {}
    values = {name: found.get(name) for name in ENTRY_FIELDS}
    return {"version": p.version, "date": p.created, **values}


def _saved_title(points: list[Point], key: str) -> str:
    return next((p.entries[key]["title"] for p in points if key in p.entries), key)


def _titles(e: Evaluation, lang: str) -> dict[str, str]:
    """Entry titles of the city's reference list in ``lang``."""
    return {
        key: (en or fr) if lang == "en" else fr for key, (fr, en) in e.titles.items()
    }

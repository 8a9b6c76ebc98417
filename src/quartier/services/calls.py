"""Public calls for contributions, generated from the diagnostic's gaps.

For each essential dataset that is not yet reliable or is missing in some
quartiers, and for the cells where buildings are missing: what is missing
where, and how to help — the open forms whose target answers the entry
(matched with the diagnostic's own keyword rule), the active campaigns
over those areas or with those forms, else whom to contact (the entry's
steward or holder, or the platform's administrators).

Built from the reader's diagnostic (``cached_diagnostic``): a call never
names a dataset hidden from the reader. A form is named only to those who
may fill it; others are told to sign in (or join its organisation).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import shapely

from quartier import access
from quartier.access import Principal
from quartier.domain import calls as rules
from quartier.domain.campaigns import Campaign, CampaignStatus
from quartier.domain.diagnostic import Candidate, Entry, assign
from quartier.domain.forms import Form
from quartier.errors import NotFound
from quartier.services import campaigns as campaign_service
from quartier.services import diagnostic as diag
from quartier.storage.base import SqlStore

BUILDINGS = "batiments"


@dataclass
class Call:
    key: str
    #: "entry" (an essential dataset) or "buildings" (the missing-buildings grid)
    kind: str
    title: str
    why: str
    category: str
    level: int
    priority: float
    #: quartiers where the data is missing (all of them when there is none)
    units: list[str]
    missing_share: float
    #: for buildings: settled cells without a building, of settled cells
    cells_missing: int = 0
    cells_settled: int = 0
    #: forms the reader may fill: id, title, organisation name
    forms: list[dict[str, str]] = field(default_factory=list)
    #: forms exist for it, but the reader must sign in or join to fill them
    forms_need_sign_in: bool = False
    forms_need_membership: list[str] = field(default_factory=list)
    campaigns: list[dict[str, Any]] = field(default_factory=list)
    #: whom to contact when nothing is open: organisation names, or admins
    contacts: list[str] = field(default_factory=list)
    reportable: bool = False


def calls(store: SqlStore, reader: Principal, d: diag.Diagnostic) -> list[Call]:
    """The calls of ``reader``'s diagnostic ``d``, most urgent first."""
    entries = [r.entry for r in d.entries]
    names = {o.slug: o.name for o in store.list_organisations()}
    form_entry = _form_entries(store, entries)
    open_forms = [f for f in store.list_forms() if f.form_id in form_entry]
    pilots = _pilots(store, reader, form_entry, entries)
    missing = diag.missing_by_unit(d) if d.units is not None else None
    unit_names = [] if d.units is None else [str(n) for n in d.units["name"]]
    out = []
    for r in d.entries:
        e = r.entry
        if missing is not None and unit_names:
            where = [n for n, m in zip(unit_names, missing, strict=True) if e.key in m]
            share = len(where) / len(unit_names)
        else:
            where, share = [], 0.0 if r.details else 1.0
        cells_missing = cells_settled = 0
        if e.key == BUILDINGS and d.cells is not None:
            cells_missing = int(d.cells["missing"].sum())
            cells_settled = int(d.cells["settled"].sum())
        cell_share = cells_missing / cells_settled if cells_settled else 0.0
        if not rules.needs_call(r.level, max(share, cell_share)):
            continue
        call = Call(
            key=e.key,
            kind="buildings" if cells_missing else "entry",
            title=e.title,
            why=e.why,
            category=e.category,
            level=r.level,
            priority=rules.priority(r.level, e.category, max(share, cell_share)),
            units=where,
            missing_share=round(share, 3),
            cells_missing=cells_missing,
            cells_settled=cells_settled,
            reportable=e.key in rules.REPORTABLE,
        )
        mine = [f for f in open_forms if form_entry[f.form_id] == e.key]
        _offer_forms(call, mine, reader, names)
        call.campaigns = _campaigns(reader, pilots, e.key, d, where)
        if not mine and not call.campaigns:
            call.contacts = _contacts(r.details, names)
        out.append(call)
    out.sort(key=lambda c: (-c.priority, c.key))
    return out


def _form_entries(store: SqlStore, entries: list[Entry]) -> dict[str, str]:
    """Form id → the reference entry its target answers (the diagnostic's
    keyword rule on the target dataset, else on the form's id and title)."""
    out = {}
    for f in store.list_forms():
        candidate = Candidate(f.form_id, f.title)
        if f.dataset:
            try:
                ds = store.get_dataset(f.dataset)
                candidate = Candidate(
                    ds.slug, ds.title, ds.theme, ds.kind, ds.geometry_type or ""
                )
            except NotFound:
                pass
        found = [k for k, slugs in assign(entries, [candidate]).items() if slugs]
        if found:
            out[f.form_id] = found[0]
    return out


def _offer_forms(
    call: Call, forms: list[Form], reader: Principal, names: dict[str, str]
) -> None:
    for f in forms:
        if access.can_collect(reader, f.organisation):
            call.forms.append(
                {
                    "id": f.form_id,
                    "title": f.title,
                    "organisation": names.get(f.organisation, f.organisation),
                }
            )
        elif not reader.authenticated:
            call.forms_need_sign_in = True
        else:
            org = names.get(f.organisation, f.organisation)
            if org not in call.forms_need_membership:
                call.forms_need_membership.append(org)


@dataclass
class _Pilot:
    """An active campaign, as calls need it (computed once per request)."""

    campaign: Campaign
    #: the entries it collects (through its forms or its dataset)
    collects: set[str]
    #: no form nor dataset: a mapping campaign (counts for buildings)
    generic: bool
    area: shapely.Geometry
    mapped_pct: float


def _pilots(
    store: SqlStore,
    reader: Principal,
    form_entry: dict[str, str],
    entries: list[Entry],
) -> list[_Pilot]:
    out = []
    for c in campaign_service.visible_campaigns(store, reader):
        if c.status is not CampaignStatus.ACTIVE:
            continue
        forms = campaign_service.campaign_forms(store, c)
        target = _dataset_entry(store, c.dataset, entries)
        collects = {form_entry[f.form_id] for f in forms if f.form_id in form_entry}
        if target:
            collects.add(target)
        cells = store.list_cells(c.slug)
        done = campaign_service.progress(cells)["mapped_pct"] if cells else 0.0
        generic = not forms and not c.dataset
        out.append(_Pilot(c, collects, generic, shapely.from_wkt(c.area_wkt), done))
    return out


def _campaigns(
    reader: Principal,
    pilots: list[_Pilot],
    key: str,
    d: diag.Diagnostic,
    where: list[str],
) -> list[dict[str, Any]]:
    """Active campaigns that collect this entry (their forms or dataset), or,
    for buildings, mapping campaigns that cover cells where they are missing."""
    out = []
    for p in pilots:
        collects = key in p.collects or (
            key == BUILDINGS and p.generic and _covers_gaps(d, p.area)
        )
        if not collects:
            continue
        out.append(
            {
                "slug": p.campaign.slug,
                "title": p.campaign.title,
                "ends": p.campaign.ends,
                "mapped_pct": p.mapped_pct,
                "units": _units_in(d, p.area, where),
                "may_map": access.can_map_campaign(reader, p.campaign),
            }
        )
    return out


def _dataset_entry(
    store: SqlStore, slug: str | None, entries: list[Entry]
) -> str | None:
    if not slug:
        return None
    try:
        ds = store.get_dataset(slug)
    except NotFound:
        return None
    c = Candidate(ds.slug, ds.title, ds.theme, ds.kind, ds.geometry_type or "")
    return next((k for k, s in assign(entries, [c]).items() if s), None)


def _in_working_crs(d: diag.Diagnostic, area: shapely.Geometry) -> shapely.Geometry:
    frame = d.units if d.units is not None else d.cells
    crs = frame.crs if frame is not None else 4326
    return gpd.GeoSeries([area], crs=4326).to_crs(crs).iloc[0]


def _covers_gaps(d: diag.Diagnostic, area: shapely.Geometry) -> bool:
    if d.cells is None:
        return False
    shape = _in_working_crs(d, area)
    gaps = d.cells.geometry[d.cells["missing"].to_numpy(dtype=bool)]
    return bool(gaps.intersects(shape).any())


def _units_in(
    d: diag.Diagnostic, area: shapely.Geometry, where: list[str]
) -> list[str]:
    """The call's quartiers the campaign's area touches."""
    if d.units is None or not where:
        return []
    shape = _in_working_crs(d, area)
    # sharing an edge is not covering: some area in common
    hit = d.units[d.units.geometry.intersection(shape).area > 0]
    return [str(n) for n in hit["name"] if str(n) in where]


def _contacts(details: list[dict[str, Any]], names: dict[str, str]) -> list[str]:
    """The stewards (else holders) of the entry's datasets the reader sees;
    empty: the platform's administrators."""
    orgs = [x["steward"] or x["holder"] for x in details]
    return sorted({names.get(o, o) for o in orgs if o})


def to_json(found: list[Call], d: diag.Diagnostic, lang: str = "fr") -> dict[str, Any]:
    """The calls as JSON (``quartier calls --json``, ``GET /api/calls``)."""
    entries = {r.entry.key: r.entry for r in d.entries}
    en = lang == "en"
    items = []
    for c in found:
        e = entries[c.key]
        items.append(
            {
                "key": c.key,
                "kind": c.kind,
                "title": (e.title_en or e.title) if en else e.title,
                "why": (e.why_en or e.why) if en else e.why,
                "category": c.category,
                "level": c.level,
                "priority": c.priority,
                "missing_in": c.units,
                "missing_share": c.missing_share,
                "cells_missing": c.cells_missing,
                "cells_settled": c.cells_settled,
                "forms": c.forms,
                "forms_need_sign_in": c.forms_need_sign_in,
                "forms_need_membership": c.forms_need_membership,
                "campaigns": c.campaigns,
                "contacts": c.contacts,
                "contact_admins": not (c.forms or c.campaigns or c.contacts),
                "report_page": "/signalements" if c.reportable else None,
            }
        )
    return {"created": d.created, "score": d.score, "calls": items}

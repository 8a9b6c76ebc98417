"""Mapping campaigns: create one over an area, take and map its cells,
validate them, follow progress. Every decision asks ``access``.

The grid is computed in the workspace's metric CRS (the grid functions of
``analysis.suitability``), cells that overlap the area are kept whole (not
clipped: a cell is a unit of work, a sliver would be a task of its own), then
stored in EPSG:4326. A grid of more than ``MAX_CELLS`` cells is refused.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import replace
from typing import Any

import geopandas as gpd
import shapely

from quartier import access
from quartier.access import Principal
from quartier.domain.campaigns import (
    MAX_CELLS,
    Action,
    Campaign,
    CampaignStatus,
    Cell,
    CellEvent,
    CellState,
    Grid,
    Outcome,
    check_slug,
    stamp,
)
from quartier.domain.forms import Form
from quartier.errors import InvalidInput, NotFound, PermissionDenied
from quartier.storage.base import SqlStore

MIN_CELL_M, MAX_CELL_M = 10.0, 10_000.0


# ------------------------------------------------------------------ areas
def area_from_geojson(data: Any) -> shapely.Geometry:
    """A (multi)polygon from GeoJSON: a geometry, a Feature or a collection."""
    try:
        if isinstance(data, str):
            data = json.loads(data)
        if data.get("type") == "FeatureCollection":
            geoms = [shapely.geometry.shape(f["geometry"]) for f in data["features"]]
        elif data.get("type") == "Feature":
            geoms = [shapely.geometry.shape(data["geometry"])]
        else:
            geoms = [shapely.geometry.shape(data)]
    except (
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        shapely.errors.ShapelyError,
    ) as e:
        raise InvalidInput(f"area: not a GeoJSON geometry or features ({e})") from None
    return _polygonal(shapely.union_all(geoms), "area")


def area_from_bbox(bbox: tuple[float, float, float, float]) -> shapely.Geometry:
    x0, y0, x1, y1 = bbox
    if not (-180 <= x0 < x1 <= 180 and -90 <= y0 < y1 <= 90):
        raise InvalidInput(
            "bbox: expected min_lon,min_lat,max_lon,max_lat in degrees (EPSG:4326)"
        )
    return shapely.box(x0, y0, x1, y1)


def area_from_dataset(
    store: SqlStore, who: Principal, slug: str, field: str, value: str
) -> shapely.Geometry:
    """The union of a readable dataset's features whose ``field`` is ``value``
    (a field ``who`` may see: a sensitive one is as unknown as a missing one,
    and is neither filtered on nor named)."""
    try:
        ds = access.require_read(who, store.get_dataset(slug))
    except NotFound:
        raise InvalidInput(f"area dataset: no dataset {slug!r}") from None
    batches = list(store.read_batches(ds.slug))
    columns = batches[0].schema.names if batches else []
    names = set(access.visible_columns(who, ds, columns)) - {"geometry"}
    if field not in names:
        raise InvalidInput(
            f"area dataset {slug!r} has no field {field!r} "
            f"(fields: {', '.join(sorted(names))})"
        )
    wkbs = [
        row["geometry"]
        for batch in batches
        for row in batch.to_pylist()
        if str(row.get(field)) == value and row.get("geometry")
    ]
    if not wkbs:
        raise InvalidInput(f"area dataset {slug!r}: no feature with {field}={value}")
    return _polygonal(shapely.union_all(shapely.from_wkb(wkbs)), "area dataset")


def _polygonal(geom: shapely.Geometry, what: str) -> shapely.Geometry:
    if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise InvalidInput(f"{what}: expected a polygon or multipolygon")
    x0, y0, x1, y1 = geom.bounds
    if x0 < -180 or x1 > 180 or y0 < -90 or y1 > 90:
        raise InvalidInput(f"{what}: coordinates must be longitude/latitude (4326)")
    return shapely.make_valid(geom)


# ------------------------------------------------------------------- grid
def grid_cells(
    area: shapely.Geometry, grid: Grid, size_m: float, crs: Any
) -> list[str]:
    """Cells of ``size_m`` (metric ``crs``) overlapping ``area`` (4326), as WKT."""
    from quartier.analysis.suitability import GRIDS

    if not MIN_CELL_M <= size_m <= MAX_CELL_M:
        raise InvalidInput(
            f"cell size: {size_m:g} m; expected {MIN_CELL_M:g} to {MAX_CELL_M:g} m"
        )
    metric = gpd.GeoSeries([area], crs=4326).to_crs(crs).iloc[0]
    x0, y0, x1, y1 = metric.bounds
    if (x1 - x0) * (y1 - y0) / size_m**2 > 20 * MAX_CELLS:
        raise InvalidInput(_too_many(metric.area / size_m**2, size_m, metric.area))
    cells = GRIDS[grid.value](metric, size_m, crs=crs)
    overlap = shapely.area(shapely.intersection(cells.geometry.values, metric))
    cells = cells[overlap > 1e-6 * size_m**2]  # not those only touching it
    if len(cells) > MAX_CELLS:
        raise InvalidInput(_too_many(len(cells), size_m, metric.area))
    if len(cells) == 0:
        raise InvalidInput("area: too small for one cell")
    back = cells.to_crs(4326).geometry.values
    return [shapely.to_wkt(g, rounding_precision=7) for g in back]


def _too_many(n: float, size_m: float, area_m2: float) -> str:
    larger = math.ceil(math.sqrt(area_m2 / MAX_CELLS) / 10) * 10
    return (
        f"cell size: about {n:,.0f} cells of {size_m:g} m, more than {MAX_CELLS:,}: "
        f"choose larger cells (at least {larger:g} m) or a smaller area"
    )


def _metric_crs(store: SqlStore, area: shapely.Geometry) -> Any:
    try:
        return store.get_workspace().working_crs
    except NotFound:
        return gpd.GeoSeries([area], crs=4326).estimate_utm_crs()


# -------------------------------------------------------------- campaigns
def create_campaign(
    store: SqlStore,
    draft: Campaign,
    area: shapely.Geometry,
    *,
    actor: Principal,
    now: dt.datetime | None = None,
) -> tuple[Campaign, int]:
    """Check and store a campaign with its grid; (campaign, number of cells).
    ``draft.area_wkt`` is ignored: ``area`` (EPSG:4326) is stored."""
    check_slug(draft.slug)
    try:
        store.get_organisation(draft.organisation)
    except NotFound:
        raise InvalidInput(
            f"organisation: no organisation {draft.organisation!r}"
        ) from None
    access.require_manage_campaign(actor, draft.organisation)
    _check(store, actor, draft)
    cells = grid_cells(area, draft.grid, draft.cell_size, _metric_crs(store, area))
    made = replace(
        draft,
        area_wkt=shapely.to_wkt(area, rounding_precision=7),
        created=stamp(now or dt.datetime.now(dt.UTC)),
        author=actor.label,
    )
    return store.add_campaign(made, cells), len(cells)


def update_campaign(
    store: SqlStore, who: Principal, slug: str, **changes: Any
) -> Campaign:
    """Change status, texts, dates, forms… (not the area or the grid)."""
    current = visible(store, who, slug)
    access.require_manage_campaign(who, current.organisation)
    fixed = {"slug", "area_wkt", "grid", "cell_size", "organisation", "created"}
    if bad := set(changes) & fixed:
        raise InvalidInput(f"{', '.join(sorted(bad))}: fixed once the grid is made")
    changed = replace(current, **changes)
    _check(store, who, changed)
    return store.update_campaign(changed)


def _check(store: SqlStore, who: Principal, c: Campaign) -> None:
    if not c.title.strip():
        raise InvalidInput("title: must not be empty")
    if not 5 <= c.lock_minutes <= 7 * 24 * 60:
        raise InvalidInput("lock_minutes: expected 5 to 10080 (a week)")
    for name in ("starts", "ends"):
        value = getattr(c, name)
        if value:
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                raise InvalidInput(f"{name}: expected a date YYYY-MM-DD") from None
    if c.starts and c.ends and c.ends < c.starts:
        raise InvalidInput("ends: before starts")
    known = {f.form_id: f for f in store.list_forms()}
    for form_id in c.forms:
        form = known.get(form_id)
        if form is None or form.organisation != c.organisation:
            raise InvalidInput(
                f"forms: no form {form_id!r} of organisation {c.organisation!r}"
            )
    if c.dataset:
        try:
            access.require_read(who, store.get_dataset(c.dataset))
        except NotFound:
            raise InvalidInput(f"dataset: no dataset {c.dataset!r}") from None


def visible(store: SqlStore, who: Principal, slug: str) -> Campaign:
    """The campaign if ``who`` may see it (else: not found)."""
    return access.require_see_campaign(who, store.get_campaign(slug))


def visible_campaigns(store: SqlStore, who: Principal) -> list[Campaign]:
    return [c for c in store.list_campaigns() if access.can_see_campaign(who, c)]


def campaign_forms(store: SqlStore, c: Campaign) -> list[Form]:
    """The forms listed by the campaign and those naming it (``--campaign``),
    of the campaign's organisation only."""
    return [
        f
        for f in store.list_forms()
        if (f.form_id in c.forms or f.campaign == c.slug)
        and access.campaign_form(c, f.organisation)
    ]


def shown_forms(store: SqlStore, who: Principal, c: Campaign) -> list[Form]:
    """The campaign's forms ``who`` may fill (none for the others: they are
    told to sign in or join the organisation)."""
    if not access.can_see_campaign_forms(who, c):
        return []
    return campaign_forms(store, c)


def shown_dataset(store: SqlStore, who: Principal, c: Campaign) -> str | None:
    """The target dataset's slug if ``who`` may read that dataset."""
    if not c.dataset:
        return None
    try:
        ds = store.get_dataset(c.dataset)
    except NotFound:
        return None
    return c.dataset if access.can_see_campaign_dataset(who, c, ds) else None


# ------------------------------------------------------------------ cells
def act(
    store: SqlStore,
    who: Principal,
    slug: str,
    cell: int,
    action: Action,
    *,
    comment: str = "",
    now: dt.datetime | None = None,
) -> Outcome:
    """Take, give up, mark mapped, validate or invalidate one cell. A retry
    of what the caller just did returns the cell unchanged; the caller's
    rights (and the campaign's status) are checked again in the store's
    transaction, on the campaign as it is then."""
    c = visible(store, who, slug)
    access.require_signed_in(who)

    def may_work(fresh: Campaign) -> None:
        if not access.can_map_campaign(who, fresh):
            raise PermissionDenied(
                f"{who.label} may not work on campaign {slug!r}"
                + (
                    ""
                    if fresh.status is CampaignStatus.ACTIVE
                    else f": it is {fresh.status}"
                )
            )

    may_work(c)
    if len(comment) > 2000:
        raise InvalidInput("comment: 2000 characters at most")
    return store.transition_cell(
        slug,
        cell,
        action,
        user=who.label,
        now=now or dt.datetime.now(dt.UTC),
        may_validate=access.can_validate_campaign(who, c),
        comment=comment,
        names=access.can_see_contributors(who, c),
        check=may_work,  # the rights again, on the campaign as locked for the write
    )


def progress(cells: list[Cell], now: dt.datetime | None = None) -> dict[str, Any]:
    """Cells by state and the shares mapped and validated — by count of
    cells (all cells of a grid are about the same size). Mapped counts
    mapped and validated cells, as the Tasking Manager does."""
    now = now or dt.datetime.now(dt.UTC)
    by_state = {s.value: 0 for s in CellState}
    for cell in cells:
        by_state[cell.shown_state(now).value] += 1
    settled = {s.value: 0 for s in CellState}
    for cell in cells:
        settled[cell.state.value] += 1
    total = len(cells) or 1
    done = settled["mapped"] + settled["validated"]
    return {
        "cells": len(cells),
        "by_state": by_state,
        "mapped_pct": round(100 * done / total, 1),
        "validated_pct": round(100 * settled["validated"] / total, 1),
    }


def history(
    store: SqlStore, who: Principal, c: Campaign, cell: int
) -> list[dict[str, Any]]:
    """A cell's events; names only for those who may see contributors (and
    the caller's own)."""
    store.get_cell(c.slug, cell)  # not found → 404
    names = access.can_see_contributors(who, c)
    return [
        _event_json(e, e.actor if names or e.actor == who.username else "")
        for e in store.list_cell_events(c.slug, cell=cell)
    ]


def _event_json(e: CellEvent, actor: str) -> dict[str, Any]:
    return {
        "at": e.at,
        "actor": actor,
        "action": e.action.value,
        "from": e.from_state.value,
        "to": e.to_state.value,
        "comment": e.comment,
    }


def stats(store: SqlStore, who: Principal, c: Campaign) -> dict[str, Any]:
    """Progress, activity per day, submissions by status and per-contributor
    figures (every contributor for validators and managers; otherwise only
    the caller's own row)."""
    events = store.list_cell_events(c.slug)
    users: dict[str, dict[str, Any]] = {}
    days: dict[str, dict[str, int]] = {}
    keys = {
        Action.MAPPED: "mapped",
        Action.VALIDATE: "validated",
        Action.INVALIDATE: "invalidated",
    }
    for e in events:
        key = keys.get(e.action)
        if key is None:
            continue
        _user(users, e.actor)[key] += 1
        day = days.setdefault(e.at[:10], {k: 0 for k in keys.values()})
        day[key] += 1
    totals: dict[str, int] = {}
    for form in campaign_forms(store, c):
        for sub in store.list_submissions(form_id=form.form_id, limit=None):
            status = sub.status.value
            totals[status] = totals.get(status, 0) + 1
            subs = _user(users, sub.submitter)["submissions"]
            subs[status] = subs.get(status, 0) + 1
    names = access.can_see_contributors(who, c)
    shown = [
        {"user": name, **row}
        for name, row in sorted(users.items())
        if names or name == who.username
    ]
    return {
        **progress(store.list_cells(c.slug)),
        "contributors": len(users),
        "submissions": totals,
        "activity": [{"date": d, **v} for d, v in sorted(days.items())],
        "users": shown,
        "users_complete": names,
    }


def _user(users: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    return users.setdefault(
        name, {"mapped": 0, "validated": 0, "invalidated": 0, "submissions": {}}
    )

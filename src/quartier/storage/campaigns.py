"""Mapping campaigns, their task cells and the cells' history (both stores).

A mixin of :class:`~quartier.storage.base.SqlStore`. A cell transition is one
transaction: it first touches the campaign's row (PostgreSQL then holds that
row's lock until commit, so transitions of one campaign run one at a time; a
GeoPackage has a single writer anyway), applies the pure rule of
:func:`quartier.domain.campaigns.transition`, writes the cell with an UPDATE
conditional on the state it read, and appends the event. Of two people taking
the same cell at once, exactly one wins; the other gets a conflict. The
campaign's status is checked inside that transaction (cells change only while
it is active), and a retry of the cell's last event writes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

import sqlalchemy as sa

from quartier.domain.campaigns import (
    Action,
    Campaign,
    CampaignStatus,
    Cell,
    CellEvent,
    CellState,
    Grid,
    Outcome,
    transition,
)
from quartier.errors import Conflict, NotFound
from quartier.storage import schema as s

_C, _K, _E = s.campaigns, s.campaign_cells, s.campaign_events


class CampaignsMixin:
    def _read(self) -> AbstractContextManager[sa.Connection]:
        raise NotImplementedError  # supplied by SqlStore

    def _write(self) -> AbstractContextManager[sa.Connection]:
        raise NotImplementedError  # supplied by SqlStore

    # -------------------------------------------------------------- campaigns
    def add_campaign(self, campaign: Campaign, cells: Sequence[str]) -> Campaign:
        """Store a campaign and its grid (cell geometries as WKT, EPSG:4326,
        numbered from 1) in one transaction; an existing slug is a conflict."""
        with self._write() as conn:
            if conn.execute(
                sa.select(_C.c.slug).where(_C.c.slug == campaign.slug)
            ).first():
                raise Conflict(f"campaign {campaign.slug!r} already exists")
            conn.execute(_C.insert().values(**_campaign_row(campaign), touched=""))
            if cells:
                conn.execute(
                    _K.insert(),
                    [
                        {
                            "campaign": campaign.slug,
                            "cell": i,
                            "geometry": wkt,
                            "state": CellState.READY.value,
                            "locked_by": "",
                            "locked_until": "",
                            "lock_kind": "",
                            "mapped_by": "",
                            "validated_by": "",
                            "updated": campaign.created,
                        }
                        for i, wkt in enumerate(cells, start=1)
                    ],
                )
        return self.get_campaign(campaign.slug)

    def get_campaign(self, slug: str) -> Campaign:
        with self._read() as conn:
            row = (
                conn.execute(sa.select(_C).where(_C.c.slug == slug)).mappings().first()
            )
        if row is None:
            raise NotFound(f"no campaign {slug!r}")
        return _campaign(row)

    def list_campaigns(self) -> list[Campaign]:
        """Every campaign, newest first."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(_C).order_by(_C.c.created.desc(), _C.c.slug)
            ).mappings()
            return [_campaign(r) for r in rows]

    def update_campaign(self, campaign: Campaign) -> Campaign:
        """Change a campaign's description, status, dates, forms… (its area and
        grid stay: they are the cells' identity)."""
        row = _campaign_row(campaign)
        for fixed in ("slug", "area", "grid", "cell_size", "created", "author"):
            row.pop(fixed)
        with self._write() as conn:
            done = conn.execute(
                _C.update().where(_C.c.slug == campaign.slug).values(row)
            )
            if done.rowcount == 0:
                raise NotFound(f"no campaign {campaign.slug!r}")
        return self.get_campaign(campaign.slug)

    # ------------------------------------------------------------------ cells
    def list_cells(self, slug: str) -> list[Cell]:
        with self._read() as conn:
            rows = conn.execute(
                sa.select(_K).where(_K.c.campaign == slug).order_by(_K.c.cell)
            ).mappings()
            return [_cell(r) for r in rows]

    def get_cell(self, slug: str, cell: int) -> Cell:
        with self._read() as conn:
            row = _cell_row(conn, slug, cell)
        return _cell(row)

    def transition_cell(
        self,
        slug: str,
        cell: int,
        action: Action,
        *,
        user: str,
        now: dt.datetime,
        may_validate: bool,
        comment: str = "",
        names: bool = False,
        check: Callable[[Campaign], None] | None = None,
    ) -> Outcome:
        """Apply one action to a cell (rules: ``domain.campaigns.transition``;
        ``names``: may ``user`` see who holds a cell). Only while the campaign
        is active (checked in the transaction: a conflict otherwise);
        ``check`` is called with the campaign as read in the transaction (its
        row locked) and may raise to refuse. A retry of the cell's last event
        by the same user changes and records nothing (``Outcome.repeated``)."""
        with self._write() as conn:
            touched = (
                conn.execute(
                    _C.update()
                    .where(_C.c.slug == slug)
                    .values(touched=now.isoformat())
                    .returning(*_C.c)
                )
                .mappings()
                .first()
            )
            if touched is None:
                raise NotFound(f"no campaign {slug!r}")
            fresh = _campaign(touched)
            if fresh.status is not CampaignStatus.ACTIVE:
                raise Conflict(
                    f"campaign {slug!r} is {fresh.status}: its cells change only "
                    "while it is active"
                )
            if check is not None:
                check(fresh)
            before = _cell(_cell_row(conn, slug, cell))
            last = (
                conn.execute(
                    sa.select(_E)
                    .where((_E.c.campaign == slug) & (_E.c.cell == cell))
                    .order_by(_E.c.id.desc())
                    .limit(1)
                )
                .mappings()
                .first()
            )
            if action is Action.LOCK:
                _one_lock_per_user(conn, slug, cell, user, now)
            outcome = transition(
                before,
                action,
                user=user,
                now=now,
                may_validate=may_validate,
                lock_minutes=fresh.lock_minutes,
                comment=comment,
                last=_event(last) if last is not None else None,
                names=names,
            )
            if outcome.repeated:
                return outcome
            after = outcome.cell
            done = conn.execute(
                _K.update()
                .where(
                    (_K.c.campaign == slug)
                    & (_K.c.cell == cell)
                    & (_K.c.state == before.state.value)
                    & (_K.c.locked_by == before.locked_by)
                    & (_K.c.locked_until == before.locked_until)
                )
                .values(
                    state=after.state.value,
                    locked_by=after.locked_by,
                    locked_until=after.locked_until,
                    lock_kind=after.lock_kind,
                    mapped_by=after.mapped_by,
                    validated_by=after.validated_by,
                    updated=after.updated,
                )
            )
            if done.rowcount != 1:
                raise Conflict(f"cell {cell} changed meanwhile: reload and try again")
            ev = outcome.event
            conn.execute(
                _E.insert().values(
                    campaign=slug,
                    cell=cell,
                    at=ev.at,
                    actor=ev.actor,
                    action=ev.action.value,
                    from_state=ev.from_state.value,
                    to_state=ev.to_state.value,
                    comment=ev.comment,
                )
            )
        return outcome

    def list_cell_events(
        self, slug: str, *, cell: int | None = None
    ) -> list[CellEvent]:
        """A campaign's history (or one cell's), oldest first."""
        query = sa.select(_E).where(_E.c.campaign == slug)
        if cell is not None:
            query = query.where(_E.c.cell == cell)
        with self._read() as conn:
            rows = conn.execute(query.order_by(_E.c.id)).mappings()
            return [_event(r) for r in rows]


def _one_lock_per_user(
    conn: sa.Connection, slug: str, cell: int, user: str, now: dt.datetime
) -> None:
    rows = conn.execute(
        sa.select(_K).where(
            (_K.c.campaign == slug) & (_K.c.locked_by == user) & (_K.c.cell != cell)
        )
    ).mappings()
    for row in rows:
        if _cell(row).holder(now):
            raise Conflict(
                f"{user} already holds cell {row['cell']} of this campaign: "
                "finish it or release it first (one cell at a time)"
            )


def _cell_row(conn: sa.Connection, slug: str, cell: int) -> Any:
    row = (
        conn.execute(sa.select(_K).where((_K.c.campaign == slug) & (_K.c.cell == cell)))
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"campaign {slug!r} has no cell {cell}")
    return row


def _campaign_row(c: Campaign) -> dict[str, Any]:
    return {
        "slug": c.slug,
        "title": c.title,
        "description": c.description,
        "instructions": c.instructions,
        "organisation": c.organisation,
        "area": c.area_wkt,
        "grid": c.grid.value,
        "cell_size": float(c.cell_size),
        "status": c.status.value,
        "public": bool(c.public),
        "forms": json.dumps(list(c.forms)),
        "dataset": c.dataset,
        "starts": c.starts,
        "ends": c.ends,
        "lock_minutes": int(c.lock_minutes),
        "created": c.created,
        "author": c.author,
    }


def _campaign(row: Any) -> Campaign:
    return Campaign(
        slug=row["slug"],
        title=row["title"],
        organisation=row["organisation"] or "",
        area_wkt=row["area"],
        grid=Grid(row["grid"]),
        cell_size=float(row["cell_size"]),
        description=row["description"],
        instructions=row["instructions"],
        status=CampaignStatus(row["status"]),
        public=bool(row["public"]),
        forms=tuple(json.loads(row["forms"] or "[]")),
        dataset=row["dataset"],
        starts=row["starts"],
        ends=row["ends"],
        lock_minutes=int(row["lock_minutes"]),
        created=row["created"],
        author=row["author"],
    )


def _cell(row: Any) -> Cell:
    return Cell(
        campaign=row["campaign"],
        cell=int(row["cell"]),
        geometry_wkt=row["geometry"],
        state=CellState(row["state"]),
        locked_by=row["locked_by"],
        locked_until=row["locked_until"],
        lock_kind=row["lock_kind"],
        mapped_by=row["mapped_by"],
        validated_by=row["validated_by"],
        updated=row["updated"],
    )


def _event(row: Any) -> CellEvent:
    return CellEvent(
        campaign=row["campaign"],
        cell=int(row["cell"]),
        at=row["at"],
        actor=row["actor"],
        action=Action(row["action"]),
        from_state=CellState(row["from_state"]),
        to_state=CellState(row["to_state"]),
        comment=row["comment"],
        id=int(row["id"]),
    )

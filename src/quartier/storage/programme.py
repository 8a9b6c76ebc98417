"""Objectives, roadmap items and their status history in the platform
tables (both stores). A status change and its event are one transaction,
conditional on the status the caller saw."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from dataclasses import asdict
from typing import Any

import sqlalchemy as sa

from quartier.domain.programme import (
    Indicator,
    Objective,
    ObjectiveStatus,
    Priority,
    RoadmapItem,
    RoadmapStatus,
    StatusEvent,
)
from quartier.errors import Conflict, InvalidInput, NotFound
from quartier.storage import schema as s

_O = s.objectives
_R = s.roadmap
_E = s.programme_events


class ProgrammeMixin:
    def _read(self) -> AbstractContextManager[sa.Connection]:
        raise NotImplementedError  # supplied by SqlStore

    def _write(self) -> AbstractContextManager[sa.Connection]:
        raise NotImplementedError  # supplied by SqlStore

    # ------------------------------------------------------------ objectives
    def add_objective(self, o: Objective) -> Objective:
        with self._write() as conn:
            if conn.execute(sa.select(_O.c.id).where(_O.c.id == o.id)).first():
                raise Conflict(f"objective {o.id!r} exists: choose another id")
            conn.execute(
                _O.insert().values(
                    id=o.id,
                    title=o.title,
                    description=o.description,
                    owner=o.owner,
                    indicators=json.dumps([asdict(i) for i in o.indicators]),
                    datasets=json.dumps(list(o.datasets)),
                    status=o.status.value,
                    created=o.created,
                    author=o.author,
                    updated=o.updated or o.created,
                    updated_by=o.updated_by or o.author,
                )
            )
            _event(conn, "objective", o.id, o.created, o.author, "", o.status.value)
        return o

    def get_objective(self, objective_id: str) -> Objective:
        with self._read() as conn:
            row = (
                conn.execute(sa.select(_O).where(_O.c.id == objective_id))
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(f"no objective {objective_id!r}")
        return _objective(row)

    def list_objectives(
        self, *, status: ObjectiveStatus | None = None
    ) -> list[Objective]:
        query = sa.select(_O).order_by(_O.c.created, _O.c.id)
        if status is not None:
            query = query.where(_O.c.status == status.value)
        with self._read() as conn:
            return [_objective(r) for r in conn.execute(query).mappings()]

    def set_objective_status(
        self,
        objective_id: str,
        status: ObjectiveStatus,
        *,
        expected: ObjectiveStatus,
        actor: str,
        at: str,
        note: str = "",
    ) -> Objective:
        """Change the status if it is still ``expected``, recording the event."""
        self._move(_O, "objective", objective_id, expected, status, actor, at, note)
        return self.get_objective(objective_id)

    def update_objective(
        self, objective_id: str, *, actor: str, at: str, **changes: Any
    ) -> Objective:
        """Change title, description, indicators or datasets."""
        values = _values(changes, ("title", "description", "indicators", "datasets"))
        if "indicators" in values:
            values["indicators"] = json.dumps(
                [asdict(i) for i in changes["indicators"]]
            )
        if "datasets" in values:
            values["datasets"] = json.dumps(list(changes["datasets"]))
        with self._write() as conn:
            done = conn.execute(
                _O.update()
                .where(_O.c.id == objective_id)
                .values(**values, updated=at, updated_by=actor)
            )
            if done.rowcount == 0:
                raise NotFound(f"no objective {objective_id!r}")
        return self.get_objective(objective_id)

    # ---------------------------------------------------------------- roadmap
    def add_roadmap_item(self, item: RoadmapItem) -> RoadmapItem:
        with self._write() as conn:
            if conn.execute(sa.select(_R.c.id).where(_R.c.id == item.id)).first():
                raise Conflict(f"roadmap item {item.id!r} exists: choose another id")
            conn.execute(
                _R.insert().values(
                    id=item.id,
                    title=item.title,
                    description=item.description,
                    organisation=item.organisation,
                    steward=item.steward,
                    target_date=item.target_date,
                    reference=item.reference,
                    dataset=item.dataset,
                    objective=item.objective,
                    priority=item.priority.value if item.priority else "",
                    status=item.status.value,
                    created=item.created,
                    author=item.author,
                    updated=item.updated or item.created,
                    updated_by=item.updated_by or item.author,
                )
            )
            _event(
                conn, "roadmap", item.id, item.created, item.author, "",
                item.status.value,
            )  # fmt: skip
        return item

    def get_roadmap_item(self, item_id: str) -> RoadmapItem:
        with self._read() as conn:
            row = (
                conn.execute(sa.select(_R).where(_R.c.id == item_id)).mappings().first()
            )
        if row is None:
            raise NotFound(f"no roadmap item {item_id!r}")
        return _item(row)

    def list_roadmap_items(
        self, *, status: RoadmapStatus | None = None, reference: str | None = None
    ) -> list[RoadmapItem]:
        query = sa.select(_R).order_by(_R.c.target_date, _R.c.id)
        if status is not None:
            query = query.where(_R.c.status == status.value)
        if reference is not None:
            query = query.where(_R.c.reference == reference)
        with self._read() as conn:
            return [_item(r) for r in conn.execute(query).mappings()]

    def set_roadmap_status(
        self,
        item_id: str,
        status: RoadmapStatus,
        *,
        expected: RoadmapStatus,
        actor: str,
        at: str,
        note: str = "",
    ) -> RoadmapItem:
        self._move(_R, "roadmap", item_id, expected, status, actor, at, note)
        return self.get_roadmap_item(item_id)

    def update_roadmap_item(
        self, item_id: str, *, actor: str, at: str, **changes: Any
    ) -> RoadmapItem:
        """Change title, description, steward, target date or links."""
        values = _values(changes, ITEM_FIELDS)
        with self._write() as conn:
            done = conn.execute(
                _R.update()
                .where(_R.c.id == item_id)
                .values(**values, updated=at, updated_by=actor)
            )
            if done.rowcount == 0:
                raise NotFound(f"no roadmap item {item_id!r}")
        return self.get_roadmap_item(item_id)

    def set_roadmap_priority(
        self, item_id: str, priority: Priority | None, *, actor: str, at: str
    ) -> RoadmapItem:
        """Choose a priority (None: follow the suggestion again)."""
        with self._write() as conn:
            done = conn.execute(
                _R.update()
                .where(_R.c.id == item_id)
                .values(
                    priority=priority.value if priority else "",
                    updated=at,
                    updated_by=actor,
                )
            )
            if done.rowcount == 0:
                raise NotFound(f"no roadmap item {item_id!r}")
        return self.get_roadmap_item(item_id)

    # ---------------------------------------------------------------- history
    def list_programme_events(self, kind: str, subject: str) -> list[StatusEvent]:
        """The status history of one objective or roadmap item, oldest first."""
        query = (
            sa.select(_E)
            .where(_E.c.kind == kind, _E.c.subject == subject)
            .order_by(_E.c.id)
        )
        with self._read() as conn:
            return [
                StatusEvent(
                    kind=r["kind"],
                    subject=r["subject"],
                    at=r["at"],
                    actor=r["actor"],
                    from_status=r["from_status"],
                    to_status=r["to_status"],
                    note=r["note"],
                )
                for r in conn.execute(query).mappings()
            ]

    def _move(
        self,
        table: sa.Table,
        kind: str,
        subject: str,
        expected: Any,
        status: Any,
        actor: str,
        at: str,
        note: str,
    ) -> None:
        what = "objective" if kind == "objective" else "roadmap item"
        with self._write() as conn:
            done = conn.execute(
                table.update()
                .where(table.c.id == subject, table.c.status == expected.value)
                .values(status=status.value, updated=at, updated_by=actor)
            )
            if done.rowcount == 0:
                row = conn.execute(
                    sa.select(table.c.status).where(table.c.id == subject)
                ).first()
                if row is None:
                    raise NotFound(f"no {what} {subject!r}")
                raise Conflict(
                    f"status: {what} {subject!r} is now {row[0]}, "
                    f"not {expected.value}; reload and try again"
                )
            _event(conn, kind, subject, at, actor, expected.value, status.value, note)


#: the roadmap item fields ``update_roadmap_item`` changes
ITEM_FIELDS = ("title", "description", "steward", "target_date", "reference",
               "dataset", "objective")  # fmt: skip


def _values(changes: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise InvalidInput(f"{', '.join(unknown)}: cannot be changed here")
    return dict(changes)


def _event(
    conn: sa.Connection,
    kind: str,
    subject: str,
    at: str,
    actor: str,
    from_status: str,
    to_status: str,
    note: str = "",
) -> None:
    conn.execute(
        _E.insert().values(
            kind=kind,
            subject=subject,
            at=at,
            actor=actor,
            from_status=from_status,
            to_status=to_status,
            note=note,
        )
    )


def _objective(row: Any) -> Objective:
    return Objective(
        id=row["id"],
        title=row["title"],
        owner=row["owner"],
        description=row["description"],
        indicators=tuple(Indicator(**i) for i in json.loads(row["indicators"])),
        datasets=tuple(json.loads(row["datasets"])),
        status=ObjectiveStatus(row["status"]),
        created=row["created"],
        author=row["author"],
        updated=row["updated"],
        updated_by=row["updated_by"],
    )


def _item(row: Any) -> RoadmapItem:
    return RoadmapItem(
        id=row["id"],
        title=row["title"],
        organisation=row["organisation"],
        steward=row["steward"],
        target_date=row["target_date"],
        reference=row["reference"],
        dataset=row["dataset"],
        objective=row["objective"],
        priority=Priority(row["priority"]) if row["priority"] else None,
        description=row["description"],
        status=RoadmapStatus(row["status"]),
        created=row["created"],
        author=row["author"],
        updated=row["updated"],
        updated_by=row["updated_by"],
    )

"""Residents' reports, their photos and their history (both stores).

A mixin of :class:`~quartier.storage.base.SqlStore`. A report, its photos
and its first event are one transaction; the client's UUID makes a retry
change nothing. The history is append-only: this module has no method that
updates or deletes an event; the report row's ``status`` and ``hidden``
columns mirror the last events, written in the same transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Any

import sqlalchemy as sa

from quartier.domain.reports import (
    Photo,
    Report,
    ReportEvent,
    ReportKind,
    ReportStatus,
)
from quartier.errors import Conflict, NotFound
from quartier.storage import schema as s

#: (content type, bytes) of a photo
PhotoData = tuple[str, bytes]
_R = s.reports


class ReportsMixin:
    def _read(self) -> AbstractContextManager[sa.Connection]:
        raise NotImplementedError  # supplied by SqlStore

    def _write(self) -> AbstractContextManager[sa.Connection]:
        raise NotImplementedError  # supplied by SqlStore

    def add_report(
        self, report: Report, photos: Iterable[PhotoData] = ()
    ) -> tuple[Report, bool]:
        """Store a report, its photos and its "created" event; (stored, new).

        The same id again for the same request (the same fields and the
        same photos, by hash) is no change; for another request, a conflict.
        """
        photos = list(photos)
        try:
            return self._add_report(report, photos)
        except sa.exc.IntegrityError:
            # the same report sent twice at once: the other request won
            return self._add_report(report, photos)

    def _add_report(
        self, report: Report, photos: list[PhotoData]
    ) -> tuple[Report, bool]:
        with self._write() as conn:
            row = conn.execute(sa.select(_R).where(_R.c.id == report.id)).mappings()
            found = row.first()
            if found is not None:
                stored = _report(found, ())
                same_photos = _photo_hashes(conn, report.id) == [
                    hashlib.sha256(data).hexdigest() for _, data in photos
                ]
                if not (stored.same_request(report) and same_photos):
                    raise Conflict(f"a different report with id {report.id!r} exists")
                new = False
            else:
                _insert(conn, report, photos)
                new = True
        return self.get_report(report.id), new

    def get_report(self, report_id: str) -> Report:
        with self._read() as conn:
            row = conn.execute(sa.select(_R).where(_R.c.id == report_id)).mappings()
            found = row.first()
            if found is None:
                raise NotFound(f"no report {report_id!r}")
            photos = _photos(conn, [report_id])
        return _report(found, photos.get(report_id, ()))

    def list_reports(
        self,
        *,
        kind: ReportKind | None = None,
        status: ReportStatus | None = None,
        category: str | None = None,
        organisations: Iterable[str] | None = None,
        dataset: str | None = None,
        reporter: str | None = None,
        hidden: bool | None = False,
        bbox: tuple[float, float, float, float] | None = None,
        limit: int | None = 100,
        offset: int = 0,
    ) -> list[Report]:
        """Newest first, filtered in SQL. ``hidden=None`` includes hidden
        reports; ``organisations`` keeps those handled by these organisations."""
        query = _filtered(
            sa.select(_R),
            kind=kind,
            status=status,
            category=category,
            organisations=organisations,
            dataset=dataset,
            reporter=reporter,
            hidden=hidden,
            bbox=bbox,
        )
        query = query.order_by(_R.c.created.desc(), _R.c.id).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        with self._read() as conn:
            rows = list(conn.execute(query).mappings())
            photos = _photos(conn, [r["id"] for r in rows])
        return [_report(r, photos.get(r["id"], ())) for r in rows]

    def count_reports(
        self,
        *,
        kind: ReportKind | None = None,
        dataset: str | None = None,
        organisations: Iterable[str] | None = None,
        hidden: bool | None = False,
    ) -> dict[str, int]:
        """Reports by status (contests: by verdict) matching the filters,
        which mean what they mean for :meth:`list_reports`."""
        column = _R.c.verdict if kind is ReportKind.CONTEST else _R.c.status
        query = _filtered(
            sa.select(column, sa.func.count()),
            kind=kind,
            dataset=dataset,
            organisations=organisations,
            hidden=hidden,
        ).group_by(column)
        with self._read() as conn:
            return {str(k): int(n) for k, n in conn.execute(query)}

    def add_report_event(
        self,
        report_id: str,
        event: ReportEvent,
        *,
        expect_status: ReportStatus | None = None,
        expect_hidden: bool | None = None,
    ) -> Report:
        """Append ``event`` to the history; the report mirrors its status
        (and, for "hidden"/"shown", its visibility).

        With ``expect_status`` / ``expect_hidden``, the report must still be
        in that state when it is written (one conditional UPDATE): a
        Conflict if another change came first, and nothing is written."""
        with self._write() as conn:
            values: dict[str, Any] = {"status": event.status.value, "updated": event.at}
            if event.action in ("hidden", "shown"):
                values["hidden"] = event.action == "hidden"
            where = _R.c.id == report_id
            if expect_status is not None:
                where &= _R.c.status == expect_status.value
            if expect_hidden is not None:
                where &= _R.c.hidden == expect_hidden
            done = conn.execute(_R.update().where(where).values(values))
            if done.rowcount == 0:
                found = conn.execute(
                    sa.select(_R.c.status, _R.c.hidden).where(_R.c.id == report_id)
                ).first()
                if found is None:
                    raise NotFound(f"no report {report_id!r}")
                raise Conflict(
                    f"report {report_id!r} changed meanwhile (now "
                    f"{found[0]}{', hidden' if found[1] else ''}): reload it "
                    "and try again"
                )
            _append(conn, report_id, event)
        return self.get_report(report_id)

    def list_report_events(self, report_id: str) -> list[ReportEvent]:
        """A report's history, oldest first."""
        e = s.report_events
        with self._read() as conn:
            rows = conn.execute(
                sa.select(e).where(e.c.report_id == report_id).order_by(e.c.seq)
            ).mappings()
            return [
                ReportEvent(
                    at=r["at"],
                    action=r["action"],
                    status=ReportStatus(r["status"]),
                    note=r["note"],
                    actor=r["actor"],
                    organisation=r["organisation"],
                    seq=r["seq"],
                )
                for r in rows
            ]

    def get_report_photo(self, report_id: str, n: int) -> tuple[str, bytes]:
        p = s.report_photos
        with self._read() as conn:
            row = conn.execute(
                sa.select(p.c.content_type, p.c.data).where(
                    (p.c.report_id == report_id) & (p.c.n == n)
                )
            ).first()
        if row is None:
            raise NotFound(f"report {report_id!r} has no photo {n}")
        return str(row[0]), bytes(row[1])


def _insert(conn: sa.Connection, report: Report, photos: list[PhotoData]) -> None:
    conn.execute(
        _R.insert().values(
            id=report.id,
            kind=report.kind.value,
            category=report.category,
            organisation=report.organisation,
            lon=report.lon,
            lat=report.lat,
            description=report.description,
            status=report.status.value,
            hidden=False,
            created=report.created,
            updated=report.created,
            name=report.name,
            contact=report.contact,
            reporter=report.reporter,
            dataset=report.dataset,
            feature_id=report.feature_id,
            dataset_version=report.dataset_version,
            verdict=report.verdict,
        )
    )
    for n, (content_type, data) in enumerate(photos, start=1):
        conn.execute(
            s.report_photos.insert().values(
                report_id=report.id,
                n=n,
                content_type=content_type,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                data=data,
            )
        )
    first = ReportEvent(
        at=report.created,
        action="created",
        status=report.status,
        actor=report.reporter,
    )
    _append(conn, report.id, first)


def _append(conn: sa.Connection, report_id: str, event: ReportEvent) -> None:
    e = s.report_events
    last = conn.execute(
        sa.select(sa.func.max(e.c.seq)).where(e.c.report_id == report_id)
    ).scalar()
    conn.execute(
        e.insert().values(
            report_id=report_id,
            seq=int(last or 0) + 1,
            at=event.at,
            action=event.action,
            status=event.status.value,
            note=event.note,
            actor=event.actor,
            organisation=event.organisation,
        )
    )


def _filtered(
    query: Any,
    *,
    kind: ReportKind | None = None,
    status: ReportStatus | None = None,
    category: str | None = None,
    organisations: Iterable[str] | None = None,
    dataset: str | None = None,
    reporter: str | None = None,
    hidden: bool | None = False,
    bbox: tuple[float, float, float, float] | None = None,
) -> Any:
    if kind is not None:
        query = query.where(_R.c.kind == kind.value)
    if status is not None:
        query = query.where(_R.c.status == status.value)
    if category is not None:
        query = query.where(_R.c.category == category)
    if organisations is not None:
        query = query.where(_R.c.organisation.in_(list(organisations)))
    if dataset is not None:
        query = query.where(_R.c.dataset == dataset)
    if reporter is not None:
        query = query.where(_R.c.reporter == reporter)
    if hidden is not None:
        query = query.where(_R.c.hidden == hidden)
    if bbox is not None:
        query = query.where(
            _R.c.lon.between(bbox[0], bbox[2]) & _R.c.lat.between(bbox[1], bbox[3])
        )
    return query


def _photo_hashes(conn: sa.Connection, report_id: str) -> list[str]:
    p = s.report_photos
    rows = conn.execute(
        sa.select(p.c.sha256).where(p.c.report_id == report_id).order_by(p.c.n)
    )
    return [str(h) for (h,) in rows]


def _photos(conn: sa.Connection, ids: list[str]) -> dict[str, tuple[Photo, ...]]:
    if not ids:
        return {}
    p = s.report_photos
    rows = conn.execute(
        sa.select(p.c.report_id, p.c.n, p.c.content_type, p.c.size)
        .where(p.c.report_id.in_(ids))
        .order_by(p.c.report_id, p.c.n)
    )
    out: dict[str, list[Photo]] = {}
    for report_id, n, content_type, size in rows:
        out.setdefault(report_id, []).append(Photo(n, content_type, size))
    return {k: tuple(v) for k, v in out.items()}


def _report(row: Any, photos: tuple[Photo, ...]) -> Report:
    return Report(
        id=row["id"],
        kind=ReportKind(row["kind"]),
        category=row["category"],
        organisation=row["organisation"],
        lon=row["lon"],
        lat=row["lat"],
        description=row["description"],
        created=row["created"],
        status=ReportStatus(row["status"]),
        updated=row["updated"],
        hidden=bool(row["hidden"]),
        name=row["name"],
        contact=row["contact"],
        reporter=row["reporter"],
        dataset=row["dataset"],
        feature_id=row["feature_id"],
        dataset_version=row["dataset_version"],
        verdict=row["verdict"],
        photos=photos,
    )

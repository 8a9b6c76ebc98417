"""Capacities and access requests in the platform tables (both stores)."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Any

import sqlalchemy as sa

from quartier.domain.ecosystem import (
    AccessRequest,
    Capacity,
    CapacityKind,
    RequestStatus,
)
from quartier.errors import Conflict, NotFound
from quartier.storage import schema as s

_C = s.capacities
_R = s.access_requests


class EcosystemMixin:
    def _read(self) -> AbstractContextManager[sa.Connection]:
        raise NotImplementedError  # supplied by SqlStore

    def _write(self) -> AbstractContextManager[sa.Connection]:
        raise NotImplementedError  # supplied by SqlStore

    # ------------------------------------------------------------ capacities
    def add_capacity(self, c: Capacity) -> Capacity:
        """Store a declaration; the same (organisation, kind, ref, label)
        twice is a :class:`Conflict`."""
        with self._write() as conn:
            same = conn.execute(
                sa.select(_C.c.id).where(
                    _C.c.organisation == c.organisation,
                    _C.c.kind == c.kind.value,
                    _C.c.ref == c.ref,
                    _C.c.label == c.label,
                )
            ).first()
            if same:
                raise Conflict(
                    f"{c.organisation!r} already declared this ({c.kind.value})"
                )
            new_id = conn.execute(
                _C.insert().values(
                    organisation=c.organisation,
                    kind=c.kind.value,
                    ref=c.ref,
                    label=c.label,
                    note=c.note,
                    created=c.created,
                    author=c.author,
                )
            ).inserted_primary_key
        assert new_id is not None
        return Capacity(
            int(new_id[0]), c.organisation, c.kind, c.ref, c.label, c.note,
            c.created, c.author,
        )  # fmt: skip

    def list_capacities(
        self,
        *,
        organisation: str | None = None,
        kind: CapacityKind | None = None,
    ) -> list[Capacity]:
        query = sa.select(_C).order_by(_C.c.organisation, _C.c.id)
        if organisation is not None:
            query = query.where(_C.c.organisation == organisation)
        if kind is not None:
            query = query.where(_C.c.kind == kind.value)
        with self._read() as conn:
            return [_capacity(r) for r in conn.execute(query).mappings()]

    def remove_capacity(self, capacity_id: int) -> Capacity:
        with self._write() as conn:
            row = (
                conn.execute(sa.select(_C).where(_C.c.id == capacity_id))
                .mappings()
                .first()
            )
            if row is None:
                raise NotFound(f"no capacity {capacity_id}")
            conn.execute(_C.delete().where(_C.c.id == capacity_id))
        return _capacity(row)

    # ------------------------------------------------------- access requests
    def add_access_request(self, r: AccessRequest) -> AccessRequest:
        """A new pending request; one pending request per requester and
        dataset (a unique index settles two sent at once)."""
        again = Conflict(f"you already have a pending request for {r.dataset!r}")
        try:
            with self._write() as conn:
                new_id = self._insert_request(conn, r, again)
        except sa.exc.IntegrityError:
            raise again from None
        assert new_id is not None
        return self.get_access_request(int(new_id[0]))

    def _insert_request(
        self, conn: sa.Connection, r: AccessRequest, again: Conflict
    ) -> Any:
        pending = conn.execute(
            sa.select(_R.c.id).where(
                _R.c.requester == r.requester,
                _R.c.dataset == r.dataset,
                _R.c.status == RequestStatus.PENDING.value,
            )
        ).first()
        if pending:
            raise again
        return conn.execute(
            _R.insert().values(
                dataset=r.dataset,
                requester=r.requester,
                organisation=r.organisation,
                purpose=r.purpose,
                starts=r.starts,
                ends=r.ends,
                status=RequestStatus.PENDING.value,
                created=r.created,
            )
        ).inserted_primary_key

    def get_access_request(self, request_id: int) -> AccessRequest:
        with self._read() as conn:
            row = (
                conn.execute(sa.select(_R).where(_R.c.id == request_id))
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(f"no access request {request_id}")
        return _request(row)

    def list_access_requests(
        self,
        *,
        requester: str | None = None,
        datasets: Iterable[str] | None = None,
        status: RequestStatus | None = None,
    ) -> list[AccessRequest]:
        """Newest first; ``requester`` and ``datasets`` filters combine with
        OR (one's own requests and those about datasets one stewards)."""
        query = sa.select(_R).order_by(_R.c.id.desc())
        either = []
        if requester is not None:
            either.append(_R.c.requester == requester)
        if datasets is not None:
            either.append(_R.c.dataset.in_(list(datasets)))
        if either:
            query = query.where(sa.or_(*either))
        if status is not None:
            query = query.where(_R.c.status == status.value)
        with self._read() as conn:
            return [_request(r) for r in conn.execute(query).mappings()]

    def decide_access_request(
        self,
        request_id: int,
        status: RequestStatus,
        *,
        by: str,
        at: str,
        reason: str = "",
        agreement: str = "",
    ) -> AccessRequest:
        """Move a *pending* request to ``status``, once: the decision is
        written in the same statement that checks the request is still
        pending, so two deciders cannot both win (the second gets a
        :class:`Conflict`)."""
        with self._write() as conn:
            done = conn.execute(
                _R.update()
                .where(
                    _R.c.id == request_id,
                    _R.c.status == RequestStatus.PENDING.value,
                )
                .values(
                    status=status.value,
                    decided_by=by,
                    decided_at=at,
                    reason=reason,
                    agreement=agreement,
                )
            )
            if done.rowcount == 0:
                row = conn.execute(
                    sa.select(_R.c.status).where(_R.c.id == request_id)
                ).first()
                if row is None:
                    raise NotFound(f"no access request {request_id}")
                raise Conflict(
                    f"access request {request_id} is already {row[0]}: "
                    "a decision is taken once"
                )
        return self.get_access_request(request_id)


def _capacity(row: Any) -> Capacity:
    return Capacity(
        id=int(row["id"]),
        organisation=row["organisation"],
        kind=CapacityKind(row["kind"]),
        ref=row["ref"],
        label=row["label"],
        note=row["note"],
        created=row["created"],
        author=row["author"],
    )


def _request(row: Any) -> AccessRequest:
    return AccessRequest(
        id=int(row["id"]),
        dataset=row["dataset"],
        requester=row["requester"],
        organisation=row["organisation"],
        purpose=row["purpose"],
        starts=row["starts"],
        ends=row["ends"],
        status=RequestStatus(row["status"]),
        created=row["created"],
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
        reason=row["reason"],
        agreement=row["agreement"],
    )

"""Data-sharing agreements in the platform tables (both stores)."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from typing import Any

import sqlalchemy as sa

from quartier.domain.agreements import Agreement, AgreementStatus
from quartier.errors import Conflict, NotFound
from quartier.storage import schema as s

_A = s.agreements


class AgreementsMixin:
    def _read(self) -> AbstractContextManager[sa.Connection]:
        raise NotImplementedError  # supplied by SqlStore

    def _write(self) -> AbstractContextManager[sa.Connection]:
        raise NotImplementedError  # supplied by SqlStore

    def add_agreement(self, a: Agreement) -> Agreement:
        with self._write() as conn:
            if conn.execute(sa.select(_A.c.id).where(_A.c.id == a.id)).first():
                raise Conflict(f"agreement {a.id!r} exists: choose another id")
            conn.execute(
                _A.insert().values(
                    id=a.id,
                    title=a.title,
                    holder=a.holder,
                    partners=json.dumps(list(a.partners)),
                    datasets=json.dumps(list(a.datasets)),
                    purpose=a.purpose,
                    starts=a.starts,
                    ends=a.ends,
                    status=a.status.value,
                    created=a.created,
                    author=a.author,
                    updated=a.updated or a.created,
                )
            )
        return a

    def get_agreement(self, agreement_id: str) -> Agreement:
        with self._read() as conn:
            row = (
                conn.execute(sa.select(_A).where(_A.c.id == agreement_id))
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(f"no agreement {agreement_id!r}")
        return _agreement(row)

    def list_agreements(
        self, *, status: AgreementStatus | None = None
    ) -> list[Agreement]:
        query = sa.select(_A).order_by(_A.c.created, _A.c.id)
        if status is not None:
            query = query.where(_A.c.status == status.value)
        with self._read() as conn:
            return [_agreement(r) for r in conn.execute(query).mappings()]

    def set_agreement_status(
        self, agreement_id: str, status: AgreementStatus, *, at: str
    ) -> Agreement:
        with self._write() as conn:
            done = conn.execute(
                _A.update()
                .where(_A.c.id == agreement_id)
                .values(status=status.value, updated=at)
            )
            if done.rowcount == 0:
                raise NotFound(f"no agreement {agreement_id!r}")
        return self.get_agreement(agreement_id)


def _agreement(row: Any) -> Agreement:
    return Agreement(
        id=row["id"],
        title=row["title"],
        holder=row["holder"],
        partners=tuple(json.loads(row["partners"])),
        datasets=tuple(json.loads(row["datasets"])),
        purpose=row["purpose"],
        starts=row["starts"],
        ends=row["ends"],
        status=AgreementStatus(row["status"]),
        created=row["created"],
        author=row["author"],
        updated=row["updated"],
    )

"""The audit log: who wrote what (and who read restricted data), newest first."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from quartier.storage import schema as s


def now() -> str:
    """A UTC timestamp as the platform tables keep them."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class AuditMixin:
    def _read(self) -> AbstractContextManager[sa.Connection]:
        raise NotImplementedError  # supplied by SqlStore

    def _write(self) -> AbstractContextManager[sa.Connection]:
        raise NotImplementedError  # supplied by SqlStore

    def audit(
        self,
        *,
        actor: str,
        action: str,
        target: str,
        detail: dict | None = None,
        at: str | None = None,
    ) -> None:
        """Record a write (or a read of restricted data) in the audit log."""
        with self._write() as conn:
            conn.execute(
                s.audit.insert().values(
                    at=at or now(),
                    actor=actor,
                    action=action,
                    target=target,
                    detail=json.dumps(detail or {}, default=str),
                )
            )

    def list_audit(
        self,
        *,
        limit: int | None = 100,
        offset: int = 0,
        actor: str | None = None,
        action: str | None = None,
        target: str | None = None,
    ) -> list[dict[str, Any]]:
        """Newest first; ``limit=None`` for the whole log.

        Filters, in SQL: ``actor`` (case-insensitive), ``action`` (exact, or a
        family: ``user`` matches ``user.add``), ``target`` (exact; a dataset's
        slug also matches its ``slug@version`` entries).
        """
        t = s.audit
        query = sa.select(t).order_by(t.c.id.desc())
        if actor:
            query = query.where(sa.func.lower(t.c.actor) == actor.casefold())
        if action:
            query = query.where(
                (t.c.action == action)
                | t.c.action.startswith(action + ".", autoescape=True)
            )
        if target:
            query = query.where(
                (t.c.target == target)
                | t.c.target.startswith(target + "@", autoescape=True)
            )
        query = query.limit(limit).offset(offset or None)
        with self._read() as conn:
            rows = conn.execute(query).mappings()
            return [dict(r, detail=json.loads(r["detail"])) for r in rows]

"""The city's reference list of essential datasets (both stores).

The list is replaced as a whole, under a revision number kept in the meta
table: two people editing at once never lose each other's change silently
(the second write is refused as stale and the service re-applies it).
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from typing import Any

import sqlalchemy as sa

from quartier.errors import StaleVersion
from quartier.storage import schema as s

_R = s.reference_entries
_REVISION = "reference_revision"


class ReferenceMixin:
    def _read(self) -> AbstractContextManager[sa.Connection]:
        raise NotImplementedError  # supplied by SqlStore

    def _write(self) -> AbstractContextManager[sa.Connection]:
        raise NotImplementedError  # supplied by SqlStore

    def reference_documents(self) -> tuple[int, list[dict[str, Any]]]:
        """The revision and the city's entries in order (none: the shipped
        list is in use)."""
        with self._read() as conn:
            revision = _revision(conn)
            rows = conn.execute(sa.select(_R.c.document).order_by(_R.c.position))
            return revision, [json.loads(r[0]) for r in rows]

    def replace_reference_documents(
        self, documents: list[dict[str, Any]], *, expect: int, at: str, author: str
    ) -> int:
        """Write the whole list (empty: back to the shipped one) if it is still
        at revision ``expect``; the new revision. Keys must be unique."""
        with self._write() as conn:
            found = _revision(conn)
            revision = expect + 1
            if found == expect == 0:
                try:  # two first writers: the meta key lets only one through
                    conn.execute(s.meta.insert().values(key=_REVISION, value="1"))
                    moved = 1
                except sa.exc.IntegrityError:  # the transaction is given up
                    moved = 0
            elif found == expect:  # compare and set: serialises writers
                moved = conn.execute(
                    s.meta.update()
                    .where(s.meta.c.key == _REVISION, s.meta.c.value == str(expect))
                    .values(value=str(revision))
                ).rowcount
            else:
                moved = 0
            if not moved:
                raise StaleVersion(
                    "reference list: changed meanwhile (expected revision "
                    f"{expect}); reload and try again"
                )
            conn.execute(_R.delete())
            if documents:
                conn.execute(
                    _R.insert(),
                    [
                        {
                            "key": d["key"],
                            "position": n,
                            "document": json.dumps(d, ensure_ascii=False),
                            "updated": at,
                            "author": author,
                        }
                        for n, d in enumerate(documents)
                    ],
                )
        return revision


def _revision(conn: sa.Connection) -> int:
    row = conn.execute(
        sa.select(s.meta.c.value).where(s.meta.c.key == _REVISION)
    ).first()
    return int(row[0]) if row else 0

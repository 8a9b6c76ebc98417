"""Raw copies of platform tables, for migration between stores.

Rows travel as they are (hashes, blobs, dates); a table whose key is an
auto-numbered ``id`` gets new numbers in the target, in the same order, so
the target's own numbering goes on from there.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

import sqlalchemy as sa

from quartier.storage import schema as s

Rows = dict[str, list[dict[str, Any]]]


class RowsMixin:
    def _read(self) -> AbstractContextManager[sa.Connection]:
        raise NotImplementedError  # supplied by SqlStore

    def _write(self) -> AbstractContextManager[sa.Connection]:
        raise NotImplementedError  # supplied by SqlStore

    def dump_rows(self, names: Sequence[str]) -> Rows:
        """Every row of the platform tables ``names`` (attribute names of
        :mod:`quartier.storage.schema`), in key order."""
        out: Rows = {}
        with self._read() as conn:
            for name in names:
                table: sa.Table = getattr(s, name)
                rows = conn.execute(
                    sa.select(table).order_by(*table.primary_key.columns)
                ).mappings()
                drop = _numbered(table)
                out[name] = [{k: v for k, v in r.items() if k != drop} for r in rows]
        return out

    def load_rows(self, dump: Rows) -> None:
        """Insert rows from :meth:`dump_rows`, all in one transaction."""
        with self._write() as conn:
            for name, rows in dump.items():
                if rows:
                    conn.execute(getattr(s, name).insert(), rows)


def _numbered(table: sa.Table) -> str | None:
    """The auto-numbered key column, if the table has one."""
    keys = list(table.primary_key.columns)
    if len(keys) == 1 and keys[0].autoincrement is True:
        return keys[0].name
    return None

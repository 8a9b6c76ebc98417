"""Statistics tables joined to the workspace's admin units (quartiers)."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from quartier.errors import InvalidInput, NotFound
from quartier.io.tables import join_to_units
from quartier.storage.base import SqlStore


def admin_units(store: SqlStore) -> pd.DataFrame | None:
    """``code``, ``name`` and ``level`` of the workspace's admin units, if any."""
    try:
        ws = store.get_workspace()
    except NotFound:
        return None
    if not ws.admin_dataset:
        return None
    rows = [
        {"code": r["code"], "name": r["name"], "level": r["level"]}
        for batch in store.read_batches(ws.admin_dataset)
        for r in batch.select(["code", "name", "level"]).to_pylist()
    ]
    return pd.DataFrame(rows, columns=["code", "name", "level"])


def join_statistics(
    store: SqlStore,
    table: pa.Table,
    *,
    by: str | None = None,
    column: str | None = None,
) -> tuple[pa.Table, list[str]]:
    """Add a ``unit_code`` column matching each row to an admin unit.

    Rows are matched by code, or by name compared without accents, case or
    extra spaces. Returns the table (unchanged when there are no admin units
    or, without an explicit ``by``/``column``, no column that matches) and
    report notes listing every unmatched row with a suggestion.
    """
    units = admin_units(store)
    explicit = by is not None or column is not None
    if units is None or units.empty:
        if explicit:
            raise InvalidInput(
                "the workspace has no admin units to join to; "
                "run `quartier init --admin FILE` first"
            )
        return table, []
    frame = pd.DataFrame({n: table.column(n).to_pylist() for n in table.column_names})
    try:
        result = join_to_units(frame, units, by=by, table_column=column)
    except InvalidInput as e:
        if explicit:
            raise
        return table, [f"not joined to admin units: {e}"]
    codes = pa.array(list(result.table["unit_code"]), type=pa.string())
    notes = [
        f"joined to admin units by {result.by} (column {result.column!r}): "
        f"{result.matched} of {table.num_rows} rows matched"
    ]
    for u in result.unmatched:
        hint = f" — did you mean {u.suggestion!r}?" if u.suggestion else ""
        notes.append(f"row {u.row}: {u.value!r} matches no admin unit{hint}")
    for name in result.duplicates:
        notes.append(f"{name!r} names several admin units: rows left unmatched")
    return table.add_column(0, "unit_code", codes), notes

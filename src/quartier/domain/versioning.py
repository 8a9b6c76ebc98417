"""Pure rules of versioning: row identity, multiset diff, change summaries.

A feature *state* is identified by a 64-bit hash of its geometry and attributes.
A new version keeps every old state that reappears, retires the old states that
do not, and adds the new states that were not there before. Identical rows are
matched as a multiset (two identical rows in, two identical rows kept).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import xxhash

HASH_SEED = b"quartier-v2"
_NULL = np.uint64(0x5BD1E9955BD1E995)


def row_hashes(batch: pa.RecordBatch | pa.Table, columns: list[str]) -> np.ndarray:
    """Signed 64-bit hashes of the given columns, row by row.

    Stable across processes and machines (xxHash64); depends on column names
    and values, not on column order.
    """
    n = batch.num_rows
    acc = np.full(n, 0x9E3779B97F4A7C15, dtype=np.uint64)
    for name in sorted(columns):
        h = _column_hash(
            batch.column(name), xxhash.xxh64_intdigest(HASH_SEED + name.encode())
        )
        acc = (acc * np.uint64(1099511628211)) ^ h
    return acc.view(np.int64)


def _column_hash(col: pa.Array | pa.ChunkedArray, seed: int) -> np.ndarray:
    t = col.type
    if pa.types.is_dictionary(t):
        col = col.cast(t.value_type)
        t = col.type
    if (
        pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_boolean(t)
        or pa.types.is_temporal(t)
    ):
        if pa.types.is_boolean(t):
            col = col.cast(pa.int8())
        elif pa.types.is_temporal(t):
            col = (
                col.cast(pa.int64())
                if not pa.types.is_date32(t)
                else col.cast(pa.int32())
            )
        nulls = np.asarray(col.is_null())
        values = np.asarray(col.fill_null(0))
        if values.dtype.kind == "f":
            # -0.0 == 0.0; hash the bit pattern so no precision is lost
            values = np.where(values == 0, 0.0, values).astype(np.float64)
            bits = values.view(np.uint64)
        else:
            bits = values.astype(np.int64).view(np.uint64)
        h = pd.util.hash_array(bits, hash_key=_key(seed))
        h[nulls] = _NULL
        return h
    items: list[bytes | None]
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        items = col.cast(pa.binary()).to_pylist()
    elif pa.types.is_binary(t) or pa.types.is_large_binary(t):
        items = col.to_pylist()
    else:
        items = [None if v is None else repr(v).encode() for v in col.to_pylist()]
    xxh = xxhash.xxh64_intdigest
    return np.fromiter(
        (int(_NULL) if v is None else xxh(v, seed) for v in items),
        dtype=np.uint64,
        count=len(items),
    )


def _key(seed: int) -> str:
    return f"{seed:016x}"[:16]


def _occurrence(hashes: np.ndarray) -> np.ndarray:
    """Rank of each element among equal elements (0 for the first, 1, …)."""
    order = np.argsort(hashes, kind="stable")
    sorted_h = hashes[order]
    starts = np.r_[True, sorted_h[1:] != sorted_h[:-1]]
    group_start = np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) - group_start
    return rank


def _identity(hashes: np.ndarray) -> np.ndarray:
    """Combine hash and occurrence rank into one comparable key."""
    if len(hashes) == 0:
        return np.zeros(0, dtype=[("h", "<i8"), ("r", "<i8")])
    out = np.empty(len(hashes), dtype=[("h", "<i8"), ("r", "<i8")])
    out["h"] = hashes
    out["r"] = _occurrence(hashes)
    return out


@dataclass(frozen=True)
class Diff:
    """Positions (indices into the inputs) of old rows to retire and new rows
    to keep."""

    retire: np.ndarray  # indices into old
    keep_new: np.ndarray  # indices into new
    drop_new: np.ndarray  # indices into new: identical to a kept old state


def diff_states(old: np.ndarray, new: np.ndarray) -> Diff:
    """Multiset difference of two arrays of row hashes.

    >>> d = diff_states(np.array([1, 2, 2, 3]), np.array([2, 3, 3, 4]))
    >>> d.retire.tolist(), d.keep_new.tolist(), d.drop_new.tolist()
    ([0, 2], [2, 3], [0, 1])
    """
    old_id, new_id = _identity(old), _identity(new)
    in_new = np.isin(old_id, new_id)
    in_old = np.isin(new_id, old_id)
    return Diff(
        retire=np.flatnonzero(~in_new),
        keep_new=np.flatnonzero(~in_old),
        drop_new=np.flatnonzero(in_old),
    )


@dataclass(frozen=True)
class ChangeSummary:
    added: int
    removed: int
    changed: int


def summarise(
    retired_keys: list[object] | None,
    added_keys: list[object] | None,
    retired: int,
    added: int,
) -> ChangeSummary:
    """Counts of added/removed/changed features.

    With a key field, a key both retired and added is a *change*; otherwise
    every retired state is a removal and every new state an addition.

    >>> summarise(["a", "b"], ["b", "c", "d"], 2, 3)
    ChangeSummary(added=2, removed=1, changed=1)
    >>> summarise(None, None, 2, 3)
    ChangeSummary(added=3, removed=2, changed=0)
    """
    if retired_keys is None or added_keys is None:
        return ChangeSummary(added=added, removed=retired, changed=0)
    old_keys = {k for k in retired_keys if k is not None}
    new_keys = {k for k in added_keys if k is not None}
    both = old_keys & new_keys
    changed = len(both)
    return ChangeSummary(
        added=added - sum(1 for k in added_keys if k in both),
        removed=retired - sum(1 for k in retired_keys if k in both),
        changed=changed,
    )

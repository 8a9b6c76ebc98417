"""The packed R-tree is a valid SQLite R-tree that answers like a built one."""

from __future__ import annotations

import sqlite3

import numpy as np
import pyarrow as pa
import pytest
import shapely

from quartier.domain import Dataset, Field, FieldType
from quartier.storage import open_store, rtree_bulk


def _rtree(conn: sqlite3.Connection, name: str) -> None:
    conn.execute(f"CREATE VIRTUAL TABLE {name} USING rtree(id, minx, maxx, miny, maxy)")


@pytest.mark.parametrize("n", [0, 1, 50, 51, 52, 2601, 20000])
def test_packed_tree_passes_rtreecheck_and_answers_queries(n: int) -> None:
    rng = np.random.default_rng(n)
    x, y = rng.random(n) * 10, rng.random(n) * 10
    w = rng.random(n) * 0.5
    conn = sqlite3.connect(":memory:")
    _rtree(conn, "packed")
    _rtree(conn, "plain")
    rtree_bulk.build(conn, "packed", np.arange(1, n + 1), x, x + w, y, y + w)
    conn.executemany(
        "INSERT INTO plain VALUES (?, ?, ?, ?, ?)",
        zip(range(1, n + 1), x, x + w, y, y + w, strict=True),
    )
    assert conn.execute("SELECT rtreecheck('packed')").fetchone()[0] == "ok"
    query = (
        "SELECT id FROM {} WHERE maxx >= 2 AND minx <= 4 AND maxy >= 5 AND miny <= 6"
    )
    got = sorted(r[0] for r in conn.execute(query.format("packed")))
    want = sorted(r[0] for r in conn.execute(query.format("plain")))
    assert got == want
    # later edits go through SQLite's own code on the packed tree
    conn.execute("INSERT INTO packed VALUES (?, 1, 2, 1, 2)", (n + 1,))
    conn.execute("DELETE FROM packed WHERE id <= ?", (n // 2,))
    assert conn.execute("SELECT rtreecheck('packed')").fetchone()[0] == "ok"


def test_float32_bounds_contain_the_exact_ones() -> None:
    lo = np.array([15.300000000001, -4.4])
    hi = np.array([15.300000000002, -4.39999999999])
    lo32, hi32 = rtree_bulk._round_out(lo, hi)
    assert np.all(lo32.astype(float) <= lo) and np.all(hi32.astype(float) >= hi)


def test_imported_layer_index_is_valid_after_versions(tmp_path) -> None:
    store = open_store(str(tmp_path / "v.gpkg"))
    pts = shapely.points(np.random.default_rng(1).random((3000, 2)))

    def batch(k: int) -> pa.RecordBatch:
        return pa.record_batch(
            {
                "k": pa.array(np.arange(3000) * k),
                "geometry": pa.array(shapely.to_wkb(pts), type=pa.binary()),
            }
        )

    fields = [Field("k", FieldType.INTEGER)]
    store.write_version(
        "p",
        [batch(1)],
        fields=fields,
        new=Dataset(slug="p", title="p"),
        geometry_type="POINT",
    )
    store.write_version("p", [batch(2)], fields=fields)  # all retired + added
    store.close()
    conn = sqlite3.connect(tmp_path / "v.gpkg")
    assert conn.execute("SELECT rtreecheck('rtree_p_geom')").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM rtree_p_geom").fetchone()[0] == 3000

"""The data every server of ``bench_api.py`` serves, and the ground truth.

One generated source (``benchmarks/generate.py``: N rotated rectangles
around Kinshasa, fids 1..N) is loaded

* for the peers into PostgreSQL database ``qt_bench_peers_<N>`` by
  ``ogr2ogr`` (COPY, ``-preserve_fid``, GiST index, then ``VACUUM ANALYZE``);
  pygeoapi's OGR provider reads the source GeoPackage itself;
* for Quartier into a GeoPackage store (``out/work/api_quartier_<N>.gpkg``)
  and a PostGIS store (database ``qt_bench_quartier_<N>``) by
  ``import_path`` (in a child process, as ``quartier import`` would).

Loads are kept between runs: the peers' database while its row count is N,
Quartier's stores while the source code of the storage layer and the
importer is unchanged (a fingerprint in a marker file); ``--reimport`` forces
both. The peers' database is also the ground truth of the correctness checks
(exact ``ST_Intersects`` queries).
"""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
ROOT = BENCH.parent
OUT = BENCH / "out"
WORK = OUT / "work"
PG = {"host": "127.0.0.1", "port": 5432, "user": "quartier", "password": "quartier"}
LAYER = "buildings"
OGR2OGR = "/usr/bin/ogr2ogr"


def pg_url(dbname: str) -> str:
    return (
        f"postgresql://{PG['user']}:{PG['password']}@{PG['host']}:{PG['port']}/{dbname}"
    )


def pg_connect(dbname: str = "postgres"):  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(dbname=dbname, autocommit=True, **PG)


def peers_db(n: int) -> str:
    return f"qt_bench_peers_{n}"


def quartier_db(n: int) -> str:
    return f"qt_bench_quartier_{n}"


def quartier_gpkg(n: int) -> Path:
    return WORK / f"api_quartier_{n}.gpkg"


def _db_exists(dbname: str) -> bool:
    with pg_connect() as conn:
        return (
            conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)
            ).fetchone()
            is not None
        )


def _recreate_db(dbname: str) -> None:
    # only ever our own qt_bench_* databases
    assert dbname.startswith("qt_bench_"), dbname
    with pg_connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{dbname}"')
    with pg_connect(dbname) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")


def _peer_rows(dbname: str) -> int:
    if not _db_exists(dbname):
        return -1
    with pg_connect(dbname) as conn:
        if conn.execute("SELECT to_regclass(%s)", (LAYER,)).fetchone()[0] is None:
            return -1
        return int(conn.execute(f"SELECT count(*) FROM {LAYER}").fetchone()[0])


def load_peers(n: int, source: Path, *, force: bool = False) -> dict[str, Any]:
    """The peers' PostGIS table (ogr2ogr), reused when it already holds N rows."""
    db = peers_db(n)
    if not force and _peer_rows(db) == n:
        return {"db": db, "loaded": False}
    t0 = time.perf_counter()
    _recreate_db(db)
    conn = (
        f"PG:dbname={db} host={PG['host']} port={PG['port']} "
        f"user={PG['user']} password={PG['password']}"
    )
    subprocess.run(
        [
            OGR2OGR,
            "-f",
            "PostgreSQL",
            conn,
            str(source),
            LAYER,
            "-nln",
            LAYER,
            "-preserve_fid",
            "-lco",
            "FID=fid",
            "-lco",
            "GEOMETRY_NAME=geom",
            "-lco",
            "SPATIAL_INDEX=GIST",
            "--config",
            "PG_USE_COPY",
            "YES",
        ],
        check=True,
    )
    with pg_connect(db) as c:
        c.execute(f"VACUUM ANALYZE {LAYER}")
    rows = _peer_rows(db)
    if rows != n:
        raise RuntimeError(f"{db}.{LAYER} holds {rows} rows, expected {n}")
    return {"db": db, "loaded": True, "seconds": time.perf_counter() - t0}


# ------------------------------------------------------------------ quartier
def _import_fingerprint(n: int) -> str:
    h = hashlib.sha256(str(n).encode())
    src = ROOT / "src" / "quartier"
    files = sorted((src / "storage").rglob("*.py")) + [src / "services" / "importer.py"]
    for f in files:
        h.update(f.relative_to(ROOT).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:16]


def _remove_gpkg(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        p = Path(str(path) + suffix)
        if p.exists():
            p.unlink()


IMPORT_CHILD = """
import json, sys, time
from quartier.services.importer import ImportOptions, import_path
from quartier.storage import open_store
t0 = time.perf_counter()
store = open_store(sys.argv[2])
try:
    reports = import_path(
        store, sys.argv[1], ImportOptions(dataset="buildings", access="public")
    )
    ds = store.get_dataset("buildings")
    print(json.dumps({
        "seconds": time.perf_counter() - t0,
        "stored": sum(r.stored for r in reports),
        "count": store.count_features("buildings"),
        "table": ds.table_name,
    }))
finally:
    store.close()
"""


def _import(source: Path, url: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", IMPORT_CHILD, str(source), url],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"import into {url} failed:\n{proc.stderr}")
    info: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return info


def load_quartier(n: int, source: Path, *, force: bool = False) -> dict[str, Any]:
    """Quartier's GeoPackage and PostGIS stores of the source."""
    WORK.mkdir(parents=True, exist_ok=True)
    marker = WORK / f"api_quartier_{n}.json"
    fp = _import_fingerprint(n)
    gpkg, db = quartier_gpkg(n), quartier_db(n)
    if not force and marker.exists() and gpkg.exists() and _db_exists(db):
        saved = json.loads(marker.read_text())
        if saved.get("fingerprint") == fp:
            return {**saved, "loaded": False}
    _remove_gpkg(gpkg)
    g = _import(source, str(gpkg))
    _recreate_db(db)
    p = _import(source, pg_url(db))
    for name, info in (("gpkg", g), ("postgis", p)):
        if info["count"] != n:
            raise RuntimeError(f"quartier {name} store holds {info['count']} of {n}")
    result = {
        "fingerprint": fp,
        "gpkg": str(gpkg),
        "postgis": pg_url(db),
        "import_gpkg_s": g["seconds"],
        "import_postgis_s": p["seconds"],
        "table": g["table"],
    }
    marker.write_text(json.dumps(result, indent=1))
    return {**result, "loaded": True}


# -------------------------------------------------------------- ground truth
class Truth:
    """Exact answers from the peers' PostGIS table (fids are the source's)."""

    def __init__(self, n: int) -> None:
        self.conn = pg_connect(peers_db(n))

    def close(self) -> None:
        self.conn.close()

    def extent(self) -> tuple[float, float, float, float]:
        row = self.conn.execute(
            f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
            f"FROM (SELECT ST_Extent(geom) AS e FROM {LAYER}) s"
        ).fetchone()
        return (float(row[0]), float(row[1]), float(row[2]), float(row[3]))

    def fids_in_bbox(self, bbox: tuple[float, float, float, float]) -> list[int]:
        rows = self.conn.execute(
            f"SELECT fid FROM {LAYER} WHERE ST_Intersects(geom, "
            "ST_MakeEnvelope(%s, %s, %s, %s, 4326)) ORDER BY fid",
            bbox,
        ).fetchall()
        return [int(r[0]) for r in rows]

    def fids_envelope_overlap(
        self, bbox: tuple[float, float, float, float]
    ) -> set[int]:
        """Features whose *envelope* meets the box (what an R-tree-only filter gives)."""
        rows = self.conn.execute(
            f"SELECT fid FROM {LAYER} WHERE geom && "
            "ST_MakeEnvelope(%s, %s, %s, %s, 4326)",
            bbox,
        ).fetchall()
        return {int(r[0]) for r in rows}

    def count_in_bbox(self, bbox: tuple[float, float, float, float]) -> int:
        row = self.conn.execute(
            f"SELECT count(*) FROM {LAYER} WHERE ST_Intersects(geom, "
            "ST_MakeEnvelope(%s, %s, %s, %s, 4326))",
            bbox,
        ).fetchone()
        return int(row[0])

    def properties(self, fids: list[int]) -> dict[int, dict[str, Any]]:
        rows = self.conn.execute(
            f"SELECT fid, building, levels, area_m2, survey_date::text, name "
            f"FROM {LAYER} WHERE fid = ANY(%s)",
            (fids,),
        ).fetchall()
        keys = ("building", "levels", "area_m2", "survey_date", "name")
        return {int(r[0]): dict(zip(keys, r[1:], strict=True)) for r in rows}

    def fids_page(self, offset: int, limit: int) -> list[int]:
        rows = self.conn.execute(
            f"SELECT fid FROM {LAYER} ORDER BY fid OFFSET %s LIMIT %s",
            (offset, limit),
        ).fetchall()
        return [int(r[0]) for r in rows]


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """WebMercatorQuad tile → (west, south, east, north) in degrees."""
    n = 2.0**z

    def lat(yy: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * yy / n))))

    return (x / n * 360.0 - 180.0, lat(y + 1), (x + 1) / n * 360.0 - 180.0, lat(y))


def lonlat_to_tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    r = math.radians(lat)
    y = int((1.0 - math.asinh(math.tan(r)) / math.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)

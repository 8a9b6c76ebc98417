"""Exposure benchmark: ``quartier analyze exposure`` next to GeoPandas and PostGIS.

    python benchmarks/bench_exposure.py --n 1000000 --runs 5

The same generated city (``--n`` square buildings of 8–15 m, 200 hazard
polygons in three classes, 500 zones on a grid, fixed seed) is loaded, untimed,
into a GeoPackage store and a PostGIS store. Then, round-robin, ``--runs`` times:

* ``ours-gpkg`` / ``ours-postgis``: :func:`run_exposure` from the store, end to
  end (read the three layers, reproject to UTM, classify, aggregate, write the
  two result datasets);
* ``geopandas``: GeoPandas written plainly — ``read_file`` the three layers from
  the GeoPackage, ``to_crs``, ``sjoin`` buildings × hazard (most severe class
  per building), ``sjoin`` of their representative points × zones, ``groupby``;
* ``postgis-sql``: the same question as one SQL query in PostGIS (GiST indexes
  in place), reading the tables our import created.

Every candidate's counts per (zone, class) must be identical, else the run
stops. Medians go to ``docs/benchmarks.md`` between the markers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import shapely

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out" / "exposure"
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN = "<!-- BEGIN GENERATED: bench_exposure (python benchmarks/bench_exposure.py) -->"
END = "<!-- END GENERATED: bench_exposure -->"
ADMIN = "postgresql://quartier:quartier@127.0.0.1:5432/postgres"
UTM = 32733
CLASSES = ["fort", "moyen", "faible"]
X0, Y0, SIDE = 530_000.0, 9_505_000.0, 20_000.0

sys.path.insert(0, str(ROOT / "src"))

from quartier.domain.workspace import Workspace  # noqa: E402
from quartier.services.exposure import ExposureParams, run_exposure  # noqa: E402
from quartier.services.importer import ImportOptions, import_path  # noqa: E402
from quartier.storage import open_store  # noqa: E402


# ---------------------------------------------------------------- the city
def generate(n: int, folder: Path) -> Path:
    """buildings, hazard and zones layers in one GeoPackage (EPSG:4326)."""
    path = folder / f"city_{n}.gpkg"
    if path.exists():
        return path
    rng = np.random.default_rng(42)
    # inside the zone grid, whole buildings included
    x = X0 + rng.random(n) * (SIDE - 15)
    y = Y0 + rng.random(n) * (SIDE - 15)
    size = 8 + rng.random(n) * 7
    buildings = gpd.GeoDataFrame(
        {"ref": np.arange(n)}, geometry=shapely.box(x, y, x + size, y + size), crs=UTM
    )
    centres = shapely.points(X0 + rng.random(200) * SIDE, Y0 + rng.random(200) * SIDE)
    hazard = gpd.GeoDataFrame(
        {"classe": rng.choice(CLASSES, 200)},
        geometry=shapely.buffer(centres, 100 + rng.random(200) * 700, quad_segs=8),
        crs=UTM,
    )
    cols, rows = 25, 20
    w, h = SIDE / cols, SIDE / rows
    cells = [
        shapely.box(X0 + i * w, Y0 + j * h, X0 + (i + 1) * w, Y0 + (j + 1) * h)
        for j in range(rows)
        for i in range(cols)
    ]
    zones = gpd.GeoDataFrame(
        {
            "code": [f"z{k:03d}" for k in range(len(cells))],
            "name": [f"Zone {k:03d}" for k in range(len(cells))],
        },
        geometry=cells,
        crs=UTM,
    )
    for name, layer in (("buildings", buildings), ("hazard", hazard), ("zones", zones)):
        layer.to_crs(4326).to_file(path, layer=name, engine="pyogrio")
    return path


def load(url: str, source: Path) -> None:
    with open_store(url) as store:
        store.set_workspace(
            Workspace(name="Bench", working_crs=UTM, admin_dataset="zones")
        )
        for layer in ("zones", "hazard", "buildings"):
            import_path(store, source, ImportOptions(layer=layer, dataset=layer))


def pg_database() -> str:
    name = "qt_bench_exposure_" + uuid.uuid4().hex[:6]
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = ADMIN.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    return url


# -------------------------------------------------------------- candidates
PARAMS = ExposureParams(
    hazard="hazard",
    buildings="buildings",
    units="zones",
    class_field="classe",
    class_order=CLASSES,
)  # no facility, road or population dataset in the bench city: none is picked


def ours(url: str) -> pd.Series:
    with open_store(url, create=False) as store:
        run = run_exposure(store, PARAMS)
    table = run.result.table
    return _counts(table["unit"], table["hazard_class"], table["buildings"])


def plain_geopandas(source: Path) -> pd.Series:
    buildings = gpd.read_file(
        source, layer="buildings", engine="pyogrio", use_arrow=True
    ).to_crs(UTM)
    hazard = gpd.read_file(source, layer="hazard", engine="pyogrio").to_crs(UTM)
    zones = gpd.read_file(source, layer="zones", engine="pyogrio").to_crs(UTM)
    hazard["rank"] = hazard["classe"].map({c: i for i, c in enumerate(CLASSES)})
    hits = gpd.sjoin(buildings, hazard[["rank", "geometry"]], predicate="intersects")
    worst = hits.groupby(level=0)["rank"].min()
    exposed = buildings.loc[worst.index].copy()
    exposed["classe"] = [CLASSES[r] for r in worst.to_numpy()]
    points = exposed.set_geometry(exposed.representative_point())
    placed = gpd.sjoin(points, zones[["name", "geometry"]], predicate="intersects")
    placed = placed[~placed.index.duplicated(keep="first")]
    grouped = placed.groupby(["name", "classe"]).size()
    return _counts(
        grouped.index.get_level_values(0),
        grouped.index.get_level_values(1),
        grouped.to_numpy(),
    )


def postgis_sql(url: str) -> pd.Series:
    with open_store(url, create=False) as store:
        tables = {
            s: store.get_dataset(s).table_name for s in ("buildings", "hazard", "zones")
        }
    order = " ".join(f"WHEN '{c}' THEN {i}" for i, c in enumerate(CLASSES))
    sql = f"""
        WITH hit AS (
            SELECT b.fid, min(CASE h.classe {order} END) AS r
            FROM "{tables["buildings"]}" b
            JOIN "{tables["hazard"]}" h ON ST_Intersects(b.geom, h.geom)
            GROUP BY b.fid
        )
        SELECT z.name, hit.r, count(*)
        FROM hit
        JOIN "{tables["buildings"]}" b USING (fid)
        JOIN "{tables["zones"]}" z ON ST_Intersects(z.geom, ST_PointOnSurface(b.geom))
        GROUP BY z.name, hit.r
    """
    with psycopg.connect(url) as conn:
        rows = conn.execute(sql).fetchall()
    return _counts(
        [r[0] for r in rows], [CLASSES[r[1]] for r in rows], [r[2] for r in rows]
    )


def _counts(units: Any, classes: Any, counts: Any) -> pd.Series:
    frame = pd.DataFrame({"unit": list(units), "cls": list(classes), "n": list(counts)})
    return frame.groupby(["unit", "cls"])["n"].sum().astype(int).sort_index()


# -------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    source = generate(args.n, OUT)
    gpkg = str(OUT / f"store_{args.n}_{uuid.uuid4().hex[:6]}.gpkg")
    load(gpkg, source)
    pg = pg_database()
    try:
        load(pg, source)
        _race(args, source, gpkg, pg)
    finally:  # a million-building database per run would fill the disk
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {pg.rsplit('/', 1)[1]} WITH (FORCE)")
        Path(gpkg).unlink(missing_ok=True)


def _race(args: argparse.Namespace, source: Path, gpkg: str, pg: str) -> None:
    candidates = {
        "ours-gpkg": lambda: ours(gpkg),
        "ours-postgis": lambda: ours(pg),
        "geopandas": lambda: plain_geopandas(source),
        "postgis-sql": lambda: postgis_sql(pg),
    }
    times: dict[str, list[float]] = {k: [] for k in candidates}
    reference: pd.Series | None = None
    for run in range(args.runs):
        for name, work in candidates.items():
            start = time.perf_counter()
            counts = work()
            times[name].append(time.perf_counter() - start)
            if reference is None:
                reference = counts
            elif not counts.equals(reference):
                diff = pd.concat([reference, counts], axis=1, keys=["first", name])
                raise SystemExit(
                    f"{name} disagrees:\n{diff[diff.iloc[:, 0] != diff.iloc[:, 1]]}"
                )
            print(f"run {run + 1} {name:<13} {times[name][-1]:7.2f} s", flush=True)
    medians = {k: statistics.median(v) for k, v in times.items()}
    table = _table(args, medians, int(reference.sum()) if reference is not None else 0)
    print(table)
    if not args.no_doc:
        _write_doc(table)


def _table(args: argparse.Namespace, medians: dict[str, float], exposed: int) -> str:
    fastest_peer = min(medians["geopandas"], medians["postgis-sql"])
    lines = [
        f"{args.n:,} buildings, 200 hazard polygons (3 classes), 500 zones; "
        f"{exposed:,} buildings exposed; median of {args.runs} runs, "
        f"{dt.date.today()}, {platform.machine()}, {platform.python_version()}.",
        "",
        "| candidate | median (s) | faster peer / this |",
        "| --- | ---: | ---: |",
    ]
    for name, value in medians.items():
        lines.append(f"| {name} | {value:.2f} | {fastest_peer / value:.2f}× |")
    return "\n".join(lines)


def _write_doc(table: str) -> None:
    text = DOC.read_text(encoding="utf-8")
    block = f"{BEGIN}\n{table}\n{END}"
    if BEGIN in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text += "\n" + block + "\n"
    DOC.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()

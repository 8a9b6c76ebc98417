"""Import benchmark: quartier's import next to GDAL's fastest paths.

    python benchmarks/generate.py && python benchmarks/bench_import.py

Every candidate reads the same generated GeoPackage
(``benchmarks/out/buildings_<N>.gpkg``) and runs in a fresh child process per
run, so the peak resident memory (``ru_maxrss``, read by GNU ``time -f %M``) is that
run's own. Candidates are run round-robin (one of each, then again) so slow
drifts of the machine spread over all of them. The median of ``--runs`` runs
is reported, and the results are written between the markers of
``docs/benchmarks.md`` (and as JSON in ``benchmarks/out/``).

Candidates:

* ``ours-gpkg``: ``open_store(new.gpkg)`` + ``import_path`` + ``close``
  (version bookkeeping, row hashes, R-tree included).
* ``pyogrio-gpkg``: ``pyogrio.open_arrow`` streamed into ``pyogrio.write_arrow``
  (bundled GDAL), new GeoPackage with its spatial index; read + write timed.
* ``ogr2ogr-gpkg``: ``ogr2ogr -f GPKG out.gpkg source.gpkg`` (Debian GDAL).
* ``ours-postgis``: ``open_store(postgresql://…/fresh_db)`` + ``import_path``.
* ``ogr2ogr-postgis``: ``ogr2ogr -f PostgreSQL PG:… source.gpkg --config
  PG_USE_COPY YES -lco SPATIAL_INDEX=GIST``.

Each PostGIS run gets a database created for it (``CREATE DATABASE`` +
``CREATE EXTENSION postgis``, untimed) and dropped after it. Times of the
Python candidates are measured inside the child, around the work only
(interpreter start and module imports excluded, ~1 s); ogr2ogr's are the
process's wall time.

Memory boundedness: ``ours-gpkg`` also runs on an N/4 source
(``--mem-runs`` times); the peak RSS at N and N/4 are compared.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
WORK = OUT / "work"
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN = "<!-- BEGIN GENERATED: bench_import (python benchmarks/bench_import.py) -->"
END = "<!-- END GENERATED: bench_import -->"
OGR2OGR = "/usr/bin/ogr2ogr"
TIME = "/usr/bin/time"  # GNU time (Debian package `time`)
PG = {"host": "127.0.0.1", "port": 5432, "user": "quartier", "password": "quartier"}
LAYER = "buildings"

CANDIDATES = [
    "ours-gpkg",
    "pyogrio-gpkg",
    "ogr2ogr-gpkg",
    "ours-postgis",
    "ogr2ogr-postgis",
]
LABELS = {
    "ours-gpkg": "quartier `import_path` → GeoPackage",
    "pyogrio-gpkg": "pyogrio `open_arrow` → `write_arrow` GeoPackage",
    "ogr2ogr-gpkg": "`ogr2ogr -f GPKG`",
    "ours-postgis": "quartier `import_path` → PostGIS",
    "ogr2ogr-postgis": "`ogr2ogr -f PostgreSQL` (COPY, GiST)",
}
# (ours, peer, goal: ours/peer at most this, or None for information only)
COMPARISONS = [
    ("ours-gpkg", "pyogrio-gpkg", 1.5),
    ("ours-gpkg", "ogr2ogr-gpkg", None),
    ("ours-postgis", "ogr2ogr-postgis", 0.8),
]


# ----------------------------------------------------------------- children
def _rss_now_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def child(name: str, source: str, target: str) -> None:
    """Run one candidate in this (fresh) process; print a JSON line."""
    if name.startswith("ours-"):
        from quartier.services.importer import ImportOptions, import_path
        from quartier.storage import open_store

        before = _rss_now_mb()
        t0 = time.perf_counter()
        store = open_store(target)
        try:
            reports = import_path(store, source, ImportOptions(dataset=LAYER))
        finally:
            store.close()
        seconds = time.perf_counter() - t0
        stored = sum(r.stored for r in reports)
    elif name == "pyogrio-gpkg":
        import pyogrio

        before = _rss_now_mb()
        t0 = time.perf_counter()
        with pyogrio.open_arrow(source, layer=LAYER) as (meta, reader):
            pyogrio.write_arrow(
                reader,
                target,
                layer=LAYER,
                driver="GPKG",
                geometry_name=meta["geometry_name"] or "wkb_geometry",
                geometry_type=meta["geometry_type"],
                crs=meta["crs"],
                layer_options={"SPATIAL_INDEX": "YES"},
            )
        seconds = time.perf_counter() - t0
        stored = -1  # counted by the parent
    else:
        raise SystemExit(f"unknown child candidate {name!r}")
    print(
        json.dumps({"seconds": seconds, "rss_before_mb": before, "stored": stored}),
        flush=True,
    )


# ------------------------------------------------------------------ helpers
def _pg_connect(dbname: str = "postgres"):  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(dbname=dbname, autocommit=True, **PG)


def _pg_url(dbname: str) -> str:
    return (
        f"postgresql://{PG['user']}:{PG['password']}@{PG['host']}:{PG['port']}/{dbname}"
    )


def _create_db(dbname: str) -> None:
    with _pg_connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
        conn.execute(f'CREATE DATABASE "{dbname}"')
    with _pg_connect(dbname) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    with _pg_connect() as conn:  # start every run from a clean WAL state
        conn.execute("CHECKPOINT")


def _drop_db(dbname: str) -> None:
    with _pg_connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def _remove_gpkg(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        p = Path(str(path) + suffix)
        if p.exists():
            p.unlink()


def _run_process(
    cmd: list[str], env: dict[str, str] | None = None
) -> tuple[float, float, float, str, str]:
    """Run ``cmd``: wall seconds, peak RSS (MB), CPU seconds, stdout, stderr.

    The peak comes from GNU time (``wait4`` in a small parent): Linux starts a
    child's ``ru_maxrss`` at its parent's RSS at fork, so measuring from this
    (large) Python process would floor every peak at our own size.
    """
    out_f, err_f, rss_f = WORK / "child.out", WORK / "child.err", WORK / "child.rss"
    with open(out_f, "w") as out, open(err_f, "w") as err:
        t0 = time.perf_counter()
        proc = subprocess.run(
            [TIME, "-f", "%M %U %S", "-o", str(rss_f), *cmd],
            stdout=out,
            stderr=err,
            env=env,
            check=False,
        )
        wall = time.perf_counter() - t0
    stdout, stderr = out_f.read_text(), err_f.read_text()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{stderr}")
    peak_kb, user, system = rss_f.read_text().split()[-3:]
    return wall, int(peak_kb) / 1024, float(user) + float(system), stdout, stderr


def _count_gpkg(path: Path, table: str = LAYER) -> tuple[int, bool]:
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        n = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        rtree = (
            conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE name LIKE ?",
                (f"rtree_{table}_%",),
            ).fetchone()[0]
            > 0
        )
    finally:
        conn.close()
    return n, rtree


def _count_pg(dbname: str, table: str = LAYER) -> tuple[int, bool]:
    with _pg_connect(dbname) as conn:
        n = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        gist = (
            conn.execute(
                "SELECT count(*) FROM pg_indexes WHERE tablename = %s "
                "AND indexdef ILIKE '%%USING gist%%'",
                (table,),
            ).fetchone()[0]
            > 0
        )
    return n, gist


def run_once(name: str, source: Path, tag: str) -> dict[str, Any]:
    """One run of one candidate in a fresh process."""
    WORK.mkdir(parents=True, exist_ok=True)
    me = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        name,
        "--source",
        str(source),
    ]
    result: dict[str, Any] = {"candidate": name, "load1": os.getloadavg()[0]}
    if name.endswith("-gpkg"):
        target = WORK / f"{name}-{tag}.gpkg"
        _remove_gpkg(target)
        try:
            if name == "ogr2ogr-gpkg":
                wall, rss, cpu, _, _ = _run_process(
                    [OGR2OGR, "-f", "GPKG", str(target), str(source)]
                )
                result.update(seconds=wall, wall=wall)
            else:
                wall, rss, cpu, out, _ = _run_process(me + ["--target", str(target)])
                info = json.loads(out.strip().splitlines()[-1])
                result.update(
                    seconds=info["seconds"],
                    wall=wall,
                    rss_before_mb=info["rss_before_mb"],
                )
            result["rows"], result["index"] = _count_gpkg(target)
            result["size_mb"] = (
                sum(
                    Path(str(target) + s).stat().st_size
                    for s in ("", "-wal")
                    if Path(str(target) + s).exists()
                )
                / 1e6
            )
        finally:
            _remove_gpkg(target)
    else:
        dbname = f"quartier_bench_{os.getpid()}_{tag}".replace("-", "_")
        _create_db(dbname)
        try:
            if name == "ogr2ogr-postgis":
                conn = (
                    f"PG:dbname={dbname} host={PG['host']} port={PG['port']} "
                    f"user={PG['user']} password={PG['password']}"
                )
                wall, rss, cpu, _, _ = _run_process(
                    [
                        OGR2OGR,
                        "-f",
                        "PostgreSQL",
                        conn,
                        str(source),
                        "--config",
                        "PG_USE_COPY",
                        "YES",
                        "-lco",
                        "SPATIAL_INDEX=GIST",
                    ]
                )
                result.update(seconds=wall, wall=wall)
            else:
                wall, rss, cpu, out, _ = _run_process(
                    me + ["--target", _pg_url(dbname)]
                )
                info = json.loads(out.strip().splitlines()[-1])
                result.update(
                    seconds=info["seconds"],
                    wall=wall,
                    rss_before_mb=info["rss_before_mb"],
                )
            result["rows"], result["index"] = _count_pg(dbname)
            with _pg_connect(dbname) as conn:
                result["size_mb"] = (
                    conn.execute(
                        "SELECT pg_total_relation_size(%s)", (LAYER,)
                    ).fetchone()[0]
                    / 1e6
                )
        finally:
            _drop_db(dbname)
    result["rss_mb"] = rss
    result["cpu_s"] = cpu
    return result


# ---------------------------------------------------------------- machine
def src_fingerprint() -> str:
    import hashlib

    h = hashlib.sha256()
    for f in sorted((ROOT / "src" / "quartier").rglob("*.py")):
        h.update(f.relative_to(ROOT).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:12]


def _cmd(cmd: list[str]) -> str:
    try:
        return subprocess.run(
            cmd, capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        return "?"


def machine_info() -> dict[str, Any]:
    import sqlite3

    import numpy
    import pyarrow
    import pyogrio
    import shapely

    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    info: dict[str, Any] = {
        "nproc": _cmd(["nproc"]) or str(os.cpu_count()),
        "cpu": cpu,
        "ram_gib": round(mem_kb / 1024**2, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "pyogrio": pyogrio.__version__,
        "gdal_pyogrio": pyogrio.__gdal_version_string__,
        "gdal_ogr2ogr": _cmd([OGR2OGR, "--version"]),
        "shapely": shapely.__version__,
        "geos": shapely.geos_version_string,
        "pyarrow": pyarrow.__version__,
        "numpy": numpy.__version__,
        "sqlite": sqlite3.sqlite_version,
    }
    try:
        from importlib.metadata import version

        info["quartier"] = version("quartier")
        info["psycopg"] = version("psycopg")
    except Exception:  # pragma: no cover
        pass
    db = f"quartier_bench_{os.getpid()}_info"
    _create_db(db)
    try:
        with _pg_connect(db) as conn:
            info["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
            info["postgis"] = conn.execute("SELECT postgis_lib_version()").fetchone()[0]
            info["pg_settings"] = dict(
                conn.execute(
                    "SELECT name, current_setting(name) FROM pg_settings WHERE name"
                    " IN ('shared_buffers', 'synchronous_commit', 'fsync', 'wal_level',"
                    " 'max_wal_size', 'maintenance_work_mem') ORDER BY name"
                ).fetchall()
            )
    finally:
        _drop_db(db)
    return info


# ---------------------------------------------------------------- report
def summarise(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name in CANDIDATES:
        rs = [r for r in results if r["candidate"] == name]
        if not rs:
            continue
        times = [r["seconds"] for r in rs]
        out[name] = {
            "median_s": statistics.median(times),
            "min_s": min(times),
            "max_s": max(times),
            "times": times,
            "rss_mb": statistics.median(r["rss_mb"] for r in rs),
            "cpu_s": statistics.median(r["cpu_s"] for r in rs),
            "load1": [r["load1"] for r in rs],
            "rss_max_mb": max(r["rss_mb"] for r in rs),
            "rss_before_mb": (
                statistics.median(r["rss_before_mb"] for r in rs)
                if "rss_before_mb" in rs[0]
                else None
            ),
            "rows": rs[0]["rows"],
            "index": all(r["index"] for r in rs),
            "size_mb": rs[0]["size_mb"],
        }
    return out


def render(
    n: int,
    runs: int,
    info: dict[str, Any],
    summary: dict[str, Any],
    mem: dict[str, Any] | None,
    started: str,
    elapsed: float,
) -> str:
    loads = [x for s in summary.values() for x in s["load1"]]
    lines = [
        BEGIN,
        "",
        f"Run of {started} UTC, {n:,} features, median of {runs} runs per candidate "
        f"(whole benchmark: {elapsed / 60:.1f} min). Source code fingerprint "
        f"`{info['src_fingerprint']}` (sha256 of `src/quartier/**/*.py`).",
        "",
        "Client CPU is user + system time of the candidate's own process (for "
        "PostGIS the server's work is not in it). 1-minute load average when "
        f"each run started: median {statistics.median(loads):.2f}, max "
        f"{max(loads):.2f} on {info['nproc']} cores. The benchmark itself keeps "
        "it near 1 (one busy process, plus the server for PostGIS); well above "
        "that, other work shared the CPUs and wall times are inflated (client CPU "
        "time suffers less).",
        "",
        "| candidate | median (s) | min–max (s) | features/s | client CPU (s) "
        "| peak RSS (MB) | output (MB) | rows | spatial index |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, s in summary.items():
        lines.append(
            f"| {LABELS[name]} | {s['median_s']:.2f} | {s['min_s']:.2f}–{s['max_s']:.2f}"
            f" | {n / s['median_s']:,.0f} | {s['cpu_s']:.1f} | {s['rss_mb']:.0f}"
            f" | {s['size_mb']:.0f}"
            f" | {s['rows']:,} | {'yes' if s['index'] else 'NO'} |"
        )
    lines += [
        "",
        "| comparison | ratio (ours / peer) | goal | met |",
        "| --- | ---: | ---: | --- |",
    ]
    for ours, peer, goal in COMPARISONS:
        if ours in summary and peer in summary:
            ratio = summary[ours]["median_s"] / summary[peer]["median_s"]
            goal_s = f"≤ {goal}×" if goal else "—"
            met = ("yes" if ratio <= goal else "**no**") if goal else "—"
            lines.append(
                f"| {LABELS[ours]} / {LABELS[peer]} | {ratio:.2f}× | {goal_s} | {met} |"
            )
    if mem:
        big, small = mem["n"], mem["n_small"]
        growth = mem["rss_n_mb"] / mem["rss_small_mb"]
        lines += [
            "",
            "Memory boundedness of `import_path` → GeoPackage (peak RSS of the "
            "child process, median; the Python process holds "
            f"~{mem['rss_before_mb']:.0f} MB of modules before it starts):",
            "",
            "| features | peak RSS (MB) | median time (s) |",
            "| ---: | ---: | ---: |",
            f"| {small:,} | {mem['rss_small_mb']:.0f} | {mem['time_small_s']:.2f} |",
            f"| {big:,} | {mem['rss_n_mb']:.0f} | {mem['time_n_s']:.2f} |",
            "",
            f"4× the features → {growth:.2f}× the peak memory "
            f"(+{mem['rss_n_mb'] - mem['rss_small_mb']:.0f} MB).",
        ]
    if info.get("src_changed"):
        lines += [
            "",
            "**Warning**: `src/` changed while the benchmark ran "
            f"(fingerprint at the end: `{info['src_fingerprint_end']}`): "
            "runs may have measured different code.",
        ]
    lines += ["", "Raw times (s), in run order (load average at the start):", ""]
    for name, s in summary.items():
        lines.append(
            f"- {name}: "
            + ", ".join(
                f"{t:.2f} ({ld:.1f})"
                for t, ld in zip(s["times"], s["load1"], strict=True)
            )
        )
    pg = info.get("pg_settings", {})
    lines += [
        "",
        "Machine and versions:",
        "",
        "| | |",
        "| --- | --- |",
        f"| CPU | {info['cpu']} ({info['nproc']} cores, `nproc`) |",
        f"| RAM | {info['ram_gib']} GiB |",
        f"| kernel | {info['kernel']} |",
        f"| Python | {info['python']} |",
        f"| quartier | {info.get('quartier', '?')} |",
        f"| GDAL (pyogrio, bundled) | {info['gdal_pyogrio']} |",
        f"| GDAL (ogr2ogr, Debian) | {info['gdal_ogr2ogr']} |",
        f"| pyogrio | {info['pyogrio']} |",
        f"| shapely / GEOS | {info['shapely']} / {info['geos']} |",
        f"| pyarrow / numpy | {info['pyarrow']} / {info['numpy']} |",
        f"| SQLite (Python's `sqlite3`) | {info['sqlite']} |",
        f"| psycopg | {info.get('psycopg', '?')} |",
        f"| PostgreSQL | {info['postgresql']} |",
        f"| PostGIS | {info['postgis']} |",
        "| PostgreSQL settings | "
        + ", ".join(f"{k}={v}" for k, v in pg.items())
        + " |",
        "",
        END,
    ]
    return "\n".join(lines)


INTRO = """# Import benchmarks

See the introduction in this file's history; rerun with
`python benchmarks/generate.py && python benchmarks/bench_import.py`.

"""


def write_doc(section: str) -> None:
    text = DOC.read_text() if DOC.exists() else INTRO
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text if text.endswith("\n") else text + "\n")


# ------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="number of features")
    ap.add_argument("--runs", type=int, default=5, help="runs per candidate")
    ap.add_argument(
        "--mem-runs",
        type=int,
        default=2,
        help="runs of ours-gpkg on the N/4 source (0: skip)",
    )
    ap.add_argument(
        "--only",
        default=",".join(CANDIDATES),
        help="comma-separated candidates (default: all)",
    )
    ap.add_argument(
        "--no-doc", action="store_true", help="do not rewrite docs/benchmarks.md"
    )
    ap.add_argument(
        "--render",
        metavar="RESULTS_JSON",
        help="only rewrite docs/benchmarks.md from a saved results_<N>.json",
    )
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--source", help=argparse.SUPPRESS)
    ap.add_argument("--target", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child, args.source, args.target)
        return

    if args.render:
        p = json.loads(Path(args.render).read_text())
        summary = summarise(p["results"])
        write_doc(
            render(
                p["n"],
                p["runs"],
                p["machine"],
                summary,
                p["memory"],
                p["started"],
                p["elapsed_s"],
            )
        )
        print(f"updated {DOC}")
        return

    sys.path.insert(0, str(HERE))
    from generate import generate, source_path

    names = [c.strip() for c in args.only.split(",") if c.strip()]
    unknown = set(names) - set(CANDIDATES)
    if unknown:
        raise SystemExit(f"unknown candidates: {', '.join(sorted(unknown))}")
    if not Path(OGR2OGR).exists():
        raise SystemExit(f"{OGR2OGR} missing: apt-get install gdal-bin")
    started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")
    t_start = time.perf_counter()
    source = source_path(args.n)
    if not source.exists():
        print(f"{source} missing: generating it")
        generate(args.n)
    small_n = args.n // 4
    if args.mem_runs and "ours-gpkg" in names and not source_path(small_n).exists():
        generate(small_n)
    if WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True)
    info = machine_info()
    info["src_fingerprint"] = src_fingerprint()
    print(
        f"{args.n:,} features from {source}; {info['nproc']} × {info['cpu']}, "
        f"{info['ram_gib']} GiB",
        flush=True,
    )

    results: list[dict[str, Any]] = []
    for run in range(args.runs):
        for name in names:
            r = run_once(name, source, f"{run}")
            r["run"] = run
            results.append(r)
            print(
                f"run {run + 1}/{args.runs} {name:<16} {r['seconds']:8.2f} s "
                f"cpu {r['cpu_s']:7.2f} s peak {r['rss_mb']:7.0f} MB "
                f"load {r['load1']:.2f}",
                flush=True,
            )
            if r["rows"] != args.n:
                raise SystemExit(f"{name} stored {r['rows']} rows, expected {args.n}")

    summary = summarise(results)
    mem = None
    if args.mem_runs and "ours-gpkg" in summary:
        small = []
        for run in range(args.mem_runs):
            r = run_once("ours-gpkg", source_path(small_n), f"small{run}")
            print(
                f"mem {run + 1}/{args.mem_runs} ours-gpkg N/4={small_n:,} "
                f"{r['seconds']:8.2f} s peak {r['rss_mb']:7.0f} MB",
                flush=True,
            )
            small.append(r)
        mem = {
            "n": args.n,
            "n_small": small_n,
            "rss_n_mb": summary["ours-gpkg"]["rss_mb"],
            "time_n_s": summary["ours-gpkg"]["median_s"],
            "rss_small_mb": statistics.median(r["rss_mb"] for r in small),
            "runs_small": small,
            "time_small_s": statistics.median(r["seconds"] for r in small),
            "rss_before_mb": summary["ours-gpkg"]["rss_before_mb"],
        }
    elapsed = time.perf_counter() - t_start
    info["src_fingerprint_end"] = src_fingerprint()
    info["src_changed"] = info["src_fingerprint_end"] != info["src_fingerprint"]
    if info["src_changed"]:
        print("warning: src/ changed while the benchmark ran", file=sys.stderr)

    print()
    print(f"{'candidate':<18}{'median s':>10}{'min s':>9}{'max s':>9}{'peak MB':>9}")
    for name, s in summary.items():
        print(
            f"{name:<18}{s['median_s']:>10.2f}{s['min_s']:>9.2f}{s['max_s']:>9.2f}"
            f"{s['rss_mb']:>9.0f}"
        )
    for ours, peer, goal in COMPARISONS:
        if ours in summary and peer in summary:
            ratio = summary[ours]["median_s"] / summary[peer]["median_s"]
            verdict = (
                ""
                if goal is None
                else (f" (goal ≤ {goal}: {'met' if ratio <= goal else 'NOT met'})")
            )
            print(f"{ours} / {peer}: {ratio:.2f}x{verdict}")
    if mem:
        print(
            f"ours-gpkg peak RSS: {mem['rss_small_mb']:.0f} MB at {small_n:,}, "
            f"{mem['rss_n_mb']:.0f} MB at {args.n:,}"
        )

    payload = {
        "n": args.n,
        "runs": args.runs,
        "started": started,
        "elapsed_s": elapsed,
        "machine": info,
        "results": results,
        "summary": summary,
        "memory": mem,
    }
    json_path = OUT / f"results_{args.n}.json"
    json_path.write_text(json.dumps(payload, indent=2, default=str))
    print(f"results: {json_path}")
    if not args.no_doc:
        write_doc(render(args.n, args.runs, info, summary, mem, started, elapsed))
        print(f"updated {DOC}")
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()

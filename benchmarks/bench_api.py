"""API benchmark: Quartier's OGC API and tiles next to pygeoapi and tipg.

    bash benchmarks/setup_peers.sh                # once: peers in /work/peers-venv
    .venv/bin/python benchmarks/bench_api.py      # 1,000,000 features, ~30 min
    .venv/bin/python benchmarks/bench_api.py --n 20000 --runs 1 --seconds 3

One run, the same generated data (``benchmarks/generate.py``), the same
requests (``peers/plan.py``, fixed seed) for five servers started one at a
time with 2 workers each (``peers/servers.py``): pygeoapi with its OGR
(GeoPackage) and PostgreSQL providers, tipg on PostGIS, Quartier on its
GeoPackage and PostGIS stores. For each run, each server in turn is started
fresh and measured on: cold tiles (each tile once, 16 clients), hot tiles,
bbox pages, the deep page and features by id (wrk, 16 connections, a warm-up
then ``--seconds``), then stopped. Runs go round-robin over the servers so
slow drifts of the machine spread over all. The first run also checks every
server's answers against the data (``peers/checks.py``). Results: JSON in
``benchmarks/out/api_results_<N>.json`` and the section between the
``bench_api`` markers of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import load  # noqa: E402
from peers import checks, data, report  # noqa: E402
from peers.measure import (  # noqa: E402
    db_pids,
    fill_caches,
    keyset_deep_paths,
    paths,
    timed_wrk,
    warm,
)
from peers.plan import Plan, make_plan  # noqa: E402
from peers.servers import PEERS, Server, all_servers  # noqa: E402

OUT = HERE / "out"


def run_server(
    server: Server,
    plan: Plan,
    args: argparse.Namespace,
    run: int,
    truth: data.Truth,
    deep_cache: dict[str, list[str]],
    check: dict[str, Any],
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def record(workload: str, r: dict[str, Any]) -> None:
        keep = (
            "rps",
            "p50_s",
            "p95_s",
            "p99_s",
            "errors",
            "requests",
            "seconds",
            "cpu",
            "bytes",
            "status",
            "fill_passes",
            "counted",
            "drain_s",
        )
        rows.append(
            {
                "run": run,
                "server": server.name,
                "workload": workload,
                **{k: r[k] for k in keep if k in r},
            }
        )
        print(
            f"  {server.name:14} {workload:12} {r['rps']:9.1f} req/s  p50 "
            f"{r['p50_s']:.3f}  p95 {r['p95_s']:.3f}  errors {r['errors']}",
            flush=True,
        )

    server.start()
    try:
        pids = server.worker_pids()
        warm(server)
        if server.ours and server.name not in deep_cache:
            deep_cache[server.name] = keyset_deep_paths(server, plan)
        urls = paths(server, plan, deep_cache.get(server.name))
        wanted = args.workloads.split(",")
        if "tiles" in urls and "tiles" in wanted:
            with load.CpuMeter(server.pid, db_pids(server)) as meter:
                got, wall = load.fetch_all(
                    server.base, urls["tiles"], concurrency=args.connections
                )
            r = load.fetch_stats(got, wall)
            r["cpu"] = meter.summary()
            record("tiles_cold", r)
            if run == 0:
                check["tiles"] = checks.tile_report(
                    [
                        (t, f.status, f.body, f.headers)
                        for t, f in zip(plan.tiles, got, strict=True)
                    ],
                    truth,
                )
                ok = [f for f in got if f.status == 200 and f.body]
                if ok:  # one tile fully decoded (geometries too) by mapbox_vector_tile
                    check["tiles"]["full_decode_features"] = checks.decode_one(
                        ok[0].body
                    )
            passes = fill_caches(server, urls["tiles"], args)
            hot = timed_wrk(server, urls["tiles"], args, "tiles_hot", warm=False)
            hot["fill_passes"] = passes
            record("tiles_hot", hot)
        for wl in ("bbox", "deep", "deep_offset", "id"):
            if wl in urls and wl.split("_")[0] in wanted:
                record(wl, timed_wrk(server, urls[wl], args, wl))
        if run == 0 and not args.no_checks:
            run_checks(server, plan, truth, urls, check)
        restarted = sorted(set(server.worker_pids()) - set(pids))
        if restarted:  # uvicorn kills a worker that misses its health checks
            print(f"  {server.name}: workers restarted: {restarted}", flush=True)
            for row in rows:
                row["worker_restarts"] = len(restarted)
    finally:
        server.stop()
    return rows


def run_checks(
    server: Server,
    plan: Plan,
    truth: data.Truth,
    urls: dict[str, list[str]],
    check: dict[str, Any],
) -> None:
    t0 = time.perf_counter()
    check["walk"] = checks.walk(server, plan.walk_bbox, truth)
    check["samples"] = checks.samples(server, plan, truth, urls["deep"])
    if server.tiles:
        got, _ = load.fetch_all(
            server.base, [server.tile(*t) for t in plan.probe_tiles], concurrency=2
        )
        check["probe"] = checks.tile_report(
            [
                (t, f.status, f.body, f.headers)
                for t, f in zip(plan.probe_tiles, got, strict=True)
            ],
            truth,
        )
        tj = checks.tilejson(server)
        check["tilejson"] = tj
        check["tilejson_limit"] = _limit_in(tj)
    print(
        f"  {server.name:14} checks in {time.perf_counter() - t0:.1f} s: walk "
        f"{'ok' if check['walk']['ok'] else 'WRONG'} ({check['walk']['returned']}/"
        f"{check['walk']['expected']}, {check['walk']['repeats']} repeats), samples "
        + ", ".join(
            f"{k} {check['samples'][k]['n_bad']} bad" for k in ("bbox", "deep", "id")
        ),
        flush=True,
    )


def _limit_in(tj: dict[str, Any] | None) -> str:
    """The TileJSON keys that speak of a feature limit (or "no")."""
    if not tj:
        return "no TileJSON"
    found: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if any(w in k.lower() for w in checks.SAYS):
                    found.add(k if not isinstance(v, int | str) else f"{k}: {v}")
                visit(v)
        elif isinstance(node, list):
            for v in node:
                visit(v)

    visit(tj)
    return ", ".join(f"`{k}`" for k in sorted(found)) or "no"


# ------------------------------------------------------------------- machine
def _venv_versions(python: Path, mods: dict[str, str]) -> dict[str, str]:
    code = (
        "import importlib.metadata as m, json, platform, sys\n"
        "out = {'python': platform.python_version()}\n"
        f"for k, dist in {mods!r}.items():\n"
        "    try: out[k] = m.version(dist)\n"
        "    except Exception: out[k] = '?'\n"
        "print(json.dumps(out))"
    )
    try:
        proc = subprocess.run(
            [str(python), "-c", code], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return {}
    v: dict[str, str] = json.loads(proc.stdout)
    return v


def machine(n: int) -> dict[str, Any]:
    from importlib.metadata import version

    import bench_import

    info = bench_import.machine_info()
    info["src_fingerprint"] = bench_import.src_fingerprint()
    info["uvicorn"] = version("uvicorn")
    wrk = subprocess.run([load.WRK, "--version"], capture_output=True, text=True)
    info["wrk"] = (
        (wrk.stdout or wrk.stderr).split()[1] if (wrk.stdout or wrk.stderr) else "?"
    )
    info["peers"] = _venv_versions(
        PEERS / "pygeoapi" / "bin" / "python",
        {
            "pygeoapi": "pygeoapi",
            "flask": "flask",
            "gunicorn": "gunicorn",
            "gdal": "gdal",
            "sqlalchemy": "sqlalchemy",
            "psycopg2": "psycopg2-binary",
        },
    ) | {
        k: v
        for k, v in _venv_versions(
            PEERS / "tipg" / "bin" / "python",
            {"tipg": "tipg", "uvicorn": "uvicorn", "asyncpg": "asyncpg"},
        ).items()
        if k != "python"
    }
    return info


# ---------------------------------------------------------------------- main
def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="number of features")
    ap.add_argument("--runs", type=int, default=5, help="runs per workload and server")
    ap.add_argument("--seconds", type=float, default=10.0, help="seconds per timed run")
    ap.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per run")
    ap.add_argument("--connections", type=int, default=16, help="concurrent clients")
    ap.add_argument("--only", default="", help="servers, comma-separated (default all)")
    ap.add_argument("--workloads", default="tiles,bbox,deep,id")
    ap.add_argument("--port", type=int, default=18430, help="first of 5 ports")
    ap.add_argument("--encoding", default="gzip", help="Accept-Encoding sent")
    ap.add_argument("--reimport", action="store_true", help="reload all data")
    ap.add_argument("--no-checks", action="store_true", help="skip correctness checks")
    ap.add_argument("--no-doc", action="store_true", help="leave docs/benchmarks.md")
    ap.add_argument(
        "--render", metavar="JSON", help="only rewrite the doc from results"
    )
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.render:
        report.write_doc(report.render(json.loads(Path(args.render).read_text())))
        return
    import generate

    load.ACCEPT_ENCODING = checks.HEADERS["Accept-Encoding"] = args.encoding
    started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")
    t_start = time.perf_counter()
    load_start = os.getloadavg()[0]
    import bench_import

    fingerprint = bench_import.src_fingerprint()
    source = generate.generate(args.n, quiet=True)
    print(f"source {source}; loading the servers' data…", flush=True)
    print("  peers:", data.load_peers(args.n, source, force=args.reimport), flush=True)
    truth = data.Truth(args.n)
    extent = truth.extent()
    servers = all_servers(args.n, source, extent, args.port)
    if args.only:
        keep = args.only.split(",")
        servers = [s for s in servers if s.name in keep]
    if any(s.ours for s in servers):
        q = data.load_quartier(args.n, source, force=args.reimport)
        print("  quartier:", {k: q[k] for k in ("loaded", "table")}, flush=True)
    plan = make_plan(args.n, extent)
    results: list[dict[str, Any]] = []
    all_checks: dict[str, Any] = {}
    deep_cache: dict[str, list[str]] = {}
    for run in range(args.runs):
        print(f"run {run + 1}/{args.runs} (load {os.getloadavg()[0]:.2f})", flush=True)
        for server in servers:
            check = all_checks.setdefault(server.name, {})
            results += run_server(server, plan, args, run, truth, deep_cache, check)
    all_checks = {k: v for k, v in all_checks.items() if v}
    identical = _identical(all_checks)
    if identical is not None:
        all_checks["_identical"] = identical
    for c in all_checks.values():
        if isinstance(c, dict):
            c.get("samples", {}).pop("pages", None)
    truth.close()
    info = machine(args.n)
    info["src_fingerprint"] = fingerprint
    info["src_fingerprint_end"] = bench_import.src_fingerprint()
    info["load_start"], info["load_end"] = (
        round(load_start, 2),
        round(os.getloadavg()[0], 2),
    )
    payload = {
        "n": args.n,
        "runs": args.runs,
        "seconds": args.seconds,
        "connections": args.connections,
        "started": started,
        "encoding": args.encoding,
        "elapsed_s": time.perf_counter() - t_start,
        "machine": info,
        "labels": {s.name: s.label for s in servers},
        "plan": {
            "bboxes": len(plan.bboxes),
            "deep_offsets": sorted(set(plan.deep_offsets)),
            "ids": len(plan.ids),
            "tiles": plan.tiles,
            "probe": plan.probe_tiles,
            "walk_bbox": plan.walk_bbox,
            "extent": extent,
        },
        "results": results,
        "checks": all_checks,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"api_results_{args.n}.json"
    path.write_text(json.dumps(payload, indent=1, default=str))
    print(f"results in {path}")
    section = report.render(payload)
    if not args.no_doc:
        report.write_doc(section)
        print(f"section rewritten in {report.DOC}")
    else:
        print(section)


def _identical(all_checks: dict[str, Any]) -> str | None:
    """Do both Quartier stores return the same pages and the same walk?"""
    a, b = all_checks.get("quartier-gpkg"), all_checks.get("quartier-pg")
    if not a or not b or "samples" not in a or "samples" not in b:
        return None
    same_pages = a["samples"]["pages"] == b["samples"]["pages"]
    same_walk = a["walk"]["fids_sha"] == b["walk"]["fids_sha"]
    return (
        "yes"
        if same_pages and same_walk
        else (
            f"**no** (bbox pages identical: {same_pages}, walk identical: {same_walk})"
        )
    )


if __name__ == "__main__":
    main()

"""Where does our import spend its time? Sample it with py-spy.

    .venv/bin/pip install py-spy
    .venv/bin/python benchmarks/profile_import.py --n 1000000 --store gpkg
    .venv/bin/python benchmarks/profile_import.py --n 1000000 --store postgis

Runs ``import_path`` on ``benchmarks/out/buildings_<N>.gpkg`` under
``py-spy record`` (50 samples/s, ``--idle`` so time spent waiting for
PostgreSQL counts) and prints the share of samples per function (inclusive)
and per source line where the sample was taken (self; time in C code such as
SQLite or GEOS is charged to the Python line that called it). The raw
collapsed stacks stay in ``benchmarks/out/profile_<store>_<N>.txt`` (feed them
to flamegraph.pl or speedscope for a picture). Without py-spy, falls back to
cProfile (whose per-call overhead inflates the Python loops).
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
PG = {"host": "127.0.0.1", "port": 5432, "user": "quartier", "password": "quartier"}


def _target(store: str, n: int) -> str:
    if store == "gpkg":
        path = OUT / "work" / f"profile_{n}.gpkg"
        path.parent.mkdir(parents=True, exist_ok=True)
        for s in ("", "-wal", "-shm"):
            Path(str(path) + s).unlink(missing_ok=True)
        return str(path)
    import psycopg

    db = f"quartier_profile_{os.getpid()}"
    with psycopg.connect(dbname="postgres", autocommit=True, **PG) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}"')
        conn.execute(f'CREATE DATABASE "{db}"')
    with psycopg.connect(dbname=db, autocommit=True, **PG) as conn:
        conn.execute("CREATE EXTENSION postgis")
    return f"postgresql://{PG['user']}:{PG['password']}@{PG['host']}:{PG['port']}/{db}"


def _cleanup(store: str, target: str) -> None:
    if store == "gpkg":
        for s in ("", "-wal", "-shm"):
            Path(target + s).unlink(missing_ok=True)
        return
    import psycopg

    db = target.rsplit("/", 1)[1]
    with psycopg.connect(dbname="postgres", autocommit=True, **PG) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def run_import(source: str, target: str) -> None:
    from quartier.services.importer import ImportOptions, import_path
    from quartier.storage import open_store

    t0 = time.perf_counter()
    store = open_store(target)
    try:
        import_path(store, source, ImportOptions(dataset="buildings"))
    finally:
        store.close()
    print(f"import: {time.perf_counter() - t0:.2f} s", flush=True)


def summarise(raw: Path, top: int) -> None:
    inclusive: collections.Counter[str] = collections.Counter()
    lines: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        if not line.strip():
            continue
        stack, count = line.rsplit(" ", 1)
        n = int(count)
        total += n
        frames = stack.split(";")
        lines[frames[-1]] += n
        for f in {re.sub(r":\d+\)$", ")", f) for f in frames}:
            inclusive[f] += n
    print(f"\n{total} samples\n\ninclusive, per function:")
    for f, n in inclusive.most_common(top):
        print(f"{100 * n / total:6.1f}%  {f}")
    print("\nself, per line:")
    for f, n in lines.most_common(top):
        print(f"{100 * n / total:6.1f}%  {f}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--store", choices=["gpkg", "postgis"], default="gpkg")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--run", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.run:
        run_import(*args.run)
        return

    sys.path.insert(0, str(HERE))
    from generate import generate, source_path

    source = source_path(args.n)
    if not source.exists():
        generate(args.n)
    target = _target(args.store, args.n)
    me = [sys.executable, str(Path(__file__).resolve()), "--run", str(source), target]
    try:
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        if Path(spy).exists():
            raw = OUT / f"profile_{args.store}_{args.n}.txt"
            subprocess.run(
                [
                    spy,
                    "record",
                    "--idle",
                    "-r",
                    "50",
                    "-f",
                    "raw",
                    "-o",
                    str(raw),
                    "--",
                    *me,
                ],
                check=True,
            )
            summarise(raw, args.top)
        else:
            print("py-spy not found: using cProfile", file=sys.stderr)
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.runcall(run_import, str(source), target)
            pstats.Stats(prof).sort_stats("cumulative").print_stats(args.top)
    finally:
        _cleanup(args.store, target)


if __name__ == "__main__":
    main()

"""Where does a Quartier server spend its time under one bench_api workload?

    .venv/bin/python benchmarks/profile_api.py --workload tiles_hot
    .venv/bin/python benchmarks/profile_api.py --server quartier-pg --workload bbox

Starts one server of ``measure.py`` (same data, same requests), drives the
workload with wrk (16 connections) and samples both worker processes with
py-spy (``record --nonblocking``, 200 Hz, active threads only) meanwhile.
Prints the functions with the most samples, inclusive and self, summed over
both workers, and keeps the collapsed stacks in ``benchmarks/out/profile_*``
(open them with speedscope or flamegraph.pl).
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import load  # noqa: E402
from peers import data, measure  # noqa: E402
from peers.plan import make_plan  # noqa: E402
from peers.servers import all_servers  # noqa: E402

OUT = HERE / "out"


#: leaf frames of threads that only wait (py-spy's idle detection misses
#: these: the thread pool's idle workers, the supervisor pipe)
IDLE = ("Condition.wait (threading.py", "Connection._recv (multiprocessing")


def summarise(files: list[Path], top: int) -> str:
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for f in files:
        for line in f.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack:
                continue
            n = int(count)
            frames = stack.split(";")
            if frames[-1].startswith(IDLE):
                continue
            total += n
            own[frames[-1]] += n
            for fr in set(frames):
                inclusive[fr] += n
    lines = [
        f"{total} busy samples over {len(files)} workers (waiting threads left out)",
        "",
        "inclusive:",
    ]
    lines += [f"{100 * c / total:5.1f} %  {fr}" for fr, c in inclusive.most_common(top)]
    lines += ["", "quartier's own functions (inclusive):"]
    lines += [
        f"{100 * c / total:5.1f} %  {fr}"
        for fr, c in [x for x in inclusive.most_common() if "quartier/" in x[0]][:top]
    ]
    lines += ["", "self:"]
    lines += [f"{100 * c / total:5.1f} %  {fr}" for fr, c in own.most_common(top)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--server", default="quartier-gpkg")
    ap.add_argument(
        "--workload",
        default="tiles_hot",
        choices=["tiles_hot", "tiles_cold", "bbox", "deep", "deep_offset", "id"],
    )
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--port", type=int, default=18430)
    args = ap.parse_args(argv)
    pyspy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")

    source = data.WORK.parent / f"buildings_{args.n}.gpkg"
    truth = data.Truth(args.n)
    extent = truth.extent()
    truth.close()
    if args.server.startswith("quartier"):
        data.load_quartier(args.n, source)
    server = next(
        s
        for s in all_servers(args.n, source, extent, args.port)
        if s.name == args.server
    )
    plan = make_plan(args.n, extent)
    server.start()
    try:
        measure.warm(server)
        deep = measure.keyset_deep_paths(server, plan) if server.ours else None
        urls = measure.paths(server, plan, deep)
        key = "tiles" if args.workload.startswith("tiles") else args.workload
        if args.workload == "tiles_hot":  # fill both workers' caches first
            load.fetch_all(server.base, urls["tiles"])
            measure.fill_caches(
                server, urls["tiles"], argparse.Namespace(connections=16)
            )
        pids = server.worker_pids()
        stem = OUT / f"profile_{args.server}_{args.workload}_{args.n}"
        files = [Path(f"{stem}_{pid}.txt") for pid in pids]
        spies = [
            subprocess.Popen(
                [
                    pyspy,
                    "record",
                    "--nonblocking",
                    "-r",
                    "200",
                    "-f",
                    "raw",
                    "-p",
                    str(pid),
                    "-d",
                    str(int(args.seconds) + 2),
                    "-o",
                    str(f),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for pid, f in zip(pids, files, strict=True)
        ]
        time.sleep(1)
        if args.workload == "tiles_cold":
            got, wall = load.fetch_all(server.base, urls["tiles"])
            r = load.fetch_stats(got, wall)
        else:
            r = load.wrk(server.base, urls[key], seconds=args.seconds)
        for p in spies:
            p.wait()
    finally:
        server.stop()
    print(
        f"{args.server} {args.workload}: {r['rps']:.1f} req/s, p50 {r['p50_s']:.3f} s, "
        f"p95 {r['p95_s']:.3f} s, errors {r['errors']} (while profiled)\n"
    )
    print(summarise([f for f in files if f.exists()], args.top))


if __name__ == "__main__":
    main()

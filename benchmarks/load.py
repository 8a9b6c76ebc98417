"""Load generation for ``bench_api.py``: wrk for timed runs, asyncio for counted ones.

* :func:`wrk` drives Debian's ``wrk`` (C, epoll, one thread) for a fixed
  duration over a rotating list of paths (a Lua script reads the list and
  prints a JSON summary: requests, non-2xx/3xx statuses, socket errors,
  latency percentiles from wrk's own histogram). Its CPU time is measured
  (GNU ``time``) so the share of the two cores it takes from the server is
  known: the report gives it.
* :func:`fetch_all` fetches a list of paths once each with N concurrent
  clients (httpx + asyncio, keep-alive), keeping status, latency and body:
  for cold tiles (each tile exactly once on a fresh server) and for the
  correctness checks, where the bodies are decoded afterwards.
* :class:`CpuMeter` samples ``/proc`` so that a run can say how much CPU the
  server, PostgreSQL, the load generator and *everything else* used — the
  last one shows when another job shared the machine.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WRK = "/usr/bin/wrk"
TIME = "/usr/bin/time"
ACCEPT = "application/geo+json, application/json;q=0.9, */*;q=0.1"
#: what browsers and MapLibre send; every server answers as it does by default
#: (bench_api.py --encoding identity to ask for uncompressed bodies)
ACCEPT_ENCODING = "gzip"
TICK = os.sysconf("SC_CLK_TCK")

# One Lua state per wrk thread: each thread reads the list and starts at its
# own offset; `done` runs in the main state and prints one JSON line.
LUA = r"""
local paths = {}
local i = 0
function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then paths[#paths + 1] = line end
  end
  i = tonumber(args[2] or "0") % #paths
end
function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\nWRKJSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, ' ..
    '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean))
end
"""


def wrk(
    base: str,
    paths: list[str],
    *,
    seconds: float,
    connections: int = 16,
    threads: int = 1,
    start: int = 0,
    timeout_s: int = 60,
) -> dict[str, Any]:
    """Run wrk against ``base`` for ``seconds``; return its JSON summary + CPU."""
    with tempfile.TemporaryDirectory(prefix="bench_api_wrk_") as tmp:
        script, listing = Path(tmp) / "rotate.lua", Path(tmp) / "paths.txt"
        script.write_text(LUA)
        listing.write_text("\n".join(paths) + "\n")
        cpu_file = Path(tmp) / "cpu"
        cmd = [
            TIME,
            "-f",
            "%U %S",
            "-o",
            str(cpu_file),
            WRK,
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds:g}s",
            f"--timeout={timeout_s}s",
            "-H",
            f"Accept: {ACCEPT}",
            "-H",
            f"Accept-Encoding: {ACCEPT_ENCODING}",
            "-s",
            str(script),
            base,
            "--",
            str(listing),
            str(start),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr}")
        line = next(
            (x for x in proc.stdout.splitlines() if x.startswith("WRKJSON ")), None
        )
        if line is None:
            raise RuntimeError(f"no summary from wrk:\n{proc.stdout}\n{proc.stderr}")
        out: dict[str, Any] = json.loads(line[len("WRKJSON ") :])
        user, system = cpu_file.read_text().split()[-2:]
    secs = out["duration_us"] / 1e6
    out["seconds"] = secs
    out["rps"] = out["requests"] / secs if secs else 0.0
    out["p50_s"] = out["p50_us"] / 1e6
    out["p95_s"] = out["p95_us"] / 1e6
    out["p99_s"] = out["p99_us"] / 1e6
    out["errors"] = (
        out["connect"] + out["read"] + out["write"] + out["status"] + out["timeout"]
    )
    out["loadgen_cpu_s"] = float(user) + float(system)
    return out


# ------------------------------------------------------------ counted fetches
@dataclass
class Fetched:
    path: str
    status: int
    seconds: float
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


async def _fetch_all(
    base: str, paths: list[str], concurrency: int, timeout_s: float
) -> tuple[list[Fetched], float]:
    import httpx

    queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
    for item in enumerate(paths):
        queue.put_nowait(item)
    results: list[Fetched | None] = [None] * len(paths)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=16)
    async with httpx.AsyncClient(
        base_url=base,
        limits=limits,
        timeout=timeout_s,
        headers={"Accept": ACCEPT, "Accept-Encoding": ACCEPT_ENCODING},
    ) as client:

        async def worker() -> None:
            while True:
                try:
                    i, path = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                t0 = time.perf_counter()
                r = await client.get(path)
                body = r.content
                results[i] = Fetched(
                    path, r.status_code, time.perf_counter() - t0, body, dict(r.headers)
                )

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - t0
    return [r for r in results if r is not None], wall


def fetch_all(
    base: str, paths: list[str], *, concurrency: int = 16, timeout_s: float = 120.0
) -> tuple[list[Fetched], float]:
    """Fetch every path once with ``concurrency`` clients: (results, wall seconds)."""
    return asyncio.run(_fetch_all(base, paths, concurrency, timeout_s))


def fetch_stats(results: list[Fetched], wall: float) -> dict[str, Any]:
    lat = sorted(r.seconds for r in results)
    return {
        "requests": len(results),
        "seconds": wall,
        "rps": len(results) / wall if wall else 0.0,
        "p50_s": percentile(lat, 50),
        "p95_s": percentile(lat, 95),
        "p99_s": percentile(lat, 99),
        "errors": sum(1 for r in results if r.status not in (200, 204)),
        "bytes": sum(len(r.body) for r in results),
    }


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list (nan when empty)."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, round(p / 100 * len(sorted_values)) - 1))
    return sorted_values[k]


# ----------------------------------------------------------------- CPU meter
def _proc_table() -> dict[int, tuple[int, int, int]]:
    """pid -> (ppid, uid, utime+stime ticks) for every process we can read."""
    table: dict[int, tuple[int, int, int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
            uid = entry.stat().st_uid
        except OSError:
            continue
        rest = stat[stat.rfind(b")") + 2 :].split()
        # fields after the command: state(0) ppid(1) ... utime(11) stime(12)
        table[int(entry.name)] = (int(rest[1]), uid, int(rest[11]) + int(rest[12]))
    return table


def _total_ticks() -> tuple[int, int]:
    """(busy, all) jiffies of the whole machine from /proc/stat."""
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    idle = parts[3] + parts[4]
    return sum(parts) - idle, sum(parts)


def tree_ticks(root: int) -> int:
    """CPU ticks used so far by ``root`` and its descendants."""
    table = _proc_table()
    return sum(table[p][2] for p in _tree(table, root) if p in table)


def wait_idle(
    root: int | None,
    busy_queries: Any = None,
    *,
    below: float = 0.1,
    step: float = 0.5,
    timeout: float = 300.0,
) -> float:
    """Wait until the server is idle; returns the seconds waited.

    A load generator that stops leaves requests in flight: servers finish
    them (a sync worker cannot tell the client left, a query runs to its
    end), which would slow down whatever is measured next. Idle means: the
    server's processes use less than ``below`` of a core over ``step`` and
    ``busy_queries()`` (its database's active queries) returns 0.
    """
    t0 = time.perf_counter()
    if root is None:
        return 0.0
    last = tree_ticks(root)
    while time.perf_counter() - t0 < timeout:
        time.sleep(step)
        now = tree_ticks(root)
        cores = (now - last) / TICK / step
        last = now
        if cores < below and (busy_queries is None or busy_queries() == 0):
            break
    return time.perf_counter() - t0


def _tree(table: dict[int, tuple[int, int, int]], root: int) -> set[int]:
    tree, changed = {root}, True
    while changed:
        changed = False
        for pid, (ppid, _uid, _t) in table.items():
            if ppid in tree and pid not in tree:
                tree.add(pid)
                changed = True
    return tree


class CpuMeter:
    """CPU seconds over an interval: the server's processes, its database
    backends, this process, and everything else on the machine.

    ``db_pids`` (called at the end) gives the PostgreSQL backends serving the
    server (by database name), so other databases' work — another job's test
    suite — is not counted as the server's. Per-process deltas: a process
    that ended during the interval is lost to "other".
    """

    def __init__(self, server_pid: int | None, db_pids: Any = None) -> None:
        self.server_pid, self.db_pids = server_pid, db_pids

    def __enter__(self) -> CpuMeter:
        self.start, self.busy0 = _proc_table(), _total_ticks()[0]
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.t0
        end, busy1 = _proc_table(), _total_ticks()[0]

        def delta(pids: set[int]) -> float:
            ticks = sum(
                end[p][2] - (self.start[p][2] if p in self.start else 0)
                for p in pids
                if p in end
            )
            return max(0, ticks) / TICK

        tree = _tree(end, self.server_pid) if self.server_pid else set()
        db = set(self.db_pids()) if self.db_pids else set()
        self.cpu = {
            "server": delta(tree),
            "postgres": delta(db - tree),
            "self": delta({os.getpid()}),
            "machine": (busy1 - self.busy0) / TICK,
        }

    def summary(self, loadgen_cpu_s: float = 0.0) -> dict[str, float]:
        c = self.cpu
        other = c["machine"] - c["server"] - c["postgres"] - c["self"] - loadgen_cpu_s
        return {
            "wall_s": self.wall,
            "server_cpu_s": c["server"],
            "postgres_cpu_s": c["postgres"],
            "loadgen_cpu_s": loadgen_cpu_s + c["self"],
            "other_cpu_s": max(0.0, other),
        }

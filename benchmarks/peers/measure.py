"""How each workload is measured: request lists, warm-up, wrk runs, draining.

Used by ``bench_api.py`` and ``profile_api.py`` (``load`` is
``benchmarks/load.py``, on the path of both scripts).
"""

from __future__ import annotations

import argparse
from typing import Any
from urllib.parse import urljoin, urlsplit

import load

from . import checks, data
from .plan import Plan
from .servers import Server


# ------------------------------------------------------------------ requests
def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def keyset_deep_paths(server: Server, plan: Plan) -> list[str]:
    """Quartier's keyset URL for each deep page: the ``next`` link of the page before.

    The page at offset ``o`` is the one the ``next`` link of the page at
    ``o - 100`` points to, so whatever the cursor's format, the URL timed is
    exactly what a client walking the pages would request.
    """
    import httpx

    found: dict[int, str] = {}
    with httpx.Client(base_url=server.base, headers=checks.HEADERS, timeout=120) as c:
        for o in sorted(set(plan.deep_offsets)):
            r = c.get(server.items(limit=100, offset=o - 100))
            r.raise_for_status()
            nxt = checks._next_link(r.json())
            if nxt is None:
                raise RuntimeError(f"{server.name}: no next link at offset {o - 100}")
            found[o] = _path(urljoin(server.base + "/", nxt))
    return [found[o] for o in plan.deep_offsets]


def paths(server: Server, plan: Plan, deep: list[str] | None) -> dict[str, list[str]]:
    out = {
        "bbox": [server.items(bbox=b, limit=100) for b in plan.bboxes],
        "deep": deep or [server.items(limit=100, offset=o) for o in plan.deep_offsets],
        "id": [server.item(i) for i in plan.ids],
    }
    if server.ours:
        out["deep_offset"] = [
            server.items(limit=100, offset=o) for o in plan.deep_offsets
        ]
    if server.tiles:
        out["tiles"] = [server.tile(*t) for t in plan.tiles]
    return out


# ----------------------------------------------------------------- measuring
#: fewer responses than this in a timed window: the server is too slow for
#: wrk's window, so it is measured by a count instead (see timed_wrk)
MIN_RESPONSES = 32
SLOW: set[tuple[str, str]] = set()


def busy_queries(server: Server):  # type: ignore[no-untyped-def]
    """A callable counting active queries in the server's database (or None)."""
    if not server.db:
        return None

    def count() -> int:
        with data.pg_connect() as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND "
                "state = 'active' AND pid <> pg_backend_pid()",
                (server.db,),
            ).fetchone()
        return int(row[0])

    return count


def db_pids(server: Server):  # type: ignore[no-untyped-def]
    """A callable listing the PostgreSQL backends of the server's database."""
    if not server.db:
        return None

    def pids() -> list[int]:
        with data.pg_connect() as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", (server.db,)
            ).fetchall()
        return [int(r[0]) for r in rows]

    return pids


def drain(server: Server) -> float:
    return load.wait_idle(server.pid, busy_queries(server))


def timed_wrk(
    server: Server,
    urls: list[str],
    args: argparse.Namespace,
    workload: str = "",
    *,
    warm: bool = True,
) -> dict[str, Any]:
    """wrk for ``args.seconds`` after a warm-up; a count when the server is slow.

    When wrk's window holds fewer than MIN_RESPONSES answers (a few seconds
    a request), the same clients instead send MIN_RESPONSES requests and the
    time until the last answer is measured (no warm-up in later runs: the
    first run showed it slow). The server is drained (idle, no query running)
    before and after each measurement.
    """
    start = len(urls) // 3
    key = (server.name, workload)
    r: dict[str, Any] | None = None
    if key not in SLOW:
        if args.warmup > 0:
            load.wrk(
                server.base, urls, seconds=args.warmup, connections=args.connections
            )
        drain(server)
        with load.CpuMeter(server.pid, db_pids(server)) as meter:
            r = load.wrk(
                server.base,
                urls,
                seconds=args.seconds,
                connections=args.connections,
                start=start,
            )
        r["cpu"] = meter.summary(r["loadgen_cpu_s"])
        r["drain_s"] = drain(server)
        if r["requests"] < MIN_RESPONSES:
            SLOW.add(key)
            r = None
    if r is None:
        picked = (urls[start:] + urls[:start])[:MIN_RESPONSES]
        with load.CpuMeter(server.pid, db_pids(server)) as meter:
            got, wall = load.fetch_all(
                server.base, picked, concurrency=args.connections
            )
        r = load.fetch_stats(got, wall)
        r["cpu"] = meter.summary()
        r["counted"] = True
    return r


def warm(server: Server) -> None:
    """First requests of each worker on each endpoint (imports, table reflection,
    pools: pygeoapi's first page takes seconds), away from the data timed."""
    away = (0.0, 0.0, 0.001, 0.001)  # no feature there
    urls = [
        server.ready_path(),
        server.items(bbox=away, limit=100),
        server.items(limit=100, offset=100),
        server.item(1),
    ]
    if server.tiles:
        urls.append(server.tile(16, 0, 0))  # an empty tile, far from the data
    load.fetch_all(server.base, urls * 4, concurrency=4)


def fill_caches(
    server: Server, urls: list[str], args: argparse.Namespace
) -> list[float]:
    """Repeat the tiles until the throughput reaches a plateau (caches full).

    Each worker has its own cache and the cold pass left each tile in one of
    them; once tiles are cached wrk cycles through the list many times a
    second. 1-second runs go on until three in a row are no more than 10 %
    above the best before them (at most 30). Returns each second's rate.
    """
    rates: list[float] = []
    flat = 0
    for _ in range(30):
        r = load.wrk(server.base, urls, seconds=1, connections=args.connections)
        flat = flat + 1 if rates and r["rps"] <= 1.1 * max(rates) else 0
        rates.append(round(r["rps"], 1))
        if flat >= 3:
            break
    return rates

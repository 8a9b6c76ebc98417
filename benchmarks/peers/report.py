"""Summary, goals and the generated section of ``docs/benchmarks.md``."""

from __future__ import annotations

import re
import statistics
from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md"
BEGIN = "<!-- BEGIN GENERATED: bench_api (python benchmarks/bench_api.py) -->"
END = "<!-- END GENERATED: bench_api -->"

WORKLOADS = {
    "bbox": "bbox pages (`limit=100`)",
    "deep": "deep page (offset 50,000)",
    "deep_offset": "deep page, `offset=` (Quartier, for information)",
    "id": "feature by id",
    "tiles_cold": "tiles z13–16, cold (fresh server, each once)",
    "tiles_hot": "tiles z13–16, hot (repeated)",
}
PEERS = ["pygeoapi-gpkg", "pygeoapi-pg", "tipg"]
OURS = ["quartier-gpkg", "quartier-pg"]
# workload -> [(peer or None for "best peer", minimum ours/peer)]; hot tiles absolute
GOALS: dict[str, list[tuple[str, float]]] = {
    "bbox": [("tipg", 1.5), ("pygeoapi-gpkg", 4.0), ("pygeoapi-pg", 4.0)],
    "deep": [("tipg", 5.0), ("pygeoapi-gpkg", 5.0), ("pygeoapi-pg", 5.0)],
    "id": [("best", 1.0)],
    "tiles_cold": [("tipg", 2.0)],
}
HOT_GOAL = 2000.0
P95_GOAL = 0.3


def summarise(results: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """server -> workload -> medians over runs."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for r in results:
        out.setdefault(r["server"], {}).setdefault(r["workload"], {"runs": []})[
            "runs"
        ].append(r)
    for per in out.values():
        for s in per.values():
            rs = s["runs"]
            s["rps"] = statistics.median(r["rps"] for r in rs)
            s["rps_all"] = [round(r["rps"], 1) for r in rs]
            s["p50_s"] = statistics.median(r["p50_s"] for r in rs)
            s["p95_s"] = statistics.median(r["p95_s"] for r in rs)
            s["errors"] = sum(r["errors"] for r in rs)
            s["counted"] = any(r.get("counted") for r in rs)
            s["requests"] = sum(r["requests"] for r in rs)
            srv = [r["cpu"]["server_cpu_s"] + r["cpu"]["postgres_cpu_s"] for r in rs]
            s["server_ms_per_req"] = statistics.median(
                1000 * c / max(1, r["requests"]) for c, r in zip(srv, rs, strict=True)
            )
            s["loadgen_share"] = statistics.median(
                r["cpu"]["loadgen_cpu_s"] / max(1e-9, r["cpu"]["wall_s"]) for r in rs
            )
            s["other_share"] = statistics.median(
                r["cpu"]["other_cpu_s"] / max(1e-9, r["cpu"]["wall_s"]) for r in rs
            )
    return out


GOAL_TEXT = {
    "bbox": "≥ 4× pygeoapi, ≥ 1.5× tipg; p95 ≤ 0.3 s",
    "deep": "≥ 5× each",
    "id": "≥ 1× the best",
    "tiles_cold": "≥ 2× tipg",
    "tiles_hot": "≥ 2,000 tiles/s",
}


def goals(summary: dict[str, dict[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """One row per (ours, workload): ours/peer ratios and whether the goal is met."""
    rows: list[dict[str, Any]] = []
    for ours in OURS:
        mine = summary.get(ours, {})
        for wl in ("bbox", "deep", "id", "tiles_cold", "tiles_hot"):
            if wl not in mine:
                continue
            rps = mine[wl]["rps"]
            ratios = {
                peer: rps / summary[peer][wl]["rps"]
                for peer in PEERS
                if wl in summary.get(peer, {}) and summary[peer][wl]["rps"] > 0
            }
            mine_cpu = mine[wl]["server_ms_per_req"]
            cpu = {
                peer: summary[peer][wl]["server_ms_per_req"] / mine_cpu
                for peer in ratios
                if mine_cpu > 0
            }
            met = True
            if wl == "tiles_hot":
                met = rps >= HOT_GOAL
            elif wl == "id":
                met = bool(ratios) and min(ratios.values()) >= 1.0
            else:
                for peer, need in GOALS[wl]:
                    if peer in ratios and ratios[peer] < need:
                        met = False
            note = ""
            if wl == "bbox":
                p95 = mine[wl]["p95_s"]
                met = met and p95 <= P95_GOAL
                note = f"p95 {p95:.3f} s"
            elif wl == "tiles_hot":
                note = f"{rps:,.0f} tiles/s"
            rows.append(
                {
                    "ours": ours,
                    "workload": wl,
                    "ratios": ratios,
                    "cpu": cpu,
                    "met": met,
                    "goal": GOAL_TEXT[wl],
                    "note": note,
                }
            )
    return rows


def _fmt_rps(v: float) -> str:
    return f"{v:,.0f}" if v >= 100 else f"{v:,.1f}"


def render(p: dict[str, Any]) -> str:
    summary = summarise(p["results"])
    info, checks = p["machine"], p.get("checks", {})
    lines = [
        BEGIN,
        "",
        f"Run of {p['started']} UTC, {p['n']:,} features, {p['runs']} runs of "
        f"{p['seconds']:g} s per workload and server (median shown; whole benchmark "
        f"{p['elapsed_s'] / 60:.1f} min). {p['connections']} concurrent clients "
        f"(wrk {info.get('wrk', '?')}, 1 thread) on loopback; every server has "
        "2 worker processes and runs alone. Requests send `Accept-Encoding: "
        f"{p.get('encoding', 'identity')}` as browsers do (each server compresses or "
        "not, as it does by default). Source fingerprint "
        f"`{info.get('src_fingerprint', '?')}`.",
        "",
        "| server | workload | req/s | p50 (s) | p95 (s) | errors | server+PG CPU "
        "ms/req | load gen. CPU | other CPU | req/s per run |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for server in PEERS + OURS:
        for wl, label in WORKLOADS.items():
            s = summary.get(server, {}).get(wl)
            if not s:
                continue
            mark = " †" if s["counted"] else ""
            lines.append(
                f"| {p['labels'].get(server, server)} | {label} | {_fmt_rps(s['rps'])}"
                f"{mark} | {s['p50_s']:.3f} | {s['p95_s']:.3f} | {s['errors']}"
                f" | {s['server_ms_per_req']:.1f} | {100 * s['loadgen_share']:.0f} %"
                f" | {100 * s['other_share']:.0f} % | {', '.join(map(str, s['rps_all']))} |"
            )
    lines += [
        "",
        "CPU columns: seconds of CPU used by the server's processes plus "
        "PostgreSQL's per request; the load generator's and everything else's "
        "share of one core during the run (other > 5 % means another job "
        "shared the machine). † Too slow for the timed window (fewer than 32 "
        "answers): measured as 32 requests by the 16 clients, from the first sent "
        "to the last answered.",
        "",
        "Goals: ours / peer, req/s of the same run (> 1: Quartier is faster); in "
        "brackets the inverse ratio of server+PG CPU per request, which suffers "
        "less when other work shares the machine.",
        "",
        "| ours | workload | ÷ "
        + " | ÷ ".join(p["labels"].get(x, x) for x in PEERS)
        + " | goal | met | |",
        "| --- | --- |" + " ---: |" * len(PEERS) + " --- | --- | --- |",
    ]
    for g in goals(summary):
        cells = " | ".join(
            f"{g['ratios'][x]:.2f}× ({g['cpu'][x]:.1f}×)" if x in g["ratios"] else "—"
            for x in PEERS
        )
        lines.append(
            f"| {p['labels'].get(g['ours'], g['ours'])} | {WORKLOADS[g['workload']]}"
            f" | {cells} | {g['goal']} | {'yes' if g['met'] else '**no**'}"
            f" | {g['note']} |"
        )
    restarts = sorted(
        {(r["server"], r["run"] + 1) for r in p["results"] if r.get("worker_restarts")}
    )
    if restarts:
        lines += [
            "",
            "**Worker restarts** (a master killed a worker, e.g. uvicorn after "
            "missed health checks; its requests failed and its cache was lost): "
            + ", ".join(f"{p['labels'].get(s_, s_)} in run {n}" for s_, n in restarts)
            + ".",
        ]
    if info.get("src_fingerprint_end", info.get("src_fingerprint")) != info.get(
        "src_fingerprint"
    ):
        lines += [
            "",
            "**Warning**: `src/` changed while the benchmark ran (fingerprint at "
            f"the end: `{info['src_fingerprint_end']}`): runs may have measured "
            "different code.",
        ]
    lines += [
        "",
        *render_checks(checks, p["labels"]),
        "",
        *render_machine(info),
        "",
        END,
    ]
    return "\n".join(lines)


def render_checks(checks: dict[str, Any], labels: dict[str, str]) -> list[str]:
    if not checks:
        return ["(no correctness checks in this run)"]
    lines = [
        "Correctness (untimed, first run):",
        "",
        "| server | paging through a bbox (next links) | bbox / deep / id samples "
        "| tiles z13–16: cut silently (declared) | z11–12 probe: cut silently "
        "(declared) | TileJSON states a limit |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for server, c in checks.items():
        if server.startswith("_"):
            continue
        w = c.get("walk", {})
        walk = (
            f"{'ok' if w.get('ok') else '**wrong**'}: {w.get('returned', 0):,} returned "
            f"/ {w.get('expected', 0):,} expected, {w.get('repeats', 0)} repeats, "
            f"{w.get('missing', 0)} missing, {w.get('pages', 0)} pages"
            + (f" ({w['problem']})" if w.get("problem") else "")
        )
        smp = c.get("samples", {})
        sample = " / ".join(
            f"{smp[k]['checked'] - smp[k]['n_bad']}/{smp[k]['checked']}"
            for k in ("bbox", "deep", "id")
            if k in smp
        )
        t, pr = c.get("tiles"), c.get("probe")
        tiles = _tiles_cell(t)
        probe = _tiles_cell(pr)
        tj = c.get("tilejson_limit", "—") if t else "—"
        lines.append(
            f"| {labels.get(server, server)} | {walk} | {sample} | {tiles} | {probe} | {tj} |"
        )
    for server, c in checks.items():
        if server.startswith("_"):
            continue
        for key, what in (("tiles", "z13–16"), ("probe", "z11–12 probe")):
            cut = (c.get(key) or {}).get("cut_tiles") or []
            if cut:
                shown = ", ".join(
                    f"{'/'.join(map(str, t['tile']))}: {t.get('features', 0):,} of "
                    f"{t.get('expected', 0):,}"
                    for t in cut[:6]
                )
                lines += [
                    "",
                    f"{labels.get(server, server)}, tiles cut without a word ({what};"
                    f" features in the tile of features meeting it): {shown}"
                    + (" …" if len(cut) > 6 else "")
                    + ".",
                ]
    same = checks.get("_identical")
    if same is not None:
        lines += [
            "",
            f"Quartier GeoPackage and PostGIS return identical features: {same}.",
        ]
    return [x for x in lines if x is not None]


def _tiles_cell(t: dict[str, Any] | None) -> str:
    if not t:
        return "—"
    cut = f"**{t['cut']}**" if t["cut"] else "0"
    return (
        f"{cut} of {t['tiles']} ({t.get('declared', 0)}); max {t['max_features']:,} "
        f"features a tile"
    )


def render_machine(info: dict[str, Any]) -> list[str]:
    pv = info.get("peers", {})
    rows = [
        ("CPU", f"{info.get('cpu', '?')} ({info.get('nproc', '?')} cores)"),
        ("RAM", f"{info.get('ram_gib', '?')} GiB"),
        ("kernel", info.get("kernel", "?")),
        ("Python (Quartier)", info.get("python", "?")),
        ("Python (peers)", pv.get("python", "?")),
        (
            "pygeoapi",
            f"{pv.get('pygeoapi', '?')} (Flask {pv.get('flask', '?')}, gunicorn "
            f"{pv.get('gunicorn', '?')} sync workers, GDAL {pv.get('gdal', '?')}, "
            f"SQLAlchemy {pv.get('sqlalchemy', '?')}, psycopg2 {pv.get('psycopg2', '?')})",
        ),
        (
            "tipg",
            f"{pv.get('tipg', '?')} (uvicorn {pv.get('uvicorn', '?')}, asyncpg "
            f"{pv.get('asyncpg', '?')})",
        ),
        (
            "Quartier",
            f"{info.get('quartier', '?')} (uvicorn {info.get('uvicorn', '?')})",
        ),
        (
            "PostgreSQL / PostGIS",
            f"{info.get('postgresql', '?')} / {info.get('postgis', '?')}",
        ),
        ("SQLite (Quartier)", info.get("sqlite", "?")),
        ("load generator", f"wrk {info.get('wrk', '?')}; cold tiles and checks: httpx"),
        (
            "load average at start / end",
            f"{info.get('load_start', '?')} / {info.get('load_end', '?')}",
        ),
    ]
    return ["Machine and versions:", "", "| | |", "| --- | --- |"] + [
        f"| {k} | {v} |" for k, v in rows
    ]


def write_doc(section: str) -> None:
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOC.write_text(text if text.endswith("\n") else text + "\n")

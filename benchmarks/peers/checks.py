"""Correctness checks of ``bench_api.py`` (untimed), against the ground truth.

* ``walk``: page through one box by following ``next`` links to the end;
  repeats, missing and extra features against the exact ``ST_Intersects``
  answer (features only the box's envelope test would add are counted apart:
  an R-tree-only filter returns them);
* ``bbox``/``deep``/``id`` samples: status 200, the number of features, the
  features themselves (deep pages must be the fids at that offset; by-id
  properties must equal the source row);
* ``tiles``: features per tile (MVT decoded with ``mapbox_vector_tile``'s
  protobuf) against the features meeting the tile: a tile holding fewer was
  cut (or lost features) — and whether the server said so (headers, TileJSON).
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urljoin

import httpx

from .data import Truth, tile_bounds
from .plan import BBox, Plan
from .servers import Server

HEADERS = {
    "Accept": "application/geo+json, application/json",
    "Accept-Encoding": "gzip",
}
SAYS = ("trunc", "limit", "aggregat", "max_feat")


def _features(body: bytes) -> list[dict[str, Any]]:
    doc = json.loads(body)
    return list(doc.get("features", []))


def _fid(feature: dict[str, Any]) -> int:
    return int(feature["id"])


def _next_link(doc: dict[str, Any]) -> str | None:
    for link in doc.get("links", []):
        if link.get("rel") == "next":
            return str(link["href"])
    return None


def walk(
    server: Server, bbox: BBox, truth: Truth, max_pages: int = 400
) -> dict[str, Any]:
    """Follow ``next`` from the first bbox page to the end; compare with the truth."""
    exact = truth.fids_in_bbox(bbox)
    envelope = truth.fids_envelope_overlap(bbox)
    seen: list[int] = []
    pages, url = 0, server.base + server.items(bbox=bbox, limit=100)
    t0 = time.perf_counter()
    problem = None
    with httpx.Client(headers=HEADERS, timeout=120) as client:
        while url and pages < max_pages:
            r = client.get(url)
            pages += 1
            if r.status_code != 200:
                problem = f"HTTP {r.status_code} on page {pages}: {r.text[:200]}"
                break
            doc = r.json()
            feats = doc.get("features", [])
            seen += [_fid(f) for f in feats]
            nxt = _next_link(doc)
            if not feats or nxt is None:
                break
            url = urljoin(url, nxt)
    if pages >= max_pages and url:
        problem = f"still a next link after {max_pages} pages"
    exact_set, seen_set = set(exact), set(seen)
    return {
        "expected": len(exact),
        "returned": len(seen),
        "pages": pages,
        "seconds": time.perf_counter() - t0,
        "repeats": len(seen) - len(seen_set),
        "missing": len(exact_set - seen_set),
        "extra_envelope_only": len((seen_set - exact_set) & envelope),
        "extra_wrong": len(seen_set - exact_set - envelope),
        "ok": problem is None
        and len(seen) == len(seen_set)
        and not (exact_set - seen_set)
        and not (seen_set - exact_set - envelope),
        "problem": problem,
        "fids_sha": _digest(sorted(seen_set)),
    }


def _digest(fids: list[int]) -> str:
    import hashlib

    return hashlib.sha256(",".join(map(str, fids)).encode()).hexdigest()[:12]


def _get(client: httpx.Client, url: str) -> tuple[int, bytes]:
    r = client.get(url)
    return r.status_code, r.content


def samples(
    server: Server, plan: Plan, truth: Truth, deep_paths: list[str]
) -> dict[str, Any]:
    """Check a sample of each workload's requests; page fids kept for comparisons."""
    out: dict[str, Any] = {"bbox": {}, "deep": {}, "id": {}}
    bad: dict[str, list[str]] = {"bbox": [], "deep": [], "id": []}
    pages: dict[str, list[int]] = {}
    with httpx.Client(base_url=server.base, headers=HEADERS, timeout=120) as client:
        for bbox in plan.bboxes[:40]:
            status, body = _get(client, server.items(bbox=bbox, limit=100))
            if status != 200:
                bad["bbox"].append(f"HTTP {status}")
                continue
            fids = [_fid(f) for f in _features(body)]
            pages[",".join(f"{v:.6f}" for v in bbox)] = fids
            want = min(100, truth.count_in_bbox(bbox))
            envelope = truth.fids_envelope_overlap(bbox)
            if (
                len(fids) != want
                or not set(fids) <= envelope
                or len(set(fids)) != len(fids)
            ):
                bad["bbox"].append(f"{len(fids)} features (want {want}) for {bbox}")
        for offset, path in list(zip(plan.deep_offsets, deep_paths, strict=True))[:20]:
            status, body = _get(client, path)
            if status != 200:
                bad["deep"].append(f"HTTP {status} for {path}")
                continue
            fids = [_fid(f) for f in _features(body)]
            if fids != truth.fids_page(offset, 100):
                bad["deep"].append(f"wrong page at offset {offset}: {fids[:3]}…")
        ids = plan.ids[:50]
        props = truth.properties(ids)
        for fid in ids:
            status, body = _get(client, server.item(fid))
            if status != 200:
                bad["id"].append(f"HTTP {status} for id {fid}")
                continue
            f = json.loads(body)
            got = {k: f.get("properties", {}).get(k) for k in props[fid]}
            if _fid(f) != fid or not _same_props(got, props[fid]):
                bad["id"].append(f"id {fid}: {got} != {props[fid]}")
            elif "/" in str(got.get("survey_date")):
                out["notes"] = "dates written YYYY/MM/DD, not RFC 3339"
    for k in bad:
        out[k] = {
            "checked": {"bbox": 40, "deep": 20, "id": 50}[k],
            "bad": bad[k][:5],
            "n_bad": len(bad[k]),
        }
    out["pages"] = pages
    return out


def _same_props(got: dict[str, Any], want: dict[str, Any]) -> bool:
    for k, v in want.items():
        g = got.get(k)
        if isinstance(v, float) and isinstance(g, int | float):
            if abs(g - v) > 1e-9:
                return False
        elif k == "survey_date" and isinstance(g, str) and v is not None:
            # pygeoapi's OGR provider writes dates as YYYY/MM/DD
            if not g.replace("/", "-").startswith(v):
                return False
        elif g != v:
            return False
    return True


# --------------------------------------------------------------------- tiles
def count_mvt(body: bytes) -> tuple[int, list[str]]:
    """(features, layer names) of an MVT, read with mapbox_vector_tile's protobuf."""
    from mapbox_vector_tile.Mapbox import vector_tile_pb2

    tile = vector_tile_pb2.tile()
    tile.ParseFromString(body)
    return sum(len(layer.features) for layer in tile.layers), [
        layer.name for layer in tile.layers
    ]


def tile_report(
    fetched: list[tuple[tuple[int, int, int], int, bytes, dict[str, str]]],
    truth: Truth,
) -> dict[str, Any]:
    """Per-tile counts vs features meeting the tile.

    A tile holding fewer features than meet it was cut — *silently* unless a
    response header says so (truncated, limited, aggregated). 204 is an
    empty tile.
    """
    rows, cut, declared = [], [], []
    for t, status, body, headers in fetched:
        if status not in (200, 204):
            rows.append({"tile": list(t), "status": status})
            cut.append({"tile": list(t), "status": status})
            continue
        got, layers = count_mvt(body) if body else (0, [])
        want = truth.count_in_bbox(tile_bounds(*t))
        row: dict[str, Any] = {
            "tile": list(t),
            "status": status,
            "features": got,
            "expected": want,
            "bytes": len(body),
            "layers": layers,
        }
        said = {k: v for k, v in headers.items() if any(w in k.lower() for w in SAYS)}
        if said:
            row["headers"] = said
        rows.append(row)
        if got < want:
            (declared if said else cut).append(row)
    return {
        "tiles": len(fetched),
        "cut": len(cut),
        "declared": len(declared),
        "cut_tiles": cut[:40],
        "declared_tiles": declared[:10],
        "max_features": max((r.get("features", 0) for r in rows), default=0),
        "features_total": sum(r.get("features", 0) for r in rows),
        "expected_total": sum(r.get("expected", 0) for r in rows),
    }


def decode_one(body: bytes) -> int:
    """Full decode with mapbox_vector_tile (geometries too): feature count."""
    import mapbox_vector_tile

    doc = mapbox_vector_tile.decode(body)
    return sum(len(layer["features"]) for layer in doc.values())


def tilejson(server: Server) -> dict[str, Any] | None:
    try:
        r = httpx.get(server.base + server.tilejson(), headers=HEADERS, timeout=30)
    except httpx.HTTPError:
        return None
    if r.status_code != 200:
        return {"status": r.status_code}
    doc: dict[str, Any] = r.json()
    return doc

"""Small SVG maps and charts, drawn on the server (no script, no library).

Shapes are projected from the working CRS into the picture's box and
simplified to a pixel, so a map of a few thousand buildings stays small.
Colours go in presentation attributes (never ``style=``), so the pictures
pass the portal's content security policy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

import numpy as np
import shapely
from markupsafe import Markup


@dataclass(frozen=True)
class Layer:
    geometries: Sequence[shapely.Geometry]
    fill: str = "none"
    stroke: str = "none"
    width: float = 1.0
    radius: float = 2.5
    label: str = ""


def map_svg(
    layers: Sequence[Layer],
    bounds: tuple[float, float, float, float],
    *,
    width: int = 360,
    height: int = 260,
    title: str = "",
    max_shapes: int = 6000,
) -> Markup:
    """A map of ``layers`` (first drawn first) framed on ``bounds``."""
    x0, y0, x1, y1 = bounds
    span = max(x1 - x0, y1 - y0, 1e-9)
    pad = 0.04 * span
    x0, y0, x1, y1 = x0 - pad, y0 - pad, x1 + pad, y1 + pad
    scale = min(width / (x1 - x0), height / (y1 - y0))
    ox = (width - (x1 - x0) * scale) / 2
    oy = (height - (y1 - y0) * scale) / 2
    pixel = 1 / scale

    def xy(coords: np.ndarray) -> np.ndarray:
        out = np.empty_like(coords)
        out[:, 0] = ox + (coords[:, 0] - x0) * scale
        out[:, 1] = oy + (y1 - coords[:, 1]) * scale
        return out

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    frame = shapely.box(x0, y0, x1, y1)
    for layer in layers:
        geoms = np.asarray(list(layer.geometries), dtype=object)
        if len(geoms) == 0:
            continue
        geoms = geoms[~shapely.is_missing(geoms)]
        geoms = geoms[shapely.intersects(geoms, frame)][:max_shapes]
        points = shapely.get_type_id(geoms) == 0
        paths = []
        for g in shapely.simplify(geoms[~points], pixel):
            paths.append(_path(g, xy))
        if paths:
            parts.append(
                f'<path d="{" ".join(p for p in paths if p)}" fill="{layer.fill}" '
                f'stroke="{layer.stroke}" stroke-width="{layer.width:g}" '
                'fill-rule="evenodd" stroke-linejoin="round"/>'
            )
        if points.any():
            coords = xy(shapely.get_coordinates(geoms[points]))
            circles = "".join(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{layer.radius:g}"/>'
                for x, y in coords
            )
            parts.append(
                f'<g fill="{layer.fill}" stroke="{layer.stroke}" '
                f'stroke-width="{layer.width:g}">{circles}</g>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def _path(geom: shapely.Geometry, xy: object) -> str:
    out = []
    for part in shapely.get_parts(geom):
        kind = shapely.get_type_id(part)
        if kind == 3:  # polygon: every ring, closed
            rings = [part.exterior, *part.interiors]
            for ring in rings:
                out.append(_line(np.asarray(ring.coords), xy, close=True))
        elif kind in (1, 2):
            out.append(_line(np.asarray(part.coords), xy, close=False))
    return " ".join(o for o in out if o)


def _line(coords: np.ndarray, xy: object, *, close: bool) -> str:
    if len(coords) < 2:
        return ""
    p = xy(coords[:, :2])  # type: ignore[operator]
    text = "M" + "L".join(f"{x:.1f} {y:.1f}" for x, y in p)
    return text + ("Z" if close else "")


def bullet_svg(
    value: float | None,
    median: float | None,
    top: float,
    *,
    width: int = 160,
    height: int = 18,
    title: str = "",
) -> Markup:
    """A bar for ``value`` on a 0–``top`` scale with a tick at the median."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
        f'<rect x="0" y="4" width="{width}" height="{height - 8}" fill="#eceff1"/>',
    ]
    if top > 0 and value is not None and np.isfinite(value):
        w = max(0.0, min(1.0, value / top)) * width
        parts.append(
            f'<rect x="0" y="4" width="{w:.1f}" height="{height - 8}" fill="#00695c"/>'
        )
    if top > 0 and median is not None and np.isfinite(median):
        m = max(0.0, min(1.0, median / top)) * width
        parts.append(
            f'<rect x="{max(m - 1, 0):.1f}" y="0" width="2" height="{height}" '
            'fill="#b71c1c"/>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def columns_svg(
    rows: Sequence[tuple[str, float]],
    *,
    width: int = 360,
    height: int = 180,
    title: str = "",
    unit: str = "",
) -> Markup:
    """Vertical bars, one per (label, value), labelled below and above."""
    n = max(len(rows), 1)
    top = max([v for _, v in rows if np.isfinite(v)] + [0.0])
    band = width / n
    base = height - 24
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="0" y1="{base}" x2="{width}" y2="{base}" stroke="#607d8b"/>',
    ]
    for i, (label, value) in enumerate(rows):
        h = 0.0 if top <= 0 or not np.isfinite(value) else value / top * (base - 18)
        x = i * band + band * 0.15
        parts.append(
            f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{band * 0.7:.1f}" '
            f'height="{h:.1f}" fill="#00695c"/>'
        )
        middle = i * band + band / 2
        parts.append(
            f'<text x="{middle:.1f}" y="{height - 8}" font-size="10" '
            f'text-anchor="middle" fill="#263238">{escape(label)}</text>'
        )
        shown = f"{value:,.0f}".replace(",", "\u202f") + (f" {unit}" if unit else "")
        parts.append(
            f'<text x="{middle:.1f}" y="{base - h - 4:.1f}" font-size="9" '
            f'text-anchor="middle" fill="#263238">{escape(shown)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def bars_svg(
    rows: Sequence[tuple[str, float]],
    *,
    width: int = 520,
    title: str = "",
    shown: Callable[[float], str] = lambda v: f"{v:,.0f}".replace(",", "\u202f"),
) -> Markup:
    """Horizontal bars, one per (label, value), labels on the left."""
    line = 22
    height = line * max(len(rows), 1) + 8
    left = 150
    room = width - left - 70
    top = max([v for _, v in rows if np.isfinite(v)] + [0.0])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, value) in enumerate(rows):
        y = 4 + i * line
        w = 0.0 if top <= 0 or not np.isfinite(value) else value / top * room
        parts.append(
            f'<text x="{left - 6}" y="{y + 15}" font-size="12" text-anchor="end" '
            f'fill="#263238">{escape(label[:24])}</text>'
            f'<rect x="{left}" y="{y + 3}" width="{max(w, 0):.1f}" height="{line - 8}" '
            'fill="#00695c"/>'
            f'<text x="{left + w + 4:.1f}" y="{y + 15}" font-size="11" '
            f'fill="#263238">{escape(shown(value))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))

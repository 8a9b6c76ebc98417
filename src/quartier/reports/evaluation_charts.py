"""A line chart drawn on the server for the evaluation page (no script).

Like :mod:`quartier.reports.svg`: presentation attributes only (the portal's
content security policy forbids ``style=``), labels escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup


def line_svg(
    points: Sequence[tuple[str, float]],
    *,
    top: float = 100.0,
    width: int = 560,
    height: int = 220,
    title: str = "",
    colour: str = "#00695c",
) -> Markup:
    """One line over ``points`` (label, value) on a 0–``top`` scale, each
    point marked and its value written above it."""
    left, right, upper, base = 36, 16, 14, height - 28
    room = width - left - right
    n = len(points)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in (0.0, top / 2, top):
        y = base - tick / top * (base - upper)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
            'stroke="#cfd8dc"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end" '
            f'fill="#546e7a">{tick:g}</text>'
        )

    def xy(i: int, value: float) -> tuple[float, float]:
        x = left + (room / 2 if n == 1 else i * room / (n - 1))
        v = max(0.0, min(value, top))
        return x, base - v / top * (base - upper)

    coords = [xy(i, v) for i, (_, v) in enumerate(points)]
    if n > 1:
        line = "M" + "L".join(f"{x:.1f} {y:.1f}" for x, y in coords)
        parts.append(
            f'<path d="{line}" fill="none" stroke="{colour}" stroke-width="2" '
            'class="series-line"/>'
        )
    for (label, value), (x, y) in zip(points, coords, strict=True):
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}" '
            f'class="series-point" data-value="{value:g}"/>'
            f'<text x="{x:.1f}" y="{y - 7:.1f}" font-size="10" text-anchor="middle" '
            f'fill="#263238">{value:g}</text>'
            f'<text x="{x:.1f}" y="{height - 10}" font-size="10" '
            f'text-anchor="middle" fill="#263238">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))

"""The data diagnostic as one printable report (HTML, or PDF via Chromium).

``quartier diagnose --report rapport.html|rapport.pdf`` and the portal's
``/diagnostic/rapport`` write the same standalone page: the overall score
and the maturity rule, the table of essential datasets (coverage,
completeness, freshness, maturity, holder, licence), the gap maps as inline
SVG, the entries missing per quartier, the date. It is built from a
:class:`~quartier.services.diagnostic.Diagnostic` computed for one reader,
so a visitor's report never names a dataset hidden from them.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

import jinja2
from markupsafe import Markup

from quartier import templating
from quartier.i18n import N_, Translator
from quartier.reports.fiche import stylesheet
from quartier.reports.svg import Layer, map_svg
from quartier.services import diagnostic as service

#: quartiers shaded by how many essential datasets they lack (light → dark)
SHADES = ("#e8f5e9", "#fff9c4", "#ffe0b2", "#ffab91", "#e57373")
MISSING = "#b71c1c"
BUILT = "#90a4ae"
LEVELS = (
    N_("aucune donnée"),
    N_("existe"),
    N_("documentée"),
    N_("fiable"),
    N_("ouverte et à jour"),
)
FRESHNESS = {
    "fresh": N_("à jour"),
    "ageing": N_("vieillissante"),
    "stale": N_("périmée"),
    "unknown": "—",
}


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    return templating.environment("quartier.reports", "templates")


def context(
    d: service.Diagnostic,
    t: Translator,
    *,
    city: str = "",
    organisations: dict[str, str] | None = None,
) -> dict[str, Any]:
    """What the report shows, in ``t``'s language."""
    data = service.to_json(d, t.lang)
    names = organisations or {}
    titles = {e["key"]: e["title"] for e in data["entries"]}
    levels = [t.gettext(x) for x in LEVELS]
    fresh = {k: t.gettext(v) for k, v in FRESHNESS.items()}
    entries = []
    for e in data["entries"]:
        entries.append(
            {
                **e,
                "level_label": levels[e["level"]],
                "freshness_label": fresh[e["freshness"]],
                "holders": sorted(
                    {names.get(x["holder"], x["holder"]) for x in e["datasets"]} - {""}
                ),
                "licences": sorted({x["licence"] for x in e["datasets"]} - {""}),
            }
        )
    units = [
        {"name": u["name"], "missing": [titles.get(k, k) for k in u["missing"]]}
        for u in data.get("units", [])
    ]
    units.sort(key=lambda u: (-len(u["missing"]), u["name"].casefold()))
    return {
        "city": city,
        "d": data,
        "entries": entries,
        "units": units,
        "levels": levels,
        "unit_map": unit_map(d, t),
        "building_map": building_map(d, t),
        "shades": SHADES,
        "missing_colour": MISSING,
        "built_colour": BUILT,
        "made": t.date(d.created, time=True),
        "today": t.date(dt.date.today()),
    }


def standalone(
    d: service.Diagnostic,
    t: Translator,
    *,
    city: str = "",
    organisations: dict[str, str] | None = None,
) -> str:
    """One self-contained HTML file (styles inlined, pictures as SVG)."""
    values = context(d, t, city=city, organisations=organisations)
    return (
        environment()
        .get_template("diagnostic_report.html")
        .render(
            **values,
            css=Markup(stylesheet()),
            _=t.gettext,
            gettext=t.gettext,
            ngettext=t.ngettext,
            lang=t.lang,
            t=t,
        )
    )


def unit_map(d: service.Diagnostic, t: Translator) -> Markup | None:
    """Quartiers shaded by the number of essential datasets they lack."""
    if d.units is None or d.units.empty:
        return None
    counts = [len(m) for m in service.missing_by_unit(d)]
    low, top = min(counts), max(counts)
    step = (top - low) / len(SHADES) or 1
    layers = [
        Layer(
            [
                g
                for g, c in zip(d.units.geometry, counts, strict=True)
                if min(int((c - low) / step), len(SHADES) - 1) == n
            ],
            fill=shade,
            stroke="#607d8b",
            width=0.8,
        )
        for n, shade in enumerate(SHADES)
    ]
    return map_svg(
        layers,
        tuple(d.units.total_bounds),  # type: ignore[arg-type]
        width=560,
        height=380,
        title=t.gettext("Données manquantes par quartier"),
    )


def building_map(d: service.Diagnostic, t: Translator) -> Markup | None:
    """The grid: cells with buildings mapped, and settled cells without."""
    if d.cells is None or d.cells.empty:
        return None
    missing = d.cells["missing"].to_numpy(dtype=bool)
    built = d.cells["buildings"].to_numpy(dtype=bool)
    layers = []
    if d.units is not None:
        layers.append(Layer(list(d.units.geometry), fill="#fafafa", stroke="#b0bec5"))
    layers += [
        Layer(list(d.cells.geometry[built]), fill=BUILT, stroke="none"),
        Layer(list(d.cells.geometry[missing]), fill=MISSING, stroke="none"),
    ]
    frame = d.units if d.units is not None else d.cells
    return map_svg(
        layers,
        tuple(frame.total_bounds),  # type: ignore[arg-type]
        width=560,
        height=380,
        title=t.gettext("Cellules habitées sans bâtiment cartographié"),
    )

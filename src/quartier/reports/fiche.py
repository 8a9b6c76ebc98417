"""A neighbourhood profile ("fiche quartier") as HTML, in French or English.

The same body is shown in the portal (``/quartiers/{name}``, inside the
site's layout) and written by ``quartier analyze profile`` as a standalone
page (styles inlined, pictures as inline SVG: one file that opens offline)
or, through Chromium, as a PDF.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup

from quartier import templating
from quartier.i18n import Translator
from quartier.reports.svg import Layer, bullet_svg, columns_svg, map_svg
from quartier.services.profile import Gap, Indicator, Profiles


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    return templating.environment("quartier.reports", "templates")


def stylesheet() -> str:
    return (
        resources.files("quartier.web").joinpath("static/fiche.css").read_text("utf-8")
    )


@dataclass
class Row:
    label: str
    value: str
    median: str
    rank: str
    bar: Markup
    hint: str


def context(
    profiles: Profiles, unit: str, t: Translator, *, city: str = ""
) -> dict[str, Any]:
    """What the template shows for ``unit``."""
    _ = t.gettext
    compared = profiles.compared(unit)
    units = profiles.units
    names = units["name"].astype(str)
    here = units[names == unit]
    shape = here.geometry.union_all()
    rows = []
    for ind in profiles.indicators:
        c = compared[ind.key]
        top = float(np.nanmax(profiles.table[ind.key].to_numpy(dtype=float)))
        rows.append(
            Row(
                label=label(ind, t),
                value=shown(c["value"], ind, t),
                median=shown(c["median"], ind, t),
                rank=(
                    ""
                    if _missing(c["rank"])
                    else f"{int(c['rank'])} / {int(c['ranked'])}"
                ),
                bar=bullet_svg(
                    _float(c["value"]),
                    _float(c["median"]),
                    top if math.isfinite(top) else 0.0,
                    title=_("{what} : valeur et médiane de la ville").format(
                        what=label(ind, t)
                    ),
                ),
                hint={
                    "higher": _("plus c'est haut, mieux c'est"),
                    "lower": _("plus c'est bas, mieux c'est"),
                }.get(ind.better, ""),
            )
        )
    layers = profiles.layers
    detail = [
        Layer(list(here.geometry), fill="#f1f8e9", stroke="#33691e", width=1.5),
    ]
    if "roads" in layers:
        detail.append(Layer(list(layers["roads"].geometry), stroke="#90a4ae", width=1))
    if "buildings" in layers:
        detail.append(Layer(list(layers["buildings"].geometry), fill="#546e7a"))
    if "exposed" in layers:
        detail.append(Layer(list(layers["exposed"].geometry), fill="#c62828"))
    marks = {"sante": "#d81b60", "ecoles": "#1565c0", "marches": "#ef6c00"}
    for key, colour in marks.items():
        if key in layers:
            detail.append(
                Layer(list(layers[key].geometry), fill=colour, stroke="#fff", radius=4)
            )
    locator = map_svg(
        [
            Layer(list(units.geometry), fill="#eceff1", stroke="#90a4ae"),
            Layer(list(here.geometry), fill="#00695c", stroke="#004d40"),
        ],
        tuple(units.total_bounds),
        width=220,
        height=180,
        title=_("{unit} dans la commune").format(unit=unit),
    )
    detailed = map_svg(
        detail,
        tuple(here.total_bounds),
        title=_("Carte du quartier {unit}").format(unit=unit),
    )
    growth = None
    if profiles.periods is not None:
        mine = profiles.periods[profiles.periods["unit"].astype(str) == unit]
        if len(mine) and mine["area_m2"].sum() > 0:
            growth = columns_svg(
                [
                    (str(p), float(a))
                    for p, a in zip(mine["period"], mine["area_m2"], strict=True)
                ],
                unit="m²",
                title=_("Surface bâtie par période de construction"),
            )
    sources = [
        {
            "title": t.pick(s.dataset.title, s.dataset.title_en),
            "slug": s.dataset.slug,
            "version": s.version.version if s.version else "",
            "date": t.date(s.version.created if s.version else s.dataset.updated),
            "licence": s.dataset.licence,
            "attribution": s.dataset.attribution,
            "illustrative": s.dataset.illustrative,
        }
        for s in profiles.sources
    ]
    return {
        "unit": unit,
        "city": city,
        "rows": rows,
        "locator": locator,
        "map": detailed,
        "growth": growth,
        "sources": sources,
        "gaps": [_gap(g, t) for g in profiles.gaps + profiles.unit_gaps.get(unit, [])],
        "made": t.date(
            dt.datetime.now(dt.UTC).isoformat(timespec="minutes"), time=True
        ),
        "area": shape.area if shape is not None else 0,
        "legend": [
            (colour, _(label))
            for key, colour, label in (
                ("buildings", "#546e7a", "Bâtiments"),
                ("exposed", "#c62828", "Bâtiments exposés"),
                ("sante", "#d81b60", "Établissements de santé"),
                ("ecoles", "#1565c0", "Écoles"),
                ("marches", "#ef6c00", "Marchés"),
            )
            if key in layers
        ],
    }


def body(profiles: Profiles, unit: str, t: Translator, *, city: str = "") -> Markup:
    """The profile's content, for a page of the portal."""
    values = context(profiles, unit, t, city=city)
    html = environment().get_template("fiche_body.html").render(_values(values, t))
    return Markup(html)


def standalone(profiles: Profiles, unit: str, t: Translator, *, city: str = "") -> str:
    """One self-contained HTML file (styles inlined, no request at all)."""
    values = context(profiles, unit, t, city=city)
    values["body"] = body(profiles, unit, t, city=city)
    values["css"] = Markup(stylesheet())
    return environment().get_template("fiche.html").render(_values(values, t))


def _values(values: dict[str, Any], t: Translator) -> dict[str, Any]:
    return {
        **values,
        "_": t.gettext,
        "gettext": t.gettext,
        "ngettext": t.ngettext,
        "lang": t.lang,
        "t": t,
    }


def label(ind: Indicator, t: Translator) -> str:
    params = {k: t.gettext(v) for k, v in ind.params}
    return t.gettext(ind.label).format(**params)


def _gap(gap: Gap, t: Translator) -> str:
    params = {k: t.gettext(v) for k, v in gap.params}
    return t.gettext(gap.message).format(**params)


def _missing(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, float) and not math.isfinite(value))
        or bool(pd.isna(value))
    )


def _float(value: Any) -> float | None:
    return None if _missing(value) else float(value)


def shown(value: Any, ind: Indicator, t: Translator) -> str:
    if _missing(value):
        return "—"
    text = t.number(
        round(float(value), ind.digits) if ind.digits else round(float(value))
    )
    unit = t.gettext(ind.unit) if ind.unit else ""
    return f"{text} {unit}".strip()

"""What each analysis shows on its portal page: its results the reader may see.

Per analysis: which result dataset is the map, which is the table, and which
columns make the chart. Results are found by the lineage the analysis wrote
(``{"analysis": name, …}``), through the one authorisation layer: a result
the reader may not read is not there for them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from quartier import access
from quartier.access import Principal
from quartier.domain import Dataset
from quartier.i18n import N_
from quartier.services import analyses as an
from quartier.storage.base import SqlStore


@dataclass(frozen=True)
class Spec:
    name: str
    title: str
    lead: str
    #: result slugs (regular expressions), most wanted first
    map: tuple[str, ...]
    table: tuple[str, ...]
    #: chart: bars of ``value`` by ``label`` (summed per label), the top ones
    label: str
    value: tuple[str, ...]
    chart: str
    #: the table's order (column, ascending) and how many rows are shown
    order: tuple[str, bool] | None = None
    rows: int = 50
    #: maps colour the main result by this field: {slug pattern: (field,
    #: field giving the classes' order or None)}
    classes: tuple[tuple[str, str, str | None], ...] = ()


SPECS = (
    Spec(
        "exposure",
        N_("Exposition aux aléas"),
        N_(
            "Bâtiments, personnes, équipements et voies exposés à un aléa, par "
            "classe et par quartier."
        ),
        (r"^exposition_(?!.*_synthese$)",),
        (r"^exposition_.*_synthese$",),
        "unit",
        ("buildings",),
        N_("Bâtiments exposés par quartier"),
        classes=((r"^exposition_(?!.*_synthese$)", "hazard_class", None),),
    ),
    Spec(
        "accessibility",
        N_("Accessibilité et couverture des secours"),
        N_(
            "Temps de trajet vers l'équipement le plus proche, isochrones, "
            "population au-delà d'un seuil."
        ),
        (r"^isochrones_", r"^acces_(?!.*_synthese$)"),
        (r"^acces_.*_synthese$",),
        "unit",
        ("people_beyond", "buildings_beyond"),
        N_("Au-delà du seuil, par quartier"),
    ),
    Spec(
        "vulnerability",
        N_("Indice de vulnérabilité"),
        N_("Indice par quartier, ses composantes et leur sensibilité aux poids."),
        (r"^vulnerabilite$",),
        (r"^vulnerabilite$",),
        "unite",
        ("index",),
        N_("Indice de vulnérabilité par quartier"),
        order=("rank", True),
    ),
    Spec(
        "expansion",
        N_("Extension urbaine"),
        N_(
            "Surface bâtie par période, par quartier et par anneau, taux de "
            "croissance, bâti nouveau en zone d'aléa."
        ),
        (r"^expansion_batiments$", r"^expansion_raster_cellules$"),
        (r"^expansion_periodes$", r"^expansion_raster_periodes$"),
        "period",
        ("area_m2",),
        N_("Surface bâtie nouvelle par période (m²)"),
        classes=((r"^expansion_batiments$", "period", "year"),),
    ),
    Spec(
        "densification",
        N_("Potentiel de densification"),
        N_(
            "Surface de plancher supplémentaire permise par parcelle, îlot ou "
            "carreau, hors zones d'aléa et protégées."
        ),
        (r"^densification$",),
        (r"^densification$",),
        "plot",
        ("extra_floor_m2",),
        N_("Plancher supplémentaire possible, meilleures parcelles (m²)"),
        order=("rank", True),
    ),
    Spec(
        "suitability",
        N_("Aptitude des sites"),
        N_(
            "Où installer un commerce : clientèle à portée, concurrence, aléas, zonage."
        ),
        (r"^aptitude_sites$",),
        (r"^aptitude_sites$",),
        "cell",
        ("score",),
        N_("Score des meilleurs sites (0–100)"),
        order=("rank", True),
    ),
)
BY_NAME = {s.name: s for s in SPECS}


@dataclass
class Results:
    spec: Spec
    datasets: list[Dataset]
    map: Dataset | None = None
    table: Dataset | None = None
    lineage: dict[str, Any] = field(default_factory=dict)


def results(store: SqlStore, spec: Spec, reader: Principal) -> Results:
    """The readable results of ``spec``'s analysis, map and table chosen."""
    found = [
        ds
        for ds in access.readable(reader, store.list_datasets())
        if an.is_result(ds)
        and ds.current_version
        and json.loads(ds.lineage).get("analysis") == spec.name
    ]
    found.sort(key=lambda d: d.updated or d.created, reverse=True)
    out = Results(spec, found)
    out.map = _first(found, spec.map, features=True)
    out.table = _first(found, spec.table)
    main = out.table or out.map
    if main is not None:
        out.lineage = json.loads(main.lineage)
    return out


def _first(
    found: list[Dataset], patterns: tuple[str, ...], *, features: bool = False
) -> Dataset | None:
    for pattern in patterns:
        for ds in found:
            if re.search(pattern, ds.slug) and (not features or ds.kind == "features"):
                return ds
    return None


def table_rows(
    store: SqlStore, ds: Dataset, spec: Spec, reader: Principal
) -> pd.DataFrame:
    """The table's visible columns (no geometry), ordered, first rows."""
    frame = an.read_table(store, ds)
    hidden = access.hidden_fields(reader, ds)
    frame = frame[[c for c in frame.columns if c not in hidden and c != "fid"]]
    if spec.order and spec.order[0] in frame:
        frame = frame.sort_values(spec.order[0], ascending=spec.order[1])
    return frame.head(spec.rows)


def chart_rows(
    frame: pd.DataFrame, spec: Spec, top: int = 15
) -> list[tuple[str, float]]:
    """(label, value) bars: ``value`` summed per ``label``, in table order
    for periods, else the largest first."""
    value = next((v for v in spec.value if v in frame), None)
    if value is None or spec.label not in frame or frame.empty:
        return []
    sums = frame.groupby(frame[spec.label].astype(str), sort=False)[value].sum()
    if spec.label != "period":
        sums = sums.sort_values(ascending=False).head(top)
    return [(str(k), float(v)) for k, v in sums.items()]


#: colours of classes, in their order (yellow to dark red: old to recent,
#: or least to most)
CLASS_COLOURS = ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026")


def classed_field(ds: Dataset) -> tuple[str, str | None] | None:
    """(field, order field) a result dataset is coloured by on maps, if any."""
    if not an.is_result(ds):
        return None
    spec = BY_NAME.get(json.loads(ds.lineage).get("analysis", ""))
    for pattern, name, order in spec.classes if spec else ():
        if re.search(pattern, ds.slug):
            return name, order
    return None


def class_values(
    store: SqlStore, ds: Dataset, name: str, order: str | None
) -> list[str]:
    """The distinct values of ``name`` in the current version, in the order of
    ``order`` (their smallest value of it), else alphabetical; at most as many
    as there are class colours (the rest take the layer's colour)."""
    frame = an.read_table(store, ds)
    if name not in frame:
        return []
    values = frame[name].dropna().astype(str)
    if order and order in frame:
        keys = frame.loc[values.index, order].groupby(values).min()
        ranked = sorted(keys.index, key=lambda v: (keys[v], v))
    else:
        ranked = sorted(values.unique())
    return ranked[: len(CLASS_COLOURS)]

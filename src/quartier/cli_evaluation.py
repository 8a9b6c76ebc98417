"""``quartier evaluate`` and ``quartier calls``: the programme's evaluation
(diagnostic over time, contributions, campaign progress) and the public
calls for contributions. The command line runs as the workspace's
operator: it sees everything."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from quartier.access import LOCAL
from quartier.cli_common import DbOpt, JsonOpt, QuietOpt, _print_json, _store, out
from quartier.cli_common import progress as bar
from quartier.i18n import N_, _
from quartier.services import calls as call_service
from quartier.services import diagnostic as diag
from quartier.services import evaluation as service
from quartier.services import reference as reference_list

LangOpt = Annotated[str, typer.Option(help="fr ou en (textes de la sortie).")]
#: what is counted (the same labels as the portal's)
SOURCE_LABELS = {
    "submissions_approved": N_("Formulaires acceptés"),
    "submissions_pending": N_("Formulaires en attente"),
    "reports": N_("Signalements"),
    "cells_mapped": N_("Cellules cartographiées"),
    "cells_validated": N_("Cellules validées"),
    "features_edited": N_("Entités modifiées"),
}


def evaluate(
    db: DbOpt = None,
    as_json: JsonOpt = False,
    lang: LangOpt = "fr",
    quiet: QuietOpt = False,
) -> None:
    """Évaluation : scores du diagnostic dans le temps, contributions, campagnes."""
    with _store(db, create=False) as store:
        store.ensure_schema()
        with bar(_("Évaluation"), quiet or as_json, total=4) as step:
            found = service.evaluate(store, LOCAL, progress=step)
    data = service.to_json(found, lang)
    if as_json:
        _print_json(data)
        return
    points = data["series"]["points"]
    if len(points) < 2:
        out.print(
            _(
                "{n} diagnostic enregistré : lancez « quartier diagnose --save » à "
                "chaque étape pour suivre les scores dans le temps."
            ).format(n=len(points))
        )
    table = Table(title=_("Score du diagnostic dans le temps"))
    table.add_column(_("Version"))
    table.add_column(_("Date"))
    table.add_column(_("Score"))
    for p in points:
        table.add_row(str(p["version"]), p["date"][:10], f"{p['score']:g}")
    if points:
        out.print(table)
    kinds = Table(title=_("Contributions par type d'acteur"))
    kinds.add_column(_("Acteur"))
    for s in service.SOURCES:
        kinds.add_column(_(SOURCE_LABELS[s]))
    for kind, counts in data["contributions"]["by_kind"].items():
        kinds.add_row(kind, *(str(counts[s]) for s in service.SOURCES))
    out.print(kinds)
    campaigns = Table(title=_("Campagnes"))
    for head in (_("Campagne"), _("Cellules"), _("Cartographiées"), _("Validées")):
        campaigns.add_column(head)
    for c in data["campaigns"]:
        campaigns.add_row(
            c["title"],
            str(c["cells"]),
            f"{c['mapped']} ({c['mapped_pct']:g} %)",
            f"{c['validated']} ({c['validated_pct']:g} %)",
        )
    if data["campaigns"]:
        out.print(campaigns)


def calls(
    db: DbOpt = None,
    as_json: JsonOpt = False,
    lang: LangOpt = "fr",
    quiet: QuietOpt = False,
) -> None:
    """Appels à contributions : données manquantes, où, et comment aider."""
    with _store(db, create=False) as store:
        store.ensure_schema()
        entries = reference_list.entries(store)
        with bar(_("Diagnostic"), quiet or as_json, total=len(entries)) as step:
            found = diag.diagnose(store, LOCAL, progress=step)
        made = call_service.calls(store, LOCAL, found)
    data = call_service.to_json(made, found, lang)
    if as_json:
        _print_json(data)
        return
    table = Table(title=_("Appels à contributions"))
    for head in (_("Priorité"), _("Donnée"), _("Niveau"), _("Où"), _("Comment aider")):
        table.add_column(head)
    for c in data["calls"]:
        how = [f["title"] for f in c["forms"]] + [x["title"] for x in c["campaigns"]]
        if not how:
            how = c["contacts"] or [_("les administrateurs de la plateforme")]
        where = ", ".join(c["missing_in"][:4]) + (
            "…" if len(c["missing_in"]) > 4 else ""
        )
        table.add_row(
            f"{c['priority']:g}",
            c["title"],
            str(c["level"]),
            where or "—",
            "; ".join(how),
        )
    out.print(table)

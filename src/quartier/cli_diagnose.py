"""``quartier diagnose``: the data self-diagnostic of the city."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from quartier.cli_common import DbOpt, JsonOpt, QuietOpt, _print_json, _store, out
from quartier.cli_common import progress as bar
from quartier.errors import InvalidInput
from quartier.i18n import Translator, _
from quartier.reports import diagnostic_report
from quartier.reports.diagnostic_report import FRESHNESS
from quartier.reports.pdf import chromium, html_to_pdf
from quartier.services import diagnostic as diag
from quartier.services import reference as reference_list
from quartier.storage.base import SqlStore


def diagnose(
    db: DbOpt = None,
    as_json: JsonOpt = False,
    reference: Annotated[
        Path | None,
        typer.Option(help="Liste de référence (JSON) propre à la ville."),
    ] = None,
    grid: Annotated[
        float, typer.Option(help="Taille des cellules de la carte des lacunes (m).")
    ] = diag.GRID_M,
    save: Annotated[
        bool,
        typer.Option(
            "--save",
            help="Enregistrer niveaux et cartes des lacunes comme jeux (historique).",
        ),
    ] = False,
    lang: Annotated[
        str, typer.Option(help="fr ou en (sortie --json, rapport).")
    ] = "fr",
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help="Écrire le rapport imprimable : rapport.html ou rapport.pdf.",
        ),
    ] = None,
    quiet: QuietOpt = False,
) -> None:
    """Diagnostic des données : couverture, complétude, fraîcheur, maturité."""
    if report is not None and report.suffix.lower() not in (".html", ".htm", ".pdf"):
        raise InvalidInput(f"--report: {report.name}: name a .html or .pdf file")
    if report is not None and report.suffix.lower() == ".pdf" and chromium() is None:
        raise InvalidInput(
            "--report: a PDF needs Chromium (apt install chromium, or set "
            "QUARTIER_CHROMIUM); write the report as HTML: --report rapport.html"
        )
    with _store(db, create=False) as store:
        store.ensure_schema()
        entries = reference_list.entries(store, reference)
        with bar(_("Diagnostic"), quiet or as_json, total=len(entries)) as step:
            found = diag.diagnose(
                store, reference=reference, grid_m=grid, progress=step
            )
        written = diag.save(store, found, author="local") if save else []
        if report is not None:
            write_report(store, found, report, lang)
    if as_json:
        _print_json(diag.to_json(found, lang) | {"saved": written})
        return
    table = Table(
        title=_("Diagnostic des données — score {score} / 100").format(
            score=found.score
        )
    )
    table.add_column(_("Donnée"), overflow="ellipsis", no_wrap=True, max_width=34)
    for head in (_("Niveau"), _("Jeux"), _("Couverture"), _("Complétude")):
        table.add_column(head)
    table.add_column(_("Fraîcheur"), no_wrap=True)
    for r in found.entries:
        f = r.facts
        table.add_row(
            r.entry.title,
            str(r.level),
            ", ".join(r.datasets) or "—",
            "—" if f.coverage is None else f"{100 * f.coverage:.0f} %",
            "—" if f.completeness is None else f"{100 * f.completeness:.0f} %",
            _(FRESHNESS[f.freshness.value]),
        )
    out.print(table)
    if found.cells is not None:
        out.print(
            _(
                "Bâtiments manquants : {missing} cellules de {size:g} m où d'autres "
                "couches montrent des habitations (sur {settled})."
            ).format(
                missing=int(found.cells["missing"].sum()),
                size=found.grid_m,
                settled=int(found.cells["settled"].sum()),
            )
        )
    for note in found.notes:
        out.print(f"[yellow]{note}[/yellow]")
    if written:
        out.print(_("Enregistré : {names}").format(names=", ".join(written)))
    if report is not None:
        out.print(_("Rapport écrit : {path}").format(path=report), highlight=False)


def write_report(
    store: SqlStore, found: diag.Diagnostic, path: Path, lang: str
) -> None:
    """The standalone report, as HTML or (through Chromium) PDF."""
    t = Translator(lang)
    html = diagnostic_report.standalone(
        found,
        t,
        city=store.get_workspace().name,
        organisations={o.slug: o.name for o in store.list_organisations()},
    )
    if path.suffix.lower() == ".pdf":
        html_to_pdf(html, path)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")

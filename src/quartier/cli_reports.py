"""``quartier reports …``: residents' reports and contests, for the team
that handles them from a terminal (as the local administrator: personal
data included, every change in the report's public history)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from quartier.access import LOCAL
from quartier.cli_common import DbOpt, JsonOpt, _print_json, _store, out
from quartier.domain.reports import ReportKind, ReportStatus
from quartier.i18n import _
from quartier.services import reports as service

reports_app = typer.Typer(
    help="Signalements des habitant·es et contestations (suivi, statut).",
    no_args_is_help=True,
)
IdArg = Annotated[str, typer.Argument(help="Numéro du signalement.")]
NoteOpt = Annotated[str, typer.Option(help="Explication (publique).")]


@reports_app.command("list")
def reports_list(
    status: Annotated[
        ReportStatus | None,
        typer.Option(help="received, in_progress, resolved, rejected"),
    ] = None,
    category: Annotated[str | None, typer.Option(help="Catégorie.")] = None,
    kind: Annotated[
        ReportKind | None, typer.Option(help="report (signalement) ou contest")
    ] = None,
    organisation: Annotated[
        str | None, typer.Option(help="Organisation responsable.")
    ] = None,
    hidden: Annotated[
        bool, typer.Option("--hidden", help="Inclure les signalements masqués.")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 100,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Lister les signalements, les plus récents d'abord."""
    with _store(db, create=False) as store:
        store.ensure_schema()
        found = store.list_reports(
            kind=kind,
            status=status,
            category=category,
            organisations=[organisation] if organisation else None,
            hidden=None if hidden else False,
            limit=limit,
        )
    if as_json:
        _print_json([service.report_view(LOCAL, r) for r in found])
        return
    table = Table()
    for head in (_("Numéro"), _("Reçu le"), _("Catégorie"), _("Organisation"),
                 _("État"), _("Description")):  # fmt: skip
        table.add_column(head, overflow="ellipsis")
    for r in found:
        table.add_row(r.id, r.created[:10], r.category, r.organisation,
                      r.status.value, r.description[:60])  # fmt: skip
    out.print(table)


@reports_app.command("show")
def reports_show(report_id: IdArg, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Un signalement, avec son historique."""
    with _store(db, create=False) as store:
        store.ensure_schema()
        report = service.readable(store, LOCAL, report_id)
        view = service.report_view(LOCAL, report)
        events = service.history(store, LOCAL, report)
    if as_json:
        _print_json(view | {"history": events})
        return
    for key in ("id", "kind", "category", "organisation", "status", "description",
                "lon", "lat", "created", "name", "contact", "reporter"):  # fmt: skip
        if view.get(key) not in (None, ""):
            out.print(f"[bold]{key}[/bold]: {view[key]}")
    table = Table(title=_("Historique"))
    for head in (_("Date"), _("Action"), _("État"), _("Par"), _("Note")):
        table.add_column(head)
    for e in events:
        table.add_row(e["at"], e["action"], e["status"], e.get("actor", ""), e["note"])
    out.print(table)


@reports_app.command("status")
def reports_status(
    report_id: IdArg,
    status: Annotated[
        ReportStatus, typer.Argument(help="in_progress, resolved, rejected…")
    ],
    note: NoteOpt = "",
    db: DbOpt = None,
) -> None:
    """Changer l'état d'un signalement (un rejet demande une explication)."""
    with _store(db, create=False) as store:
        done = service.change_status(store, LOCAL, report_id, status, note)
    out.print(
        _("Signalement {id} : {status}.").format(id=done.id, status=done.status.value)
    )


@reports_app.command("hide")
def reports_hide(
    report_id: IdArg,
    note: NoteOpt = "",
    show: Annotated[
        bool, typer.Option("--show", help="Le montrer de nouveau.")
    ] = False,
    db: DbOpt = None,
) -> None:
    """Masquer un signalement des pages publiques (abus…), ou le remontrer."""
    with _store(db, create=False) as store:
        done = service.set_hidden(store, LOCAL, report_id, not show, note)
    out.print(
        (
            _("Signalement {id} masqué.")
            if done.hidden
            else _("Signalement {id} visible.")
        ).format(id=done.id)
    )

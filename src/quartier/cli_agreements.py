"""``quartier agreements …``: data-sharing agreements between organisations."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from quartier.access import LOCAL
from quartier.cli_common import DbOpt, JsonOpt, _print_json, _store, out
from quartier.domain.agreements import Agreement, AgreementStatus
from quartier.i18n import _
from quartier.services import agreements as service

agreements_app = typer.Typer(
    help="Conventions de partage de données (accès tant qu'elles sont en vigueur).",
    no_args_is_help=True,
)


@agreements_app.command("add")
def agreements_add(
    agreement_id: Annotated[str, typer.Argument(help="Identifiant de la convention.")],
    title: Annotated[str, typer.Option(help="Titre.")],
    holder: Annotated[str, typer.Option(help="Organisation qui détient les données.")],
    partner: Annotated[
        list[str], typer.Option(help="Organisation partenaire (répétable).")
    ],
    dataset: Annotated[list[str], typer.Option(help="Jeu partagé (répétable).")],
    purpose: Annotated[str, typer.Option(help="Finalité du partage.")],
    starts: Annotated[str, typer.Option(help="Premier jour (AAAA-MM-JJ).")],
    ends: Annotated[str, typer.Option(help="Dernier jour (AAAA-MM-JJ).")],
    active: Annotated[
        bool, typer.Option("--active", help="En vigueur dès maintenant.")
    ] = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Créer une convention (brouillon, ou en vigueur avec --active)."""
    with _store(db, create=False) as store:
        store.ensure_schema()
        made = service.create(
            store,
            LOCAL,
            Agreement(
                agreement_id,
                title,
                holder,
                tuple(partner),
                tuple(dataset),
                purpose,
                starts,
                ends,
                AgreementStatus.ACTIVE if active else AgreementStatus.DRAFT,
            ),
        )
    if as_json:
        _print_json(service.as_json(made))
        return
    out.print(
        _("Convention {id} enregistrée ({status}).").format(
            id=made.id, status=made.status.value
        )
    )


@agreements_app.command("list")
def agreements_list(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Lister les conventions."""
    with _store(db, create=False) as store:
        store.ensure_schema()
        found = store.list_agreements()
    if as_json:
        _print_json([service.as_json(a) for a in found])
        return
    table = Table()
    for head in (_("Identifiant"), _("Détenteur"), _("Partenaires"), _("Jeux"),
                 _("Du"), _("Au"), _("État")):  # fmt: skip
        table.add_column(head)
    for a in found:
        table.add_row(a.id, a.holder, ", ".join(a.partners), ", ".join(a.datasets),
                      a.starts, a.ends, a.status.value)  # fmt: skip
    out.print(table)


@agreements_app.command("status")
def agreements_status(
    agreement_id: Annotated[str, typer.Argument(help="Identifiant de la convention.")],
    status: Annotated[
        AgreementStatus, typer.Argument(help="draft, active, suspended, ended")
    ],
    db: DbOpt = None,
) -> None:
    """Mettre en vigueur, suspendre ou terminer une convention."""
    with _store(db, create=False) as store:
        done = service.set_status(store, LOCAL, agreement_id, status)
    out.print(
        _("Convention {id} : {status}.").format(id=done.id, status=done.status.value)
    )

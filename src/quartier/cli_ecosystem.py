"""``quartier access-requests …`` and ``quartier organisations capacity …``:
the data ecosystem from the command line."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from quartier.access import LOCAL, Principal
from quartier.cli_common import DbOpt, JsonOpt, _print_json, _store, out
from quartier.domain.ecosystem import Capacity, CapacityKind
from quartier.i18n import _
from quartier.services import access_requests as requests_service
from quartier.services import accounts, capacities
from quartier.storage.base import SqlStore

access_requests_app = typer.Typer(
    help="Demandes d'accès aux jeux restreints (acceptées par une convention).",
    no_args_is_help=True,
)
capacity_app = typer.Typer(
    help="Capacités et données qu'une organisation produit ou pourrait produire.",
    no_args_is_help=True,
)
UserOpt = Annotated[
    str | None,
    typer.Option("--user", help="Agir au nom de cet utilisateur (sinon : local)."),
]


def _who(store: SqlStore, user: str | None) -> Principal:
    if not user:
        return LOCAL
    return accounts.principal_of(store.get_user(user), via="local", store=store)


@access_requests_app.command("list")
def requests_list(
    user: UserOpt = None, db: DbOpt = None, as_json: JsonOpt = False
) -> None:
    """Lister les demandes (les siennes et celles à décider ; local : toutes)."""
    with _store(db, create=False) as store:
        store.ensure_schema()
        found = requests_service.listed(store, _who(store, user))
    if as_json:
        _print_json([requests_service.as_json(r) for r in found])
        return
    table = Table()
    for head in (_("N°"), _("Jeu"), _("Organisation"), _("Demandeur"), _("Du"),
                 _("Au"), _("État"), _("Convention")):  # fmt: skip
        table.add_column(head)
    for r in found:
        table.add_row(str(r.id), r.dataset, r.organisation, r.requester, r.starts,
                      r.ends, r.status.value, r.agreement)  # fmt: skip
    out.print(table)


@access_requests_app.command("ask")
def requests_ask(
    dataset: Annotated[str, typer.Argument(help="Jeu demandé.")],
    purpose: Annotated[str, typer.Option(help="Finalité de la demande.")],
    user: Annotated[str, typer.Option("--user", help="Qui demande.")],
    organisation: Annotated[str, typer.Option(help="Pour quelle organisation.")] = "",
    starts: Annotated[str, typer.Option(help="Premier jour (AAAA-MM-JJ).")] = "",
    ends: Annotated[str, typer.Option(help="Dernier jour (AAAA-MM-JJ).")] = "",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Demander l'accès à un jeu proposé sur demande."""
    with _store(db, create=False) as store:
        store.ensure_schema()
        made = requests_service.ask(
            store, _who(store, user), dataset, purpose=purpose, starts=starts,
            ends=ends, organisation=organisation,
        )  # fmt: skip
    if as_json:
        _print_json(requests_service.as_json(made))
        return
    out.print(_("Demande n° {id} enregistrée.").format(id=made.id))


def _decide(
    request_id: int, approve: bool, reason: str, user: str | None, db: str | None
) -> None:
    with _store(db, create=False) as store:
        done = requests_service.decide(
            store, _who(store, user), request_id, approve=approve, reason=reason
        )
    out.print(
        _("Demande n° {id} : {status}.").format(id=done.id, status=done.status.value)
        + (f" ({done.agreement})" if done.agreement else "")
    )


@access_requests_app.command("approve")
def requests_approve(
    request_id: Annotated[int, typer.Argument(help="Numéro de la demande.")],
    user: UserOpt = None,
    db: DbOpt = None,
) -> None:
    """Accepter une demande : une convention ouvre l'accès pour la période."""
    _decide(request_id, True, "", user, db)


@access_requests_app.command("refuse")
def requests_refuse(
    request_id: Annotated[int, typer.Argument(help="Numéro de la demande.")],
    reason: Annotated[str, typer.Option(help="Raison du refus.")],
    user: UserOpt = None,
    db: DbOpt = None,
) -> None:
    """Refuser une demande, en disant pourquoi."""
    _decide(request_id, False, reason, user, db)


@capacity_app.command("add")
def capacity_add(
    organisation: Annotated[str, typer.Argument(help="Organisation.")],
    kind: Annotated[
        str, typer.Option(help="capacity, produces, could_produce, on_request")
    ],
    label: Annotated[str, typer.Option(help="Texte libre.")] = "",
    ref: Annotated[
        str, typer.Option(help="Entrée de la liste de référence, ou jeu (on_request).")
    ] = "",
    note: Annotated[str, typer.Option(help="Précision.")] = "",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Déclarer une capacité ou une donnée produite / qui pourrait l'être."""
    with _store(db, create=False) as store:
        store.ensure_schema()
        made = capacities.declare(
            store,
            LOCAL,
            Capacity(0, organisation, CapacityKind.parse(kind), ref, label, note),
        )
        titles = capacities.reference_titles(store)
    if as_json:
        _print_json(capacities.as_json(made, titles))
        return
    out.print(_("Déclaration n° {id} enregistrée.").format(id=made.id))


@capacity_app.command("list")
def capacity_list(
    organisation: Annotated[
        str | None, typer.Argument(help="Organisation (toutes sinon).")
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Lister les capacités déclarées."""
    with _store(db, create=False) as store:
        store.ensure_schema()
        found = capacities.listed(store, LOCAL, organisation)
        titles = capacities.reference_titles(store)
    rows = [capacities.as_json(c, titles) for c in found]
    if as_json:
        _print_json(rows)
        return
    table = Table()
    for head in (_("N°"), _("Organisation"), _("Type"), _("Référence"), _("Libellé")):
        table.add_column(head)
    for c in rows:
        table.add_row(str(c["id"]), c["organisation"], c["kind"], c["ref"],
                      c["label"])  # fmt: skip
    out.print(table)

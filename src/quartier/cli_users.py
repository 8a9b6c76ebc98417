"""``quartier users …``: accounts, roles in organisations, API tokens."""

from __future__ import annotations

import getpass
from typing import Annotated, Any

import typer

from quartier.access import LOCAL
from quartier.cli_common import DbOpt, JsonOpt, _print_json, _store, err, out
from quartier.errors import InvalidInput
from quartier.i18n import _
from quartier.services import accounts

users_app = typer.Typer(
    help="Utilisateurs, rôles dans les organisations, jetons d'API.",
    no_args_is_help=True,
)


def _ask_password() -> str:
    first = getpass.getpass(_("Mot de passe : "))
    if getpass.getpass(_("Encore une fois : ")) != first:
        raise InvalidInput("the two passwords differ")
    return first


@users_app.command("add")
def users_add(
    username: str,
    password: Annotated[
        str | None,
        typer.Option(
            help="Mot de passe (sinon demandé ; QUARTIER_PASSWORD).",
            envvar="QUARTIER_PASSWORD",
        ),
    ] = None,
    no_password: Annotated[
        bool, typer.Option("--no-password", help="Compte sans mot de passe (jetons).")
    ] = False,
    admin: Annotated[bool, typer.Option("--admin", help="Administrateur.")] = False,
    name: Annotated[str, typer.Option("--name", help="Nom affiché.")] = "",
    email: Annotated[str, typer.Option()] = "",
    db: DbOpt = None,
) -> None:
    """Créer un compte."""
    if password is None and not no_password:
        password = _ask_password()
    with _store(db) as store:
        store.ensure_schema()
        user = accounts.create_user(
            store,
            username,
            password=password,
            display_name=name,
            email=email,
            is_admin=admin,
            actor=LOCAL,
        )
    out.print(_("Compte {user} créé.").format(user=user.username))


@users_app.command("grant")
def users_grant(
    username: str,
    organisation: str,
    role: Annotated[
        str, typer.Argument(help="admin, steward, moderator, contributor, viewer")
    ],
    db: DbOpt = None,
) -> None:
    """Donner un rôle dans une organisation."""
    with _store(db, create=False) as store:
        store.ensure_schema()
        accounts.grant_role(store, username, organisation, role, actor=LOCAL)
    out.print(
        _("{user} : {role} de {org}.").format(
            user=username, role=role, org=organisation
        )
    )


@users_app.command("token")
def users_token(
    username: str,
    name: Annotated[str, typer.Option("--name", help="À quoi sert ce jeton.")] = "",
    days: Annotated[
        int | None, typer.Option("--days", help="Expire après N jours.")
    ] = None,
    revoke: Annotated[
        str | None, typer.Option("--revoke", help="Révoquer le jeton ID.")
    ] = None,
    collect: Annotated[
        bool,
        typer.Option(
            "--collect",
            help="Jeton pour ODK Collect : valable seulement dans l'adresse "
            "de serveur /openrosa/key/<jeton>, jamais comme jeton d'API.",
        ),
    ] = False,
    json_out: JsonOpt = False,
    db: DbOpt = None,
) -> None:
    """Créer (ou révoquer) un jeton d'API ; le secret n'est affiché qu'une fois."""
    with _store(db, create=False) as store:
        store.ensure_schema()
        if revoke:
            token = accounts.revoke_token(store, revoke, actor=LOCAL)
            out.print(_("Jeton {id} révoqué.").format(id=token.id))
            return
        issued = accounts.issue_token(
            store,
            username,
            name=name,
            days=days,
            scope="collect" if collect else "api",
            actor=LOCAL,
        )
    if json_out:
        _print_json(
            {
                "id": issued.token.id,
                "token": issued.secret,
                "expires": issued.token.expires,
                "scope": issued.token.scope,
            }
        )
        return
    err.print(_("Jeton {id} (affiché une seule fois) :").format(id=issued.token.id))
    out.print(issued.secret, highlight=False)


@users_app.command("list")
def users_list(db: DbOpt = None, json_out: JsonOpt = False) -> None:
    """Lister les comptes et leurs rôles."""
    with _store(db, create=False) as store:
        store.ensure_schema()
        users = store.list_users()
    rows: list[dict[str, Any]] = [
        {
            "username": u.username,
            "display_name": u.display_name,
            "is_admin": u.is_admin,
            "active": u.active,
            "roles": {org: str(r) for org, r in u.roles.items()},
        }
        for u in users
    ]
    if json_out:
        _print_json(rows)
        return
    for r in rows:
        roles = ", ".join(f"{o}:{x}" for o, x in r["roles"].items())
        admin = " (admin)" if r["is_admin"] else ""
        out.print(f"{r['username']:<24}{admin} {roles}", highlight=False)

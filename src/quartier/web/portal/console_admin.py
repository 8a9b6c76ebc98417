"""The console's administration pages: organisations, users and roles, API
tokens, the audit log.

Who sees what: platform administrators everything; an organisation's admins
its members and roles; admins and stewards the organisations and the part of
the audit log about themselves, their datasets and their organisations;
everyone signed in their own tokens.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from quartier import access
from quartier.access import Principal
from quartier.domain.accounts import User
from quartier.i18n import N_ as _
from quartier.storage.base import SqlStore
from quartier.web.api_audit import AuditQuery, Entry, audit_page
from quartier.web.deps import context
from quartier.web.portal import labels
from quartier.web.portal.console_common import (
    Caller,
    ConsoleRoute,
    console,
    editable,
    is_editor,
    is_manager,
    managed_orgs,
    require,
    signed_in,
)

router = APIRouter(
    include_in_schema=False,
    default_response_class=HTMLResponse,
    route_class=ConsoleRoute,
)
JOURNAL_PAGE = 50
Filter = Annotated[str | None, Query(max_length=200)]


#: audit actions, as people read them (families: ``read`` covers ``read.*``)
ACTIONS = {
    "import": _("Import d'un fichier"),
    "restore": _("Restauration d'une version"),
    "dataset.update": _("Métadonnées ou accès modifiés"),
    "organisation.add": _("Organisation créée"),
    "user.add": _("Compte créé"),
    "user.grant": _("Rôle attribué"),
    "user.revoke": _("Rôle retiré"),
    "token.issue": _("Jeton émis"),
    "token.revoke": _("Jeton révoqué"),
    "webhook": _("Webhook"),
    "read": _("Lecture de données protégées"),
}


@router.get("/console/organisations")
def organisations(request: Request, who: Caller) -> HTMLResponse:
    pg = signed_in(request, who)
    require(is_editor(pg.who) or is_manager(pg.who), "organisations: staff only")
    store = context(request).store
    visible = access.readable(pg.who, store.list_datasets())
    return console(
        pg,
        "organisations.html",
        "orgs",
        orgs=store.list_organisations(),
        counts=_dataset_counts(visible),
        kinds=labels.actor_kinds(pg.t),
        can_add=access.can_manage(pg.who),
    )


@router.get("/console/utilisateurs")
def users(request: Request, who: Caller) -> HTMLResponse:
    pg = signed_in(request, who)
    require(is_manager(pg.who), "users: administrators only")
    store = context(request).store
    managed = managed_orgs(store, pg.who)
    return console(
        pg,
        "users.html",
        "users",
        users=_members(store, pg.who, {o.slug for o in managed}),
        managed=managed,
        orgs={o.slug: o for o in store.list_organisations()},
        roles=labels.roles(pg.t),
        can_add=access.can_manage(pg.who),
    )


@router.get("/console/jetons")
def tokens(request: Request, who: Caller) -> HTMLResponse:
    pg = signed_in(request, who)
    mine = context(request).store.list_tokens(pg.who.label)
    mine.sort(key=lambda t: t.created, reverse=True)
    return console(pg, "tokens.html", "tokens", tokens=mine)


@router.get("/console/journal")
def journal(
    request: Request,
    who: Caller,
    acteur: Filter = None,
    action: Filter = None,
    cible: Filter = None,
    p: Annotated[int, Query(ge=1, le=100000)] = 1,
) -> HTMLResponse:
    pg = signed_in(request, who)
    require(is_editor(pg.who) or is_manager(pg.who), "journal: staff only")
    query = AuditQuery(acteur or None, action or None, cible or None)
    entries, more = _journal(context(request).store, pg.who, query, p)
    return console(
        pg,
        "journal.html",
        "journal",
        entries=entries,
        query=query,
        page_number=p,
        more=more,
        actions=ACTIONS,
        everything=pg.who.is_admin,
    )


# ----------------------------------------------------------------- helpers
def _journal(
    store: SqlStore, p: Principal, query: AuditQuery, number: int
) -> tuple[list[dict[str, Any]], bool]:
    """Page ``number`` of the entries ``p`` may see, and whether more follow."""
    entries, more = audit_page(
        store,
        query,
        offset=(number - 1) * JOURNAL_PAGE,
        limit=JOURNAL_PAGE,
        keep=_scope(store, p),
    )
    return [_entry(e) for e in entries], more


def _dataset_counts(datasets: list[Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for ds in datasets:
        for org in {ds.producer, ds.steward} - {None}:
            counts[org] = counts.get(org, 0) + 1
    return counts


def _members(store: SqlStore, p: Principal, managed: set[str]) -> list[User]:
    """Everyone (platform administrators) or the members of ``managed``,
    with their roles there only."""
    if p.is_admin:
        return store.list_users()
    out = []
    for user in store.list_users():
        roles = {o: r for o, r in user.roles.items() if o in managed}
        if roles:
            out.append(User(**{**vars(user), "roles": roles}))
    return out


def _scope(store: SqlStore, p: Principal) -> Any:
    """Which entries a caller who is not a platform administrator sees: their
    own actions, those on datasets they edit and on organisations they manage."""
    if p.is_admin:
        return None
    slugs = {d.slug for d in editable(store, p)}
    orgs = {o.slug for o in managed_orgs(store, p)}

    def keep(entry: Entry) -> bool:
        detail = entry.get("detail") or {}
        return (
            entry["actor"] == p.label
            or entry["target"].split("@")[0] in slugs | orgs
            or (isinstance(detail, dict) and detail.get("organisation") in orgs)
        )

    return keep


def _entry(entry: Entry) -> dict[str, Any]:
    """An audit entry as the journal shows it (label, detail, dataset link)."""
    action = entry["action"]
    family = action if action in ACTIONS else action.split(".")[0]
    detail = entry.get("detail") or {}
    on_dataset = family in ("import", "restore", "dataset.update", "read")
    return entry | {
        "label": ACTIONS.get(family, ""),
        "detail_text": json.dumps(detail, ensure_ascii=False, default=str),
        "dataset": entry["target"].split("@")[0] if on_dataset else None,
    }

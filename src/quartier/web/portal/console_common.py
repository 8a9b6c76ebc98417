"""What the staff console's pages share: the guard, the caller's rights, errors.

Console routes use :class:`ConsoleRoute`: an anonymous visitor is sent to the
sign-in page (and back afterwards), a signed-in user without the right role
gets a 403 page, a dataset they may not see (or that does not exist) a 404
page — HTML, never a JSON body or a stack trace. Rights come from
``quartier.access`` only; the writes themselves go through the platform API.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from quartier import access
from quartier.access import Principal
from quartier.domain import Dataset, Organisation
from quartier.errors import PermissionDenied
from quartier.i18n import N_ as _
from quartier.storage.base import SqlStore
from quartier.web.deps import principal
from quartier.web.portal.render import Page, page, render
from quartier.web.portal.routing import PortalRoute

Caller = Annotated[Principal, Depends(principal)]


class ConsoleRoute(PortalRoute):
    """Console pages: their 403 page says which roles the console needs."""

    template = "console/error.html"
    active = "console"


# ------------------------------------------------------------ the caller
def signed_in(request: Request, who: Principal) -> Page:
    """The page of a signed-in caller (else: to the sign-in page)."""
    return page(request, access.require_signed_in(who))


def creatable_orgs(store: SqlStore, p: Principal) -> list[Organisation]:
    """Organisations ``p`` may create datasets in (or place them in)."""
    return [o for o in store.list_organisations() if access.can_create(p, o.slug)]


def managed_orgs(store: SqlStore, p: Principal) -> list[Organisation]:
    """Organisations whose members and roles ``p`` manages."""
    return [o for o in store.list_organisations() if access.can_manage(p, o.slug)]


def editable(store: SqlStore, p: Principal) -> list[Dataset]:
    """Datasets ``p`` may change (versions, metadata, access, restore)."""
    return [d for d in store.list_datasets() if access.can_write(p, d)]


def is_editor(p: Principal) -> bool:
    """May ``p`` create datasets somewhere (admin or steward of an organisation)?"""
    return p.is_admin or any(access.can_create(p, org) for org in p.roles)


def is_manager(p: Principal) -> bool:
    """Does ``p`` manage the platform or some organisation's members?"""
    return p.is_admin or any(access.can_manage(p, org) for org in p.roles)


def require(allowed: bool, what: str) -> None:
    if not allowed:
        raise PermissionDenied(what)


def sections(p: Principal) -> list[tuple[str, str, str]]:
    """The console's sections ``p`` may open: (key, href, French label)."""
    out = [("home", "/console", _("Tableau de bord"))]
    if is_editor(p):
        out.append(("import", "/console/import", _("Importer")))
    if is_editor(p) or is_manager(p):
        out.append(("orgs", "/console/organisations", _("Organisations")))
    if is_manager(p):
        out.append(("users", "/console/utilisateurs", _("Utilisateurs et rôles")))
    if p.is_admin or p.roles:
        out.append(("forms", "/console/formulaires", _("Formulaires")))
    if access.handled_organisations(p) != []:
        out.append(("reports", "/console/signalements", _("Signalements")))
    if is_editor(p):
        out.append(("campaigns", "/console/campagnes", _("Campagnes")))
        out.append(("programme", "/console/programme", _("Programme")))
    if access.can_edit_reference(p):
        out.append(("reference", "/console/reference", _("Liste de référence")))
    out.append(("tokens", "/console/jetons", _("Jetons d'API")))
    if is_editor(p) or is_manager(p):
        out.append(("journal", "/console/journal", _("Journal")))
    return out


def console(pg: Page, template: str, section: str, **values: Any) -> HTMLResponse:
    """Render a console page with its section navigation."""
    return render(
        pg,
        f"console/{template}",
        active="console",
        section=section,
        sections=sections(pg.who),
        **values,
    )

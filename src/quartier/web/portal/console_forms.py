"""Forms in the console (``/console/formulaires``): publish XLSForms, see
what came in, moderate it; and how to connect ODK Collect.

Writes go through the platform API (``POST /api/forms``,
``POST /api/submissions/{id}/review``) with the session's CSRF token.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from quartier import access
from quartier.domain.forms import Status
from quartier.services import moderation
from quartier.web.deps import base_url, context
from quartier.web.portal.console_common import (
    Caller,
    ConsoleRoute,
    console,
    creatable_orgs,
    editable,
    signed_in,
)

router = APIRouter(
    include_in_schema=False,
    default_response_class=HTMLResponse,
    route_class=ConsoleRoute,
)


@router.get("/console/formulaires")
def forms_page(request: Request, who: Caller) -> HTMLResponse:
    pg = signed_in(request, who)
    store = context(request).store
    rows = []
    for form in store.list_forms():
        moderates = access.can_moderate(pg.who, form.organisation)
        if not (moderates or access.can_collect(pg.who, form.organisation)):
            continue
        waiting = (
            [
                s
                for status in (Status.PENDING, Status.HAS_ISSUES)
                for s in store.list_submissions(
                    form_id=form.form_id, status=status, limit=200
                )
            ]
            if moderates
            else []
        )
        said = {
            s.instance_id: moderation.answers(
                store.get_form(s.form_id, s.form_version), s
            )
            for s in waiting
        }
        rows.append((form, moderates, waiting, said))
    mine = store.list_submissions(submitter=pg.who.label, limit=50)
    return console(
        pg,
        "forms.html",
        "forms",
        rows=rows,
        mine=mine,
        orgs=creatable_orgs(store, pg.who),
        datasets=editable(store, pg.who),
        server=f"{base_url(request)}/openrosa",
    )

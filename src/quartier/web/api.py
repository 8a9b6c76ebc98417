"""The platform API under ``/api``: its OpenAPI document, sessions, ``/api/me``.

The other routes live in ``api_datasets``, ``api_downloads``, ``api_imports``,
``api_accounts`` and ``api_feed``; ``LIFECYCLES`` are the start/stop hooks
the application runs in its lifespan (job runner, webhook dispatcher).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import Field

from quartier.access import Principal
from quartier.services import accounts, login
from quartier.web import openapi
from quartier.web.api_common import Body, stop_jobs
from quartier.web.api_feed import start_dispatcher, stop_dispatcher
from quartier.web.context import AppContext
from quartier.web.deps import (
    SESSION_COOKIE,
    client_address,
    context,
    login_guard,
    principal,
    set_session_cookie,
)


def _nothing(ctx: AppContext) -> None:
    pass


#: (start, stop) pairs run by the application's lifespan
LIFECYCLES = [(_nothing, stop_jobs), (start_dispatcher, stop_dispatcher)]

router = APIRouter(prefix="/api", tags=["Plateforme"])
Ctx = Annotated[AppContext, Depends(context)]
Caller = Annotated[Principal, Depends(principal)]


@router.get("/openapi.json", include_in_schema=False)
def openapi_json(request: Request) -> dict[str, Any]:
    return openapi.document(
        request,
        "api",
        title="Quartier — API de la plateforme",
        description="Jeux de données, versions, organisations, utilisateurs, "
        "imports, flux des changements.",
    )


class Credentials(Body):
    username: str = Field(max_length=100)
    password: str = Field(max_length=1000)


@router.post("/session")
def sign_in(
    body: Credentials, request: Request, response: Response, ctx: Ctx
) -> dict[str, str]:
    """Open a browser session: sets an HttpOnly cookie, returns the CSRF token.

    Five wrong passwords for one account from one address within 15 minutes
    and that pair is refused (429) until the window has passed.
    """
    user = login.sign_in(
        ctx.store,
        login_guard(request),
        body.username,
        body.password,
        client=client_address(request),
    )
    session = accounts.start_session(ctx.store, user)
    set_session_cookie(response, session, ctx)
    return {"username": user.username, "csrf_token": session.csrf}


@router.delete("/session", status_code=204)
def sign_out(request: Request, response: Response, ctx: Ctx, who: Caller) -> None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        accounts.end_session(ctx.store, cookie)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/me")
def me(who: Caller) -> dict[str, Any]:
    """Who the server thinks you are, with your roles per organisation."""
    return {
        "username": who.username,
        "is_admin": who.is_admin,
        "roles": {org: str(role) for org, role in who.roles.items()},
        "via": who.via,
    }

"""Signing in and out of the portal (a session cookie, as the API's)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from quartier.access import Principal
from quartier.errors import Unauthenticated
from quartier.services import accounts
from quartier.web.deps import SESSION_COOKIE, context, principal, set_session_cookie
from quartier.web.portal.render import page, render

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Caller = Annotated[Principal, Depends(principal)]


@router.get("/connexion")
def login_form(request: Request, who: Caller, suite: str = "/console") -> Response:
    if who.username:
        return RedirectResponse(_local(suite), status_code=303)
    return render(page(request, who), "login.html", active="login", next=_local(suite))


@router.post("/connexion")
def login(
    request: Request,
    who: Caller,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
    suite: Annotated[str, Form(max_length=500)] = "/console",
) -> Response:
    ctx = context(request)
    try:
        user = accounts.authenticate(ctx.store, username.strip(), password)
    except Unauthenticated:
        pg = page(request, who)
        return render(
            pg,
            "login.html",
            status=401,
            active="login",
            next=_local(suite),
            username=username,
            error=pg.t.gettext("Identifiant ou mot de passe incorrect."),
        )
    session = accounts.start_session(ctx.store, user)
    response = RedirectResponse(_local(suite), status_code=303)
    set_session_cookie(response, session, ctx)
    return response


@router.post("/deconnexion")
def logout(request: Request, who: Caller) -> Response:
    # ``principal`` has checked the form's CSRF token for this cookie session
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        accounts.end_session(context(request).store, cookie)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _local(target: str) -> str:
    """Only redirect within this site (no open redirect through ``suite``)."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/console"

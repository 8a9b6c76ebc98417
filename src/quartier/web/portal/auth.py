"""Signing in and out of the portal (a session cookie, as the API's).

The sign-in form carries its own CSRF token (a double-submit cookie set with
the form), so another site cannot sign a visitor into someone else's account.
Password guessing is slowed by :mod:`quartier.services.login`.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from quartier.access import ANONYMOUS, Principal
from quartier.errors import TooManyAttempts, Unauthenticated
from quartier.i18n import N_ as _
from quartier.services import accounts, login
from quartier.web.deps import (
    SESSION_COOKIE,
    client_address,
    context,
    login_guard,
    principal,
    set_session_cookie,
)
from quartier.web.portal.render import page, render
from quartier.web.portal.routing import PortalRoute

router = APIRouter(
    include_in_schema=False,
    default_response_class=HTMLResponse,
    route_class=PortalRoute,
)
Caller = Annotated[Principal, Depends(principal)]
LOGIN_CSRF = "quartier_login"
Text = Annotated[str, Form(max_length=1000)]


@router.get("/connexion")
def login_form(request: Request, who: Caller, suite: str = "/console") -> Response:
    if who.username:
        return RedirectResponse(_local(suite), status_code=303)
    return _form(request, _local(suite))


@router.post("/connexion")
def sign_in(
    request: Request,
    username: Text,
    password: Text,
    login_token: Text = "",
    suite: Text = "/console",
) -> Response:
    ctx, target = context(request), _local(suite)
    expected = request.cookies.get(LOGIN_CSRF, "")
    if not expected or not secrets.compare_digest(expected, login_token):
        return _form(request, target, username, "Le formulaire a expiré ; réessayez.")
    try:
        user = login.sign_in(
            ctx.store,
            login_guard(request),
            username,
            password,
            client=client_address(request),
        )
    except TooManyAttempts:
        return _form(request, target, username, _TOO_MANY, status=429)
    except Unauthenticated:
        return _form(request, target, username, _WRONG, status=401)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, accounts.start_session(ctx.store, user), ctx)
    response.delete_cookie(LOGIN_CSRF, path="/connexion")
    return response


@router.post("/deconnexion")
def sign_out(request: Request, csrf_token: Text = "") -> Response:
    """Ends the session when the form's CSRF token matches; else changes nothing.

    Ending it also wipes what the browser keeps for this site (the offline
    web-form pages, with the user's name and CSRF token, and the outbox and
    drafts): on a shared phone, the next person gets none of it."""
    response = RedirectResponse("/", status_code=303)
    cookie = request.cookies.get(SESSION_COOKIE)
    session = accounts.session_of(context(request).store, cookie) if cookie else None
    if session is not None and accounts.csrf_ok(session, csrf_token):
        accounts.end_session(context(request).store, session.cookie)
        response.delete_cookie(SESSION_COOKIE, path="/")
        response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


_WRONG = _("Identifiant ou mot de passe incorrect.")
_TOO_MANY = _(
    "Trop d'essais de mot de passe pour ce compte : réessayez dans 15 minutes."
)
_("Le formulaire a expiré ; réessayez.")


def _form(
    request: Request,
    target: str,
    username: str = "",
    error: str = "",
    *,
    status: int = 200,
) -> Response:
    pg = page(request, ANONYMOUS)
    token = request.cookies.get(LOGIN_CSRF) or secrets.token_urlsafe(24)
    response = render(
        pg,
        "login.html",
        status=status,
        active="login",
        next=target,
        username=username,
        error=pg.t.gettext(error) if error else "",
        login_token=token,
    )
    response.set_cookie(
        LOGIN_CSRF,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=bool(context(request).settings.secure_cookies),
        path="/connexion",
    )
    return response


def _local(target: str) -> str:
    """Only redirect within this site (no open redirect through ``suite``)."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/console"

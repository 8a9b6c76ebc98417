"""Small request dependencies: the context, the caller, the base URL."""

from __future__ import annotations

from fastapi import Request, Response

from quartier.access import ANONYMOUS, Principal
from quartier.errors import PermissionDenied, Unauthenticated
from quartier.services import accounts
from quartier.services.login import LoginGuard
from quartier.web.context import AppContext

SESSION_COOKIE = "quartier_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
_SAFE = {"GET", "HEAD", "OPTIONS"}


def context(request: Request) -> AppContext:
    return request.app.state.ctx


async def principal(request: Request) -> Principal:
    """The caller: a bearer token, else a session cookie, else anonymous.

    Unsafe requests authenticated by cookie must carry the session's CSRF
    token (header ``X-CSRF-Token`` or form field ``csrf_token``).
    """
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    who = await _identify(request)
    request.state.principal = who
    return who


async def _identify(request: Request) -> Principal:
    store = context(request).store
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() != "bearer" or not value:
            raise Unauthenticated("use 'Authorization: Bearer <token>'")
        return accounts.principal_from_token(store, value)
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return ANONYMOUS
    session = accounts.session_of(store, cookie)
    if session is None:
        return ANONYMOUS
    if request.method not in _SAFE:
        presented = request.headers.get(CSRF_HEADER)
        if presented is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            form = await request.form()
            field = form.get(CSRF_FIELD)
            presented = field if isinstance(field, str) else None
        if not accounts.csrf_ok(session, presented):
            raise PermissionDenied("missing or wrong CSRF token")
    return accounts.principal_from_session(store, session)


def base_url(request: Request) -> str:
    """The public root of the server, without a trailing slash."""
    configured = context(request).settings.public_url
    if configured:
        return configured.rstrip("/")
    return str(request.base_url).rstrip("/")


def set_session_cookie(
    response: Response, session: accounts.Session, ctx: AppContext
) -> None:
    """The browser session cookie: HttpOnly, SameSite=Lax, Secure behind HTTPS."""
    response.set_cookie(
        SESSION_COOKIE,
        session.cookie,
        max_age=accounts.SESSION_DAYS * 86400,
        httponly=True,
        samesite="lax",
        secure=bool(ctx.settings.secure_cookies),
        path="/",
    )


def login_guard(request: Request) -> LoginGuard:
    """The process's guard against password guessing (one per server process)."""
    extras = context(request).extras
    guard = extras.get("login_guard")
    if guard is None:
        guard = extras.setdefault("login_guard", LoginGuard())
    return guard  # type: ignore[no-any-return]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"

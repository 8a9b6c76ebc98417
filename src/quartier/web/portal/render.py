"""Rendering portal pages: one Jinja environment, the language, the caller.

Every page gets the same context: the translator (``_``), the language and
the link to switch it, the signed-in user and their CSRF token, the
workspace. The language comes from ``?lang=`` (remembered in a cookie),
else the cookie, else the server's default (French).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from quartier import templating
from quartier.access import Principal
from quartier.domain.workspace import Workspace
from quartier.errors import NotFound
from quartier.i18n import LANGUAGES, Translator, pick
from quartier.services import accounts
from quartier.web.deps import SESSION_COOKIE, context

LANG_COOKIE = "quartier_lang"
_YEAR = 365 * 24 * 3600


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    return templating.environment("quartier.web", "templates/portal")


def language(request: Request) -> str:
    return pick(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        context(request).settings.lang,
    )


def lang_url(request: Request, lang: str) -> str:
    """The current page in ``lang``."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return f"{request.url.path}?{urlencode([*params, ('lang', lang)])}"


def url_with(request: Request, **changes: Any) -> str:
    """The current page with some query parameters changed (None removes)."""
    params = dict(request.query_params)
    params.update({k: str(v) for k, v in changes.items() if v is not None})
    for k, v in changes.items():
        if v is None:
            params.pop(k, None)
    params.pop("lang", None)
    return f"{request.url.path}?{urlencode(params)}" if params else request.url.path


@dataclass(frozen=True)
class Page:
    """What a handler knows about the request it renders."""

    request: Request
    who: Principal
    t: Translator

    @property
    def _(self) -> Any:
        return self.t.gettext


def page(request: Request, who: Principal) -> Page:
    return Page(request, who, Translator(language(request)))


def render(
    pg: Page, template: str, *, status: int = 200, **values: Any
) -> HTMLResponse:
    request, t = pg.request, pg.t
    ctx = context(request)
    session = _session(request)
    values = {
        "request": request,
        "t": t,
        "_": t.gettext,
        "gettext": t.gettext,
        "ngettext": t.ngettext,
        "lang": t.lang,
        "languages": [(code, lang_url(request, code)) for code in LANGUAGES],
        "url_with": lambda **kw: url_with(request, **kw),
        "user": pg.who,
        "csrf": session.csrf if session else "",
        "workspace": _workspace(ctx.store),
        "settings": ctx.settings,
        **values,
    }
    html = environment().get_template(template).render(values)
    response = HTMLResponse(html, status_code=status)
    response.headers["Content-Security-Policy"] = content_policy(
        ctx.settings.basemap_url
    )
    response.headers["Content-Language"] = t.lang
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Vary"] = "Cookie"
    chosen = request.query_params.get("lang")
    if chosen and pick(chosen) == t.lang and request.cookies.get(LANG_COOKIE) != t.lang:
        response.set_cookie(LANG_COOKIE, t.lang, max_age=_YEAR, samesite="lax")
    return response


def content_policy(basemap_url: str = "") -> str:
    """Scripts, styles, tiles and fonts only from this server (+ a base map)."""
    extra = ""
    if basemap_url.startswith(("https://", "http://")):
        origin = "/".join(basemap_url.split("/", 3)[:3])
        extra = " " + origin
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src 'self' data: blob:{extra}; connect-src 'self'{extra}; "
        "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
        "frame-ancestors 'self'; form-action 'self'"
    )


def _session(request: Request) -> accounts.Session | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    return accounts.session_of(context(request).store, cookie)


def _workspace(store: Any) -> Workspace | None:
    try:
        return store.get_workspace()
    except NotFound:  # a store without a workspace still renders its pages
        return None

"""Portal errors are pages: a route class for every HTML router.

A visitor never gets a JSON body or a stack trace from a page: an anonymous
visitor who must sign in is sent to the sign-in page (and back afterwards),
a refusal is a 403 page, a dataset one may not see (or that does not exist)
a 404 page — the same as for an unknown one — and a bad query parameter a 400
page, all in the visitor's language.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, ClassVar
from urllib.parse import quote

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute

from quartier.access import ANONYMOUS
from quartier.errors import (
    InvalidInput,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unauthenticated,
)
from quartier.web.portal.render import page, render

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class PortalRoute(APIRoute):
    """Turns "sign in", "forbidden", "not found" and "bad request" into pages."""

    template: ClassVar[str] = "error.html"
    active: ClassVar[str] = ""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        template, active = self.template, self.active

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except Unauthenticated:
                return to_login(request)
            except RateLimited as e:
                busy = error_page(request, 429, template, active)
                busy.headers["Retry-After"] = str(e.retry_after)
                return busy
            except PermissionDenied:
                return error_page(request, 403, template, active)
            except NotFound:
                return error_page(request, 404, template, active)
            except (RequestValidationError, InvalidInput):
                return error_page(request, 400, template, active)

        return guarded


def to_login(request: Request) -> Response:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/connexion?suite={quote(here, safe='/')}", 303)


def error_page(
    request: Request, status: int, template: str = "error.html", active: str = ""
) -> HTMLResponse:
    who = getattr(request.state, "principal", None) or ANONYMOUS
    return render(
        page(request, who), template, status=status, active=active, code=status
    )

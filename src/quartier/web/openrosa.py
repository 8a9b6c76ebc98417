"""OpenRosa 1.0 for ODK Collect and KoboCollect: form list, forms, media,
submissions.

Two ways in, the same endpoints:

- ``/openrosa/…`` with HTTP Basic authentication (a user name and password;
  over TLS in production);
- ``/openrosa/key/{token}/…`` with an API token in the path, as ODK Central's
  app users: the server URL given to Collect (or a QR code) carries the token,
  so a shared phone holds no password and the token can be revoked alone.

Every response carries ``X-OpenRosa-Version: 1.0``; errors are an
``OpenRosaResponse`` whose message Collect shows. Forms are listed and
served to people who may collect for the form's organisation
(:func:`quartier.access.can_collect`); others see none.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from quartier.access import Principal
from quartier.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    QuartierError,
    TooLarge,
    TooManyAttempts,
    Unauthenticated,
)
from quartier.services import accounts
from quartier.services import collect as collect_service
from quartier.services.collect import MAX_TOTAL
from quartier.web.deps import base_url, context, login_guard
from quartier.web.submission_parts import submission_parts

VERSION_HEADERS = {"X-OpenRosa-Version": "1.0"}
REALM = 'Basic realm="Quartier", charset="UTF-8"'
XML = "text/xml; charset=utf-8"


class OpenRosaRoute(APIRoute):
    """Errors as ``OpenRosaResponse`` bodies with the OpenRosa headers."""

    def get_route_handler(self) -> Any:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as e:
                return _error(400, f"invalid request: {e.errors()[0].get('msg', '')}")
            except QuartierError as e:
                return _error(_status(e), str(e))

        return guarded


def _status(e: QuartierError) -> int:
    if isinstance(e, TooManyAttempts):
        return 429
    if isinstance(e, Unauthenticated):
        return 401
    if isinstance(e, PermissionDenied):
        return 403
    if isinstance(e, NotFound):
        return 404
    if isinstance(e, Conflict):
        return 409
    if isinstance(e, TooLarge):
        return 413
    return 400


def _response(body: str, status: int = 200, **headers: str) -> Response:
    return Response(
        body,
        status_code=status,
        media_type=XML,
        headers={
            **VERSION_HEADERS,
            "X-OpenRosa-Accept-Content-Length": str(MAX_TOTAL),
            **headers,
        },
    )


def _message(text: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<OpenRosaResponse xmlns="http://openrosa.org/http/response">'
        f'<message nature="">{escape(text)}</message></OpenRosaResponse>'
    )


def _error(status: int, text: str) -> Response:
    extra = {"WWW-Authenticate": REALM} if status == 401 else {}
    return _response(_message(text), status, **extra)


# ------------------------------------------------------------ who is calling
def by_basic(request: Request) -> Principal:
    """HTTP Basic: a user name and password (slowed after 5 failures)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        raise Unauthenticated("sign in with your Quartier user name and password")
    try:
        username, _, password = base64.b64decode(value).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthenticated("malformed Basic credentials") from None
    guard = login_guard(request)
    client = request.client.host if request.client else ""
    if guard.blocked(username, client):
        raise TooManyAttempts("too many wrong passwords: wait 15 minutes")
    store = context(request).store
    try:
        user = accounts.authenticate(store, username, password)
    except Unauthenticated:
        guard.failed(username, client)
        raise
    guard.succeeded(username, client)
    return accounts.principal_of(user, via="basic", store=store)


def by_token(request: Request, token: str) -> Principal:
    """An API token in the path (``/openrosa/key/{token}/…``)."""
    return accounts.principal_from_token(context(request).store, token, scope="collect")


def _router(prefix: str, auth: Any) -> APIRouter:
    router = APIRouter(
        prefix=prefix, route_class=OpenRosaRoute, include_in_schema=False
    )
    caller = Depends(auth)  # (a default: the annotation is resolved lazily)

    def root(request: Request) -> str:
        """Where this caller's OpenRosa URLs start (with their token)."""
        token = request.path_params.get("token")
        return base_url(request) + (f"/openrosa/key/{token}" if token else "/openrosa")

    @router.get("/formList")
    def form_list(request: Request, who: Principal = caller) -> Response:
        """The forms the caller may fill (``formID`` filters)."""
        store = context(request).store
        wanted = request.query_params.get("formID")
        forms = collect_service.forms_for(store, who)
        if wanted:
            forms = [f for f in forms if f.form_id == wanted]
        base = root(request)
        items = []
        for f in forms:
            manifest = (
                f"<manifestUrl>{escape(base)}/forms/{escape(f.form_id)}/manifest"
                "</manifestUrl>"
                if f.media
                else ""
            )
            items.append(
                "<xform>"
                f"<formID>{escape(f.form_id)}</formID>"
                f"<name>{escape(f.title)}</name>"
                f"<version>{escape(f.version)}</version>"
                f"<hash>md5:{f.md5}</hash>"
                f"<downloadUrl>{escape(base)}/forms/{escape(f.form_id)}.xml"
                "</downloadUrl>"
                f"{manifest}</xform>"
            )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<xforms xmlns="http://openrosa.org/xforms/xformsList">'
            + "".join(items)
            + "</xforms>"
        )
        return _response(body)

    @router.get("/forms/{form_id}.xml")
    def form_xml(request: Request, form_id: str, who: Principal = caller) -> Response:
        form = collect_service.form_for(context(request).store, who, form_id)
        return _response(form.xml)

    @router.get("/forms/{form_id}/manifest")
    def manifest(request: Request, form_id: str, who: Principal = caller) -> Response:
        form = collect_service.form_for(context(request).store, who, form_id)
        base = root(request)
        files = "".join(
            "<mediaFile>"
            f"<filename>{escape(name)}</filename><hash>md5:{md5}</hash>"
            f"<downloadUrl>{escape(base)}/forms/{escape(form.form_id)}/media/"
            f"{escape(quote(name))}</downloadUrl></mediaFile>"
            for name, md5 in sorted(form.media.items())
        )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<manifest xmlns="http://openrosa.org/xforms/xformsManifest">'
            f"{files}</manifest>"
        )
        return _response(body)

    @router.get("/forms/{form_id}/media/{name}")
    def media(
        request: Request, form_id: str, name: str, who: Principal = caller
    ) -> Response:
        store = context(request).store
        form = collect_service.form_for(store, who, form_id)
        content_type, data = store.get_form_media(form.form_id, form.version, name)
        return Response(
            data,
            media_type=content_type,
            headers={
                **VERSION_HEADERS,
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "sandbox; default-src 'none'",
            },
        )

    @router.head("/submission")
    def submission_head(who: Principal = caller) -> Response:
        """Collect asks first: authenticated, and how large a POST may be."""
        return _response("", 204)

    @router.post("/submission")
    async def submission(request: Request, who: Principal = caller) -> Response:
        xml, files = await submission_parts(request)
        received = await run_in_threadpool(
            collect_service.receive, context(request).store, who, xml, files
        )
        text = (
            "Submission received: pending moderation."
            if received.created
            else "Submission already received."
        )
        return _response(
            _message(text),
            201,
            Location=str(request.url),
        )

    return router


basic_router = _router("/openrosa", by_basic)
token_router = _router("/openrosa/key/{token}", by_token)

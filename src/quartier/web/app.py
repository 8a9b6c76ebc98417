"""``create_app(settings, store)``: the one application, for production and tests.

One FastAPI app serves every area; each area is a router module (``ogc``,
``tiles``, ``api``, ``dcat``…). The platform API and the OGC API each publish
their own OpenAPI document, generated from their own routes:
``/api/openapi.json`` and ``/ogc/api``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from quartier import __version__
from quartier.services.audit import ReadAudit
from quartier.settings import Settings
from quartier.storage.base import SqlStore
from quartier.web.context import AppContext
from quartier.web.errors import add_exception_handlers, error_response

#: (startup, shutdown) pairs that areas register (webhook dispatcher…)
Lifecycle = tuple[Callable[[AppContext], None], Callable[[AppContext], None]]


def _areas() -> list[tuple[str, APIRouter]]:
    """(OpenAPI group, router) of every area, imported late to keep start-up light."""
    from quartier.web import (
        api,
        api_access_requests,
        api_accounts,
        api_agreements,
        api_analyses,
        api_audit,
        api_campaigns,
        api_datasets,
        api_diagnostic,
        api_downloads,
        api_ecosystem,
        api_evaluation,
        api_feed,
        api_forms,
        api_imports,
        api_isochrone,
        api_programme,
        api_reference,
        api_reports,
        api_webforms,
        dcat,
        ogc,
        openrosa,
        tiles,
    )

    return [
        ("ogc", ogc.router),
        ("ogc", tiles.router),
        ("api", api.router),
        ("api", api_datasets.router),
        ("api", api_downloads.router),
        ("api", api_imports.router),
        ("api", api_accounts.router),
        ("api", api_feed.router),
        ("api", api_analyses.router),
        ("api", api_forms.router),
        ("api", api_campaigns.router),
        ("api", api_webforms.router),
        ("api", api_isochrone.router),
        ("api", api_audit.router),
        ("api", api_reports.router),
        ("api", api_diagnostic.router),
        ("api", api_evaluation.router),
        ("api", api_agreements.router),
        ("api", api_reference.router),
        ("api", api_programme.router),
        ("api", api_ecosystem.router),
        ("api", api_access_requests.router),
        ("root", dcat.router),
        ("openrosa", openrosa.basic_router),
        ("openrosa", openrosa.token_router),
    ]


def _lifecycles() -> list[Lifecycle]:
    from quartier.web import api

    return list(getattr(api, "LIFECYCLES", []))


def create_app(settings: Settings, store: SqlStore) -> FastAPI:
    ctx = AppContext(settings=settings, store=store, audit=ReadAudit(store))
    lifecycles = _lifecycles()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for start, _ in lifecycles:
            start(ctx)
        try:
            yield
        finally:
            for _, stop in reversed(lifecycles):
                stop(ctx)

    app = FastAPI(
        title="Quartier",
        version=__version__,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    app.state.groups = {}
    add_exception_handlers(app)
    app.add_middleware(BodyLimit, limit=settings.max_upload_mb * 2**20)
    app.add_middleware(RefuseNul)
    for group, router in _areas():
        app.include_router(router)
        app.state.groups.setdefault(group, []).extend(router.routes)
    from quartier.web.portal import routers
    from quartier.web.portal.static import static_app

    for router in routers():
        app.include_router(router)
    app.mount("/static", static_app(), name="static")
    return app


class RefuseNul:
    """Refuse a NUL character in the path or the query string (``%00``) with
    a 400 before any handler: PostgreSQL cannot hold one in text, and no
    identifier, filter or search of ours has a use for it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            b"%00" in scope.get("query_string", b"")
            or "\x00" in scope.get("path", "")
            or b"%00" in scope.get("raw_path", b"")
        ):
            response = error_response(
                400, "InvalidInput", "the request must not contain NUL characters"
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class BodyLimit:
    """Refuse request bodies (uploads first) larger than ``max_upload_mb``.

    A declared ``Content-Length`` over the limit is answered at once, unread;
    a body sent in chunks is cut off with a 413 as soon as it grows past the
    limit, while it streams, before any route handler or the store sees it.
    (Starlette's own limiter answers in plain text; this keeps the one JSON
    error body.)
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse()(scope, receive, send)
            return
        total = 0

        async def limited() -> Message:
            nonlocal total
            message = await receive()
            total += len(message.get("body", b""))
            if total > self.limit:
                # FastAPI lets an HTTPException raised while reading through
                raise HTTPException(413, self._message())
            return message

        await self.app(scope, limited, send)

    def _message(self) -> str:
        return (
            f"request body larger than {self.limit // 2**20} MB "
            "(setting QUARTIER_MAX_UPLOAD_MB)"
        )

    def _refuse(self) -> Response:
        return error_response(413, "TooLarge", self._message())

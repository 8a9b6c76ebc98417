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
from fastapi.responses import HTMLResponse

from quartier import __version__
from quartier.services.audit import ReadAudit
from quartier.settings import Settings
from quartier.storage.base import SqlStore
from quartier.web.context import AppContext
from quartier.web.errors import add_exception_handlers

#: (startup, shutdown) pairs that areas register (webhook dispatcher…)
Lifecycle = tuple[Callable[[AppContext], None], Callable[[AppContext], None]]


def _areas() -> list[tuple[str, APIRouter]]:
    """(OpenAPI group, router) of every area, imported late to keep start-up light."""
    from quartier.web import api, dcat, ogc, tiles

    return [
        ("ogc", ogc.router),
        ("ogc", tiles.router),
        ("api", api.router),
        ("root", dcat.router),
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
    for group, router in _areas():
        app.include_router(router)
        app.state.groups.setdefault(group, []).extend(router.routes)
    app.add_api_route("/", _home, include_in_schema=False)
    return app


async def _home() -> HTMLResponse:
    # the portal (issue 4) replaces this page; until then, where things are
    return HTMLResponse(
        "<!doctype html><html lang=fr><meta charset=utf-8>"
        "<title>Quartier</title><h1>Quartier</h1><ul>"
        '<li><a href="/ogc">OGC API – Features</a></li>'
        '<li><a href="/api/docs">API de la plateforme</a></li>'
        '<li><a href="/catalog.jsonld">Catalogue DCAT</a></li></ul>'
    )

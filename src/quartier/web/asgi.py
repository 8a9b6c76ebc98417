"""The ASGI entry point for several worker processes (``quartier serve --workers N``).

Each worker builds its own store connection from the ``QUARTIER_*`` settings:
``uvicorn --factory quartier.web.asgi:app`` works the same way.
"""

from __future__ import annotations

from fastapi import FastAPI

from quartier.settings import load_settings
from quartier.storage import open_store
from quartier.web.app import create_app


def app() -> FastAPI:
    settings = load_settings()
    store = open_store(settings.db, create=False)
    store.ensure_schema()
    return create_app(settings, store)

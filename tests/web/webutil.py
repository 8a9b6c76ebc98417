"""Helpers for web tests: a test client and a live uvicorn server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi.testclient import TestClient

from quartier.settings import Settings
from quartier.storage.base import SqlStore
from quartier.web.app import create_app


def make_client(store: SqlStore, **settings: object) -> TestClient:
    return TestClient(create_app(Settings(db=store.url, **settings), store))  # type: ignore[arg-type]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def live_server(store: SqlStore, **settings: object) -> Iterator[str]:
    """Serve ``store`` with uvicorn on a free port; yields the base URL."""
    port = _free_port()
    # no webhook dispatcher unless a test asks for one: a server thread that
    # outlives its test would keep polling a store the session then drops
    settings.setdefault("webhook_interval", 0)
    app = create_app(Settings(db=store.url, port=port, **settings), store)  # type: ignore[arg-type]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)

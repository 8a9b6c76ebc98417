"""Web fixtures: test clients and live servers over the demo or a fresh store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from webutil import live_server, make_client

from quartier.storage.base import SqlStore


@pytest.fixture
def demo_client(demo_store: SqlStore) -> Iterator[TestClient]:
    with make_client(demo_store) as client:
        yield client


@pytest.fixture
def client(store: SqlStore) -> Iterator[TestClient]:
    """The application over a fresh, empty store (both backends)."""
    store.ensure_schema()
    with make_client(store) as c:
        yield c


@pytest.fixture
def demo_server(demo_store: SqlStore) -> Iterator[str]:
    with live_server(demo_store) as url:
        yield url

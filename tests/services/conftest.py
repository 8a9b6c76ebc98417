"""Service fixtures: the demo city in a fresh, writable store (both backends)."""

from __future__ import annotations

import pytest

from quartier.services.demo import build_demo
from quartier.storage.base import SqlStore


@pytest.fixture
def city(store: SqlStore) -> SqlStore:
    """The demo city built into this test's own store (GeoPackage, PostGIS)."""
    build_demo(store)
    return store

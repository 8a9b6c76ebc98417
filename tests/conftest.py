"""Shared fixtures: one parametrized ``store`` over every backend.

PostGIS is a real server: ``QUARTIER_TEST_PG`` (default
``postgresql://quartier:quartier@127.0.0.1:5432/quartier_test``) names a
database on it whose role may create databases. Each test gets a fresh
database cloned from a template with PostGIS. When the server is missing the
tests fail with the command that starts it: a tier is never skipped silently.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from quartier.services.demo import build_demo
from quartier.storage import open_store
from quartier.storage.base import SqlStore

PG_URL = os.environ.get(
    "QUARTIER_TEST_PG", "postgresql://quartier:quartier@127.0.0.1:5432/quartier_test"
)
TEMPLATE = "quartier_template"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
REPO = Path(__file__).resolve().parents[1]


def _admin_conn() -> psycopg.Connection:
    try:
        return psycopg.connect(PG_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as e:
        pytest.fail(
            f"PostGIS test server not reachable at {PG_URL} ({e}).\n"
            "Start it with: sudo bash .ci/run (installs postgresql-15-postgis-3 and "
            "starts a cluster), or set QUARTIER_TEST_PG.",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def pg_template() -> str:
    with _admin_conn() as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (TEMPLATE,)
        ).fetchone()
        if not exists:
            conn.execute(f"CREATE DATABASE {TEMPLATE}")
            with psycopg.connect(_url_for(TEMPLATE), autocommit=True) as t:
                t.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    return TEMPLATE


def _url_for(db: str) -> str:
    base, _, _ = PG_URL.rpartition("/")
    return f"{base}/{db}"


@pytest.fixture
def pg_url(pg_template: str) -> Iterator[str]:
    """A fresh, empty PostGIS database for one test."""
    name = "qt_" + uuid.uuid4().hex[:12]
    with _admin_conn() as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {pg_template}")
    try:
        yield _url_for(name)
    finally:
        with _admin_conn() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def make_pg_db(pg_template: str) -> Iterator[Callable[[], str]]:
    """A factory of fresh PostGIS databases, all dropped at the session's end
    (for module-scoped fixtures, which cannot use ``pg_url``)."""
    made: list[str] = []

    def make() -> str:
        name = "qt_" + uuid.uuid4().hex[:12]
        with _admin_conn() as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {pg_template}")
        made.append(name)
        return _url_for(name)

    yield make
    with _admin_conn() as conn:
        for name in made:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def gpkg_url(tmp_path: Path) -> str:
    return str(tmp_path / "ville.gpkg")


@pytest.fixture(params=["gpkg", "postgis"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "gpkg":
        return str(tmp_path / "ville.gpkg")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    st = open_store(store_url)
    try:
        yield st
    finally:
        st.close()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED.is_dir():
        pytest.fail(
            f"{SHARED} is missing: the importer and demo tests read the real files "
            "of ../shared/data (present beside the repository in CI)",
            pytrace=False,
        )
    return SHARED


# ------------------------------------------------ the demo city, read-only
@pytest.fixture(scope="session")
def demo_gpkg(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("demo") / "demo.gpkg")
    with open_store(path) as st:
        build_demo(st)
    return path


@pytest.fixture(scope="session")
def demo_pg(pg_template: str) -> Iterator[str]:
    name = "qt_demo_" + uuid.uuid4().hex[:8]
    with _admin_conn() as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {pg_template}")
    url = _url_for(name)
    try:
        with open_store(url) as st:
            build_demo(st)
        yield url
    finally:
        with _admin_conn() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["gpkg", "postgis"], scope="session")
def demo_url(request: pytest.FixtureRequest) -> str:
    """The demo city, read-only, on each store."""
    return request.getfixturevalue(
        "demo_gpkg" if request.param == "gpkg" else "demo_pg"
    )


@pytest.fixture
def demo_store(demo_url: str) -> Iterator[SqlStore]:
    st = open_store(demo_url, create=False)
    try:
        yield st
    finally:
        st.close()

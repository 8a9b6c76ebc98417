"""schemathesis over both published OpenAPI documents: no request makes a 5xx.

The platform API (``/api/openapi.json``) and the OGC API (``/ogc/api``) are
fuzzed on a copy of the demo city, on both stores' kinds of file, once as an
anonymous caller and once with an administrator's token (so write endpoints
get past authentication). Only "no server error" is asserted (schemathesis' pytest plugin does not
run under pytest 9.2, so operations are driven through hypothesis directly): the
documents are ours, but the point here is robustness to any input.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from webutil import make_client

from quartier.access import LOCAL
from quartier.services import accounts
from quartier.services.demo import build_demo
from quartier.storage import open_store

EXAMPLES = 20


@pytest.fixture(scope="module", params=["gpkg", "postgis"])
def fuzz_app(
    request: pytest.FixtureRequest,
    demo_gpkg: str,
    make_pg_db,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple]:
    """A writable demo city: a copy of the GeoPackage, or a fresh PostGIS build."""
    if request.param == "gpkg":
        url = str(tmp_path_factory.mktemp("fuzz") / "demo.gpkg")
        shutil.copy(demo_gpkg, url)
        store = open_store(url, create=False)
    else:
        store = open_store(make_pg_db())
        build_demo(store)
    accounts.create_user(
        store, "admin", password="un-mot-de-passe", is_admin=True, actor=LOCAL
    )
    token = accounts.issue_token(store, "admin", actor=LOCAL).secret
    try:
        with make_client(store, webhook_interval=0) as client:
            yield client.app, token
    finally:
        store.close()


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _fuzz(app, path: str, headers: dict | None = None) -> list[str]:
    """Every operation of the document at ``path``; the 5xx found, described."""
    schema = schemathesis.openapi.from_asgi(path, app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, f"{path} documents no operation"
    for op in operations:
        _run(op, headers, failures)
    return failures


def _run(op, headers: dict | None, failures: list[str]) -> None:
    @given(case=op.as_strategy())
    @FUZZ
    def run(case) -> None:
        response = case.call(headers=headers)
        if response.status_code >= 500:
            failures.append(
                f"{op.label}: {response.status_code} for {case.formatted_path} "
                f"query={case.query} body={str(case.body)[:200]}"
            )

    run()


def test_platform_api_never_fails_with_5xx(fuzz_app):
    app, token = fuzz_app
    assert _fuzz(app, "/api/openapi.json") == []
    assert _fuzz(app, "/api/openapi.json", {"Authorization": f"Bearer {token}"}) == []


def test_ogc_api_never_fails_with_5xx(fuzz_app):
    assert _fuzz(fuzz_app[0], "/ogc/api") == []

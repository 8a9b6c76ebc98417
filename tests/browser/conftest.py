"""Browser tests: Playwright for Python driving Debian's Chromium.

Playwright's own browser download needs the internet, so the tests launch
``/usr/bin/chromium`` (``apt-get install chromium``; ``.ci/run`` does it).
A missing browser or map library fails the suite with what to install: the
browser tier is never silently skipped.

Each module gets its own copy of the demo city, served by uvicorn, with:

- ``admin`` — platform administrator;
- ``ong`` — steward of the NGO ``ong_quartiers``, which produces the
  *restricted* dataset ``zones_ong`` (three polygons in Kisenso);
- anonymous visitors.

Every page opened through the ``page`` fixture fails its test on a console
error or an uncaught exception; ``shot(page, name)`` saves a screenshot
to ``test-artifacts/screenshots/`` (and to ``docs/screenshots/`` when
``QUARTIER_DOCS_SCREENSHOTS=1``).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from browserutil import ADMIN_PASSWORD, NGO_PASSWORD, Portal

from quartier.access import LOCAL
from quartier.domain.actors import ActorKind, Organisation
from quartier.services import accounts
from quartier.services.importer import ImportOptions, import_path
from quartier.storage import open_store
from quartier.web.portal.static import vendor_missing

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))

CHROMIUM = os.environ.get("QUARTIER_CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
DOCS = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--enable-unsafe-swiftshader",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--lang=fr-FR",  # the browser's own widgets (file input) in French too
]

#: three polygons inside Kisenso, restricted to the NGO
ZONES = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"nom": f"Zone secrète {i}", "risque": "élevé"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [15.335 + i * 0.004, -4.425],
                        [15.338 + i * 0.004, -4.425],
                        [15.338 + i * 0.004, -4.422],
                        [15.335 + i * 0.004, -4.422],
                        [15.335 + i * 0.004, -4.425],
                    ]
                ],
            },
        }
        for i in range(3)
    ],
}


def pytest_configure(config: pytest.Config) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: install it with `apt-get install chromium` "
            "(or set QUARTIER_CHROMIUM)",
            pytrace=False,
        )
    missing = vendor_missing()
    if missing:
        pytest.fail(missing, pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def portal(
    demo_gpkg: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Portal]:
    """A live server over a fresh copy of the demo city, with staff accounts."""
    from webutil import live_server

    folder = tmp_path_factory.mktemp("portal")
    db = str(folder / "portal.gpkg")
    shutil.copy(demo_gpkg, db)
    zones = folder / "zones_ong.geojson"
    zones.write_text(json.dumps(ZONES), encoding="utf-8")
    with open_store(db, create=False) as store:
        _staff(store, zones)
    store = open_store(db, create=False)
    try:
        with live_server(store, webhook_interval=0) as url:
            yield Portal(url=url, db=db)
    finally:
        store.close()


def _staff(store, zones: Path) -> None:  # type: ignore[no-untyped-def]
    store.add_organisation(
        Organisation("ong_quartiers", "ONG Quartiers solidaires", ActorKind.NGO)
    )
    accounts.create_user(
        store, "admin", password=ADMIN_PASSWORD, is_admin=True, actor=LOCAL
    )
    accounts.create_user(store, "ong", password=NGO_PASSWORD, actor=LOCAL)
    accounts.grant_role(store, "ong", "ong_quartiers", "steward", actor=LOCAL)
    # a field enumerator of the NGO (what they send, the steward reviews)
    accounts.create_user(store, "enqueteur", password=NGO_PASSWORD, actor=LOCAL)
    accounts.grant_role(store, "enqueteur", "ong_quartiers", "contributor", actor=LOCAL)
    import_path(
        store,
        zones,
        ImportOptions(
            dataset="zones_ong",
            title="Zones sensibles de l'ONG",
            theme="risques",
            access="restricted",
            producer="ong_quartiers",
            steward="ong_quartiers",
        ),
    )


@pytest.fixture
def context(browser, request: pytest.FixtureRequest) -> Iterator[object]:  # type: ignore[no-untyped-def]
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="fr-FR")
    yield ctx
    ctx.close()


@pytest.fixture
def page(context) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A page that fails the test on any console error or uncaught exception."""
    pg = context.new_page()
    problems: list[str] = []
    pg.on(
        "console",
        lambda msg: (
            problems.append(f"console.{msg.type}: {msg.text}")
            if msg.type == "error"
            else None
        ),
    )
    pg.on("pageerror", lambda exc: problems.append(f"uncaught: {exc}"))
    yield pg
    assert not problems, "errors in the browser console:\n" + "\n".join(problems)


@pytest.fixture
def shot() -> Callable[..., Path]:
    def save(pg, name: str, *, full_page: bool = False) -> Path:  # type: ignore[no-untyped-def]
        path = ARTIFACTS / f"{name}.png"
        pg.screenshot(path=str(path), full_page=full_page)
        if os.environ.get("QUARTIER_DOCS_SCREENSHOTS") == "1":
            DOCS.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, DOCS / path.name)
        return path

    return save

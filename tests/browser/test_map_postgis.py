"""The map on the PostGIS store: its tiles come from ``ST_AsMVT``, not from our
GeoPackage encoder, so the browser checks them too (read-only demo city)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import shapely

from quartier.storage import open_store

READY = "() => window.quartierMap && window.quartierMap.loaded()"
TIMEOUT = 90_000


@pytest.fixture(scope="module")
def pg_portal(demo_pg: str) -> Iterator[str]:
    from webutil import live_server

    store = open_store(demo_pg, create=False)
    try:
        with live_server(store) as url:
            yield url
    finally:
        store.close()


def _rendered(page, layer: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return page.evaluate(  # type: ignore[no-any-return]
        """layer => window.quartierMap.queryRenderedFeatures({layers: [layer]})
            .map(f => f.properties)""",
        layer,
    )


def test_map_renders_postgis_tiles_and_popups(page, pg_portal, demo_pg) -> None:
    page.emulate_media(reduced_motion="reduce")
    page.goto(pg_portal + "/carte")
    page.wait_for_function(READY, timeout=TIMEOUT)
    for layer in ("base-admin-fill", "base-buildings", "base-roads", "ecoles", "sante"):
        assert _rendered(page, layer), f"nothing rendered in {layer}"
    # zoom onto a building and click it: the pop-up shows its attributes
    with open_store(demo_pg, create=False) as store:
        batch = store.query_features("batiments", limit=50).batch
    shapes = shapely.from_wkb(batch.column("geometry").to_pylist())
    point = max(shapes, key=lambda g: g.area).representative_point()
    page.goto(f"{pg_portal}/carte#map=18/{point.y}/{point.x}&layers=batiments")
    page.reload()
    page.wait_for_function(READY, timeout=TIMEOUT)
    assert _rendered(page, "batiments")
    box = page.locator("#map").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    popup = page.locator(".maplibregl-popup .feature-popup")
    popup.wait_for()
    assert "osm_id" in popup.locator("th").all_inner_texts()

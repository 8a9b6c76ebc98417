"""The map explorer (/carte) and the dataset preview map in Chromium.

What is checked is what MapLibre rendered (``queryRenderedFeatures`` on the
map exposed as ``window.quartierMap``), not just that a canvas exists.
Chromium draws WebGL with SwiftShader here: slow, so every wait is on the
map's own state (loaded, not moving, where it should be), never on time.
"""

from __future__ import annotations

from typing import Any

import pytest
import shapely
from browserutil import NGO_PASSWORD, sign_in

from quartier.storage import open_store

READY = "() => window.quartierMap && window.quartierMap.loaded()"
SETTLED = "() => { const m = window.quartierMap; return m.loaded() && !m.isMoving(); }"
TIMEOUT = 90_000


def _open(page, url: str) -> None:  # type: ignore[no-untyped-def]
    page.emulate_media(reduced_motion="reduce")
    page.goto(url)
    page.wait_for_function(READY, timeout=TIMEOUT)


def _rendered(page, layer: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    return page.evaluate(  # type: ignore[no-any-return]
        """layer => window.quartierMap.queryRenderedFeatures({layers: [layer]})
            .map(f => ({id: f.id, properties: f.properties,
                        source: f.source, dataset: f.layer.metadata.dataset}))""",
        layer,
    )


def _wait_inside(page, box: list[float]) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        """([w, s, e, n]) => {
            const m = window.quartierMap, c = m.getCenter();
            return m.loaded() && !m.isMoving()
                && c.lng >= w && c.lng <= e && c.lat >= s && c.lat <= n;
        }""",
        arg=box,
        timeout=TIMEOUT,
    )


def _hash(page) -> dict[str, str]:  # type: ignore[no-untyped-def]
    raw = page.evaluate("() => location.hash").lstrip("#")
    return dict(part.split("=", 1) for part in raw.split("&") if "=" in part)


@pytest.fixture(scope="module")
def building(portal) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """A point inside a building of the demo (lon, lat)."""
    with open_store(portal.db, create=False) as store:
        batch = store.query_features("batiments", limit=50).batch
    shapes = shapely.from_wkb(batch.column("geometry").to_pylist())
    biggest = max(shapes, key=lambda g: g.area)
    point = biggest.representative_point()
    return point.x, point.y


def test_map_renders_the_city_without_restricted_data(page, portal, shot) -> None:
    requested: list[str] = []
    page.context.on("request", lambda r: requested.append(r.url))
    _open(page, portal.url + "/carte")
    assert page.get_by_role("region", name="Carte interactive de Kisenso").is_visible()
    # the base map is drawn from the city's own layers, points on top
    for layer in ("base-admin-fill", "base-buildings", "base-roads", "ecoles", "sante"):
        assert _rendered(page, layer), f"nothing rendered in {layer}"
    assert {f["dataset"] for f in _rendered(page, "base-buildings")} == {"batiments"}
    order = page.evaluate("() => window.quartierMap.getStyle().layers.map(l => l.id)")
    assert order.index("base-admin-fill") < order.index("base-buildings")
    assert order.index("base-buildings") < order.index("base-roads")
    assert order.index("batiments") < order.index("routes") < order.index("ecoles")
    # a restricted dataset does not exist for a visitor: no layer, no source, no tile
    assert page.locator("#layer-zones_ong").count() == 0
    assert page.evaluate(
        "() => window.quartierMap.getSource('zones_ong') === undefined"
    )
    assert any("/collections/batiments/tiles/" in u for u in requested)
    assert not [u for u in requested if "zones_ong" in u]
    # layers grouped by theme, each with a legend swatch
    legends = page.locator("#layers legend").all_inner_texts()
    assert {"bâti", "éducation", "santé"} <= {t.casefold() for t in legends}
    assert (
        page.locator("#layers .layer .swatch").count()
        == page.locator("#layers .layer").count()
    )
    page.get_by_label("Érosions et ravines", exact=True).check()
    page.wait_for_function(SETTLED, timeout=TIMEOUT)
    assert _rendered(page, "erosions")
    shot(page, "map")


def test_popup_and_shareable_view(page, portal, building) -> None:
    lon, lat = building
    _open(page, f"{portal.url}/carte#map=18/{lat}/{lon}&layers=batiments,routes")
    # the view and the layers come from the URL
    view = page.evaluate(
        "() => { const m = window.quartierMap, c = m.getCenter();"
        " return [m.getZoom(), c.lat, c.lng]; }"
    )
    assert view == pytest.approx([18, lat, lon], abs=1e-4)
    assert page.locator("#layer-batiments").is_checked()
    assert page.locator("#layer-routes").is_checked()
    assert not page.locator("#layer-ecoles").is_checked()
    assert (
        page.evaluate(
            "() => window.quartierMap.getLayoutProperty('ecoles', 'visibility')"
        )
        == "none"
    )
    assert _rendered(page, "batiments")

    # a click on the building opens a pop-up with its attributes
    box = page.locator("#map").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    popup = page.locator(".maplibregl-popup .feature-popup")
    popup.wait_for()
    assert popup.get_by_role("heading").inner_text() == "Bâtiments (extrait OSM 2018)"
    keys = popup.locator("th").all_inner_texts()
    assert "osm_id" in keys and "building" in keys
    sheet = popup.get_by_role("link", name="Voir la fiche du jeu de données")
    assert sheet.get_attribute("href") == "/catalogue/batiments"

    # toggling a layer and moving update the URL; a reload restores them
    page.get_by_label("Écoles", exact=True).check()
    page.evaluate("() => window.quartierMap.jumpTo({zoom: 16.5})")
    page.wait_for_function(SETTLED, timeout=TIMEOUT)
    shared = _hash(page)
    assert shared["layers"].split(",") == ["batiments", "ecoles", "routes"]
    assert shared["map"].startswith("16.50/")
    page.reload()
    page.wait_for_function(READY, timeout=TIMEOUT)
    assert page.locator("#layer-ecoles").is_checked()
    assert page.evaluate("() => window.quartierMap.getZoom()") == pytest.approx(16.5)


def test_search_and_zoom_to_an_admin_unit(page, portal) -> None:
    _open(page, portal.url + "/carte")
    start = page.evaluate("() => window.quartierMap.getZoom()")
    # accents and case do not matter
    with page.expect_response(lambda r: "/carte/lieux?q=revolution" in r.url) as answer:
        page.get_by_label("Rechercher un quartier ou un lieu").fill("revolution")
        page.get_by_label("Rechercher un quartier ou un lieu").press("Enter")
    first = answer.value.json()["results"][0]
    assert (first["label"], first["dataset"]) == ("Révolution", "unites_admin")
    _wait_inside(page, first["bbox"])
    assert page.evaluate("() => window.quartierMap.getZoom()") > start + 1
    assert (
        page.locator("#search-results button")
        .first.inner_text()
        .startswith("Révolution")
    )
    found = len(answer.value.json()["results"])
    assert page.locator("#search-status").inner_text() == f"Lieux trouvés : {found}"
    assert page.evaluate("() => !!window.quartierMap.getLayer('hl')")

    # zoom to an admin unit from the list
    page.get_by_label("Aller à une unité administrative").select_option(label="Kabila")
    bbox = page.locator("#goto-unit option:checked").get_attribute("data-bbox")
    assert bbox
    page.get_by_role("button", name="Zoomer").click()
    _wait_inside(page, [float(v) for v in bbox.split(",")])

    page.get_by_label("Rechercher un quartier ou un lieu").fill("zzzz-nulle-part")
    page.get_by_role("button", name="Chercher").click()
    page.get_by_text("Aucun lieu trouvé.").wait_for()


def test_layers_and_opacity_by_keyboard(page, portal) -> None:
    _open(page, portal.url + "/carte")
    # every control of the panel is labelled
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll(
                '.explorer input, .explorer select, .explorer button')]
            .filter(el => !(el.labels && el.labels.length)
                      && !el.getAttribute('aria-label')
                      && !(el.tagName === 'BUTTON' && el.textContent.trim()))
            .map(el => el.outerHTML)"""
    )
    assert unlabelled == []
    assert page.get_by_label(
        "Opacité de la couche Bâtiments (extrait OSM 2018)"
    ).count()

    box = page.locator("#layer-batiments")
    box.focus()
    assert page.evaluate(
        "() => getComputedStyle(document.activeElement).outlineStyle"
    ) not in ("", "none")
    page.keyboard.press("Space")
    assert box.is_checked()
    assert (
        page.evaluate(
            "() => window.quartierMap.getLayoutProperty('batiments', 'visibility')"
        )
        == "visible"
    )
    assert "batiments" in _hash(page)["layers"].split(",")

    # the opacity slider comes next in the tab order and follows the arrows
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "opacity-batiments"
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    assert page.locator("#opacity-batiments").input_value() == "80"
    opacity = page.evaluate(
        "() => window.quartierMap.getPaintProperty('batiments', 'fill-opacity')"
    )
    assert opacity == pytest.approx(0.45 * 0.8)
    assert page.evaluate(
        "() => window.quartierMap.getPaintProperty('batiments-outline', 'line-opacity')"
    ) == pytest.approx(0.8)

    # and off again: the slider leaves the tab order with its layer
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Space")
    assert not box.is_checked()
    assert page.locator("#opacity-batiments").is_disabled()
    assert (
        page.evaluate(
            "() => window.quartierMap.getLayoutProperty('batiments', 'visibility')"
        )
        == "none"
    )

    # the map itself is reachable, labelled, and Enter shows what is at its centre
    canvas = page.locator("#map canvas")
    canvas.focus()
    assert canvas.get_attribute("aria-label")
    page.keyboard.press("Enter")
    page.locator(".maplibregl-popup .feature-popup").wait_for()


def test_restricted_layer_for_its_members(page, portal) -> None:
    sign_in(page, portal, "ong", NGO_PASSWORD)
    _open(page, portal.url + "/carte#layers=zones_ong")
    _wait_inside(page, [15.334, -4.4255, 15.347, -4.4215])
    assert page.locator("#layer-zones_ong").is_checked()
    zones = _rendered(page, "zones_ong")
    assert zones
    assert {f["properties"]["nom"] for f in zones} <= {
        f"Zone secrète {i}" for i in range(3)
    }
    with page.expect_response(lambda r: "/carte/lieux?q=zone" in r.url) as answer:
        page.get_by_label("Rechercher un quartier ou un lieu").fill("zone secrete")
        page.get_by_role("button", name="Chercher").click()
    assert {r["dataset"] for r in answer.value.json()["results"]} == {"zones_ong"}


def test_phone_layout(browser, portal, shot) -> None:
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, locale="fr-FR")
    try:
        page = ctx.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        page.on(
            "console",
            lambda m: problems.append(m.text) if m.type == "error" else None,
        )
        _open(page, portal.url + "/carte")
        overflow = page.evaluate(
            "() => document.scrollingElement.scrollWidth - window.innerWidth"
        )
        assert overflow <= 0
        map_box = page.locator("#map").bounding_box()
        panel_box = page.locator("#panel").bounding_box()
        assert map_box and panel_box
        assert map_box["width"] >= 350 and map_box["height"] >= 250
        assert map_box["y"] + map_box["height"] <= 740 + 1
        assert panel_box["height"] >= 150
        assert _rendered(page, "ecoles")
        # the layer list scrolls within the panel and its controls work by touch
        routes = page.locator("#layer-routes")
        routes.scroll_into_view_if_needed()
        routes.click()
        assert routes.is_checked()
        page.wait_for_function(SETTLED, timeout=TIMEOUT)
        assert _rendered(page, "routes")
        page.locator("#panel").evaluate("el => el.scrollTo(0, 0)")
        shot(page, "map-mobile")
        assert problems == []
    finally:
        ctx.close()


def test_dataset_preview_and_link_to_the_map(page, portal) -> None:
    page.emulate_media(reduced_motion="reduce")
    page.goto(portal.url + "/catalogue/ecoles")
    page.wait_for_function(
        "() => window.quartierPreview && window.quartierPreview.loaded()",
        timeout=TIMEOUT,
    )
    rendered = page.evaluate(
        "() => window.quartierPreview.queryRenderedFeatures({layers: ['ecoles']}).length"
    )
    assert rendered > 100
    page.get_by_role("link", name="Voir sur la carte").click()
    page.wait_for_url("**/carte#**")
    page.wait_for_function(READY, timeout=TIMEOUT)
    checked = page.locator("#layers input[type=checkbox]:checked").evaluate_all(
        "boxes => boxes.map(b => b.value)"
    )
    assert checked == ["ecoles"]

"""Public pages in Chromium: home, language switch, catalogue, dataset page."""

from __future__ import annotations

from browserutil import NGO_PASSWORD, sign_in


def test_home_is_french_and_switches_to_english(page, portal, shot) -> None:
    page.goto(portal.url + "/")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert (
        page.get_by_role("heading", level=1)
        .inner_text()
        .startswith("Les données urbaines de Kisenso")
    )
    shot(page, "home")
    page.get_by_role("link", name="English").click()
    page.wait_for_url("**lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert (
        page.get_by_role("heading", level=1)
        .inner_text()
        .startswith("Urban data of Kisenso")
    )
    # the choice is remembered on the next page
    page.get_by_role("link", name="Catalogue").first.click()
    assert page.get_by_role("heading", level=1).inner_text() == "Data catalogue"
    page.get_by_role("link", name="Français").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Catalogue des données"


def test_catalogue_hides_restricted_data_from_visitors(page, portal, shot) -> None:
    page.goto(portal.url + "/catalogue")
    slugs = page.locator("#results [data-slug]").evaluate_all(
        "items => items.map(i => i.dataset.slug)"
    )
    assert "batiments" in slugs and "zones_ong" not in slugs
    shot(page, "catalogue", full_page=True)
    # a hidden dataset's page answers like an unknown one
    assert page.request.get(portal.url + "/catalogue/zones_ong").status == 404

    sign_in(page, portal, "ong", NGO_PASSWORD)
    page.goto(portal.url + "/catalogue?access=restricted")
    slugs = page.locator("#results [data-slug]").evaluate_all(
        "items => items.map(i => i.dataset.slug)"
    )
    assert slugs == ["zones_ong"]


def test_catalogue_search_and_dataset_page(page, portal, shot) -> None:
    page.goto(portal.url + "/catalogue")
    page.get_by_label("Rechercher").fill("ecoles")
    page.get_by_role("button", name="Filtrer").click()
    page.get_by_role("link", name="Écoles").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Écoles"
    downloads = page.locator("#downloads a").all_inner_texts()
    assert {"GeoJSON", "GeoPackage", "CSV"} <= set(downloads)
    assert page.locator("#versions tbody tr").count() == 1
    # the preview map draws the schools (checked through MapLibre, not pixels)
    page.wait_for_function(
        "() => window.quartierPreview && window.quartierPreview.loaded()",
        timeout=90_000,
    )
    drawn = page.evaluate(
        """() => window.quartierPreview.queryRenderedFeatures({layers: ['ecoles']})
                 .length"""
    )
    assert drawn > 50
    shot(page, "dataset", full_page=True)

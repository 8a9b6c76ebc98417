"""The data diagnostic page in a real browser, on the demo city."""

from __future__ import annotations

from playwright.sync_api import expect


def test_the_diagnostic_page_shows_levels_and_where_data_is_missing(
    page, portal, shot
) -> None:
    page.goto(portal.url + "/")
    page.get_by_role("link", name="Programme", exact=True).click()
    expect(page.locator("#step-diagnostic")).to_contain_text("/ 100")
    page.locator("#step-diagnostic").get_by_role("link", name="Diagnostic").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Diagnostic des données")
    expect(page.locator("#h-score")).to_contain_text("/ 100")
    rows = page.locator("#diagnostic-entries tbody tr")
    expect(rows).to_have_count(25)
    buildings = page.locator('tr[data-entry="batiments"]')
    expect(buildings.get_by_role("link", name="Bâtiments")).to_be_visible()
    expect(page.locator('tr[data-entry="alea_inondation"] td').first).to_have_text(
        "0aucune donnée"
    )
    # the gap map: 17 quartiers shaded, and red cells where buildings are missing
    gap_map = page.get_by_role("img", name="Données manquantes par quartier")
    expect(gap_map).to_be_visible()
    assert gap_map.locator('[fill="#b71c1c"]').count() >= 1
    expect(page.locator("#diagnostic-units tbody tr")).to_have_count(17)
    shot(page, "diagnostic", full_page=True)
    # English
    page.goto(portal.url + "/diagnostic?lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Data diagnostic")

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


def test_an_administrator_edits_the_reference_list_and_the_diagnostic_follows(
    page, portal, context
) -> None:
    from browserutil import ADMIN_PASSWORD, sign_in

    sign_in(page, portal, "admin", ADMIN_PASSWORD)
    page.get_by_role("link", name="Liste de référence").click()
    expect(page.locator("#reference-origin")).to_contain_text("Liste livrée")
    buildings = page.locator('li[data-key="batiments"]')
    buildings.locator("summary").click()
    buildings.get_by_label("Mise à jour attendue (jours)").fill("7")
    buildings.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#console-status")).to_have_text("Entrée enregistrée.")
    expect(page.locator("#reference-origin")).to_contain_text("Liste propre à la ville")
    # a new entry, with its lists typed as text
    add = page.locator("#reference-add")
    add.get_by_label("Clé", exact=True).fill("bornes_fontaines")
    add.get_by_label("Titre (français)").fill("Bornes-fontaines")
    add.get_by_label("Pourquoi (français)").fill("L'accès à l'eau potable.")
    add.get_by_label("Géométrie attendue").select_option("point")
    add.get_by_label("Mise à jour attendue (jours)").fill("365")
    add.get_by_label("Mots recherchés", exact=False).fill("borne, fontaine")
    add.get_by_role("button", name="Ajouter").click()
    expect(page.locator('li[data-key="bornes_fontaines"]')).to_be_visible()
    page.goto(portal.url + "/diagnostic")
    expect(page.locator("#diagnostic-entries tbody tr")).to_have_count(26)
    expect(page.locator('tr[data-entry="bornes_fontaines"]')).to_contain_text(
        "Bornes-fontaines"
    )
    # a refused entry says why and changes nothing
    # (its own page: the refusal is an expected 400 in the console)
    other = context.new_page()
    other.goto(portal.url + "/console/reference")
    add = other.locator("#reference-add")
    add.get_by_label("Clé", exact=True).fill("batiments")
    add.get_by_label("Titre (français)").fill("Doublon")
    add.get_by_label("Pourquoi (français)").fill("Doublon.")
    add.get_by_label("Mise à jour attendue (jours)").fill("30")
    add.get_by_role("button", name="Ajouter").click()
    expect(add.locator("[data-error]")).to_contain_text("exists")
    other.close()
    # back to the shipped list
    page.goto(portal.url + "/console/reference")
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Revenir à la liste livrée").click()
    expect(page.locator("#reference-origin")).to_contain_text("Liste livrée")
    page.goto(portal.url + "/diagnostic")
    expect(page.locator("#diagnostic-entries tbody tr")).to_have_count(25)

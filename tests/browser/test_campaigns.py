"""A mapping campaign end to end in a real browser: a steward creates it in
the console (squares of a chosen size over one quartier), it appears on
/campagnes, contributor A takes a cell on the map and marks it mapped, A
cannot validate it, validator B validates it, the progress shows it and the
statistics credit A."""

from __future__ import annotations

import httpx
import shapely
from browserutil import NGO_PASSWORD, sign_in
from playwright.sync_api import expect

from quartier.access import LOCAL
from quartier.services import accounts
from quartier.storage import open_store

A_PASSWORD = "awa-motdepasse-123"
SLUG = "batiments-paix"


def _sign_out(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("link", name="Se connecter")).to_be_visible()


def test_campaign_end_to_end(page, portal, shot) -> None:
    with open_store(portal.db, create=False) as store:
        accounts.create_user(store, "awa", password=A_PASSWORD, actor=LOCAL)
        token = accounts.issue_token(store, "awa", actor=LOCAL).secret

    # a steward of the NGO creates the campaign in the console
    sign_in(page, portal, "ong", NGO_PASSWORD)
    page.goto(portal.url + "/console/campagnes")
    expect(page.get_by_role("heading", level=1)).to_have_text("Campagnes")
    form = page.locator("#campaign-new")
    form.get_by_label("Identifiant (minuscules, chiffres, tirets)").fill(SLUG)
    form.get_by_label("Titre").fill("Bâtiments de De la Paix")
    form.get_by_label("Organisation responsable").select_option("ong_quartiers")
    form.get_by_label("Zone (unité administrative)").select_option("De la Paix")
    form.get_by_label("Forme des cases").select_option("square")
    form.get_by_label("Taille des cases (mètres)").fill("250")
    form.get_by_label("État", exact=True).select_option("active")
    form.get_by_label("Consignes aux contributeurs").fill("Tracez chaque toit.")
    form.get_by_role("button", name="Créer la campagne").click()
    expect(page.locator("#console-status")).to_have_text("Campagne créée.")
    expect(page.locator(f'#campaigns tr[data-campaign="{SLUG}"]')).to_be_visible()
    _sign_out(page)

    # it is on the public list
    page.goto(portal.url + "/campagnes")
    card = page.locator(f'#campaigns li[data-campaign="{SLUG}"]')
    expect(card).to_contain_text("Bâtiments de De la Paix")
    cells = httpx.get(f"{portal.url}/api/campaigns/{SLUG}/tasks").json()["features"]
    assert len(cells) == 14  # 250 m squares over the quartier

    # contributor A takes cell 1 by clicking it on the map, and maps it
    sign_in(page, portal, "awa", A_PASSWORD)
    page.goto(f"{portal.url}/campagnes/{SLUG}")
    expect(page.locator("#campaign-map")).to_have_attribute("data-ready", "true")
    centre = shapely.geometry.shape(cells[0]["geometry"]).representative_point()
    x, y = page.evaluate(
        "([lon, lat]) => { const p = window.quartierCampaign.project([lon, lat]);"
        " return [p.x, p.y]; }",
        [centre.x, centre.y],
    )
    page.locator("#campaign-map canvas").click(position={"x": x, "y": y})
    panel = page.locator("#cell-panel")
    expect(panel.get_by_role("heading", name="Case 1")).to_be_visible()
    panel.get_by_role("button", name="Je prends cette case").click()
    expect(panel.locator("[data-cell-state]")).to_have_text("État : Réservée")
    page.wait_for_function(  # the map shows it taken, in its colour
        "() => window.quartierCampaign.querySourceFeatures('cells')"
        ".some(f => f.properties.cell === 1 && f.properties.state === 'locked')"
    )
    shot(page, "campaign-locked")
    panel.get_by_role("button", name="Marquer comme cartographiée").click()
    expect(panel.locator("[data-cell-state]")).to_have_text("État : Cartographiée")
    expect(page.locator('#by-state li[data-state="mapped"] strong')).to_have_text("1")
    # A cannot validate their own cell: no button, and the server refuses
    expect(
        panel.get_by_role("button", name="Je prends cette case pour la valider")
    ).to_have_count(0)
    refused = httpx.post(
        f"{portal.url}/api/campaigns/{SLUG}/tasks/1/lock",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert refused.status_code == 403 and "only a validator" in refused.text
    _sign_out(page)

    # validator B (the NGO's steward) validates it, reaching it by its number
    sign_in(page, portal, "ong", NGO_PASSWORD)
    page.goto(f"{portal.url}/campagnes/{SLUG}")
    expect(page.locator("#campaign-map")).to_have_attribute("data-ready", "true")
    page.get_by_label("Numéro de case").fill("1")
    page.get_by_role("button", name="Afficher").click()
    panel.get_by_role("button", name="Je prends cette case pour la valider").click()
    expect(panel.locator("[data-cell-state]")).to_have_text("État : Réservée")
    panel.get_by_label("Commentaire (facultatif)").fill("Parfait")
    panel.get_by_role("button", name="Valider", exact=True).click()
    expect(panel.locator("[data-cell-state]")).to_have_text("État : Validée")
    expect(page.locator('#by-state li[data-state="validated"] strong')).to_have_text(
        "1"
    )
    expect(panel.locator(".cell-history li")).to_have_count(4)
    expect(panel.locator(".cell-history")).to_contain_text("awa")

    page.reload()
    expect(page.locator("#campaign-map")).to_have_attribute("data-ready", "true")
    expect(page.locator("#progress-text")).to_contain_text("7,1 % validées")
    row = page.locator('#campaign-stats tr[data-user="awa"] td')
    expect(row.nth(1)).to_have_text("1")  # A: 1 mapped
    expect(page.locator('#campaign-stats tr[data-user="ong"] td').nth(2)).to_have_text(
        "1"
    )
    shot(page, "campaign", full_page=True)

    # the steward closes the campaign from the console
    page.goto(portal.url + "/console/campagnes")
    row = page.locator(f'#campaigns tr[data-campaign="{SLUG}"]')
    row.get_by_label("État de la campagne").select_option("closed")
    row.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#console-status")).to_have_text(
        "État de la campagne enregistré."
    )
    page.goto(portal.url + "/campagnes")
    expect(card).to_contain_text("Terminée")

    # the campaign pages fit a 360 px phone and label every control
    page.set_viewport_size({"width": 360, "height": 740})
    for path in (f"/campagnes/{SLUG}", "/campagnes", "/console/campagnes"):
        page.goto(portal.url + path)
        overflow = page.evaluate(
            "() => document.scrollingElement.scrollWidth - window.innerWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 360px"
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll('input, select, textarea, button')]
                .filter(el => el.type !== 'hidden')
                .filter(el => !(el.labels && el.labels.length)
                          && !el.getAttribute('aria-label')
                          && !(el.tagName === 'BUTTON' && el.textContent.trim()))
                .map(el => el.outerHTML)"""
        )
        assert unlabelled == [], path

"""Analyses and neighbourhood profiles in a real browser: a steward runs an
analysis from its page (job followed, page reloaded with map, chart and
table), the result shows in the profiles and on the map; a visitor gets no
run button and the profile in English."""

from __future__ import annotations

from browserutil import NGO_PASSWORD, sign_in
from playwright.sync_api import expect

JOB_TIMEOUT = 120_000


def test_steward_runs_an_analysis_and_sees_it_everywhere(page, portal, shot) -> None:
    page.goto(portal.url + "/analyses/vulnerability")
    expect(page.locator(".notice")).to_contain_text("pas encore de résultat")
    expect(page.get_by_role("button", name="Relancer")).to_have_count(0)

    sign_in(page, portal, "ong", NGO_PASSWORD)
    page.goto(portal.url + "/analyses/vulnerability")
    page.get_by_role("button", name="Relancer avec les réglages par défaut").click()
    table = page.get_by_role("heading", name="Tableau — Indice de vulnérabilité")
    expect(table).to_be_visible(timeout=JOB_TIMEOUT)
    expect(page.locator("figure.chart svg rect")).not_to_have_count(0)
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(17)
    # the map of the result is drawn (its layer has rendered features)
    page.wait_for_function(
        "() => window.quartierPreview && window.quartierPreview.loaded()"
        " && window.quartierPreview.queryRenderedFeatures().length > 0",
        timeout=30_000,
    )
    shot(page, "analysis", full_page=True)

    # the result is a catalogued dataset, in the map's layers and the profiles
    page.goto(portal.url + "/catalogue/vulnerabilite")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Indice de vulnérabilité par unité"
    )
    page.goto(portal.url + "/quartiers/mbuku")
    expect(page.locator(".fiche-figures .fiche-table")).to_contain_text(
        "Indice de vulnérabilité (0–100)"
    )


def test_profile_in_english_without_scripts(page, portal, shot) -> None:
    page.goto(portal.url + "/quartiers?lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Neighbourhood profiles")
    page.get_by_role("link", name="Mbuku").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mbuku")
    expect(page.locator(".fiche-table").first).to_contain_text("City median")
    expect(page.get_by_role("img", name="Map of Mbuku")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as PDF").click()
    assert download.value.suggested_filename == "fiche_mbuku.pdf"
    shot(page, "fiche", full_page=True)


def test_expansion_map_coloured_by_period(page, portal) -> None:
    sign_in(page, portal, "ong", NGO_PASSWORD)
    page.goto(portal.url + "/analyses/expansion")
    page.get_by_role("button", name="Relancer avec les réglages par défaut").click()
    table = page.get_by_role("heading", name="Tableau — Extension urbaine par période")
    expect(table).to_be_visible(timeout=JOB_TIMEOUT)
    page.emulate_media(reduced_motion="reduce")
    page.goto(portal.url + "/carte#layers=expansion_batiments")
    legend = page.get_by_role("list", name="Classes de Bâtiments par période")
    expect(legend.locator("li")).to_have_count(4)
    page.wait_for_function(
        "() => window.quartierMap && window.quartierMap.loaded()"
        " && window.quartierMap.queryRenderedFeatures({layers: ['expansion_batiments']})"
        ".length > 0",
        timeout=90_000,
    )
    # one colour per period, as the legend says
    colours = page.evaluate(
        """() => [...new Set(window.quartierMap
            .queryRenderedFeatures({layers: ['expansion_batiments']})
            .map(f => JSON.stringify(f.layer.paint['fill-color'])))]"""
    )
    assert len(colours) >= 2, colours

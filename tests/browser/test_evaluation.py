"""The evaluation and calls pages in a real browser, on the demo city: two
saved diagnostics make a line chart whose numbers are the saved scores, and
a call for contributions links a contributor to the right form."""

from __future__ import annotations

import json

from browserutil import ADMIN_PASSWORD, NGO_PASSWORD, sign_in
from playwright.sync_api import expect

from quartier.access import LOCAL
from quartier.domain.forms import Form
from quartier.services.diagnostic import diagnose, save
from quartier.services.evaluation import series
from quartier.services.importer import ImportOptions, import_path
from quartier.storage import open_store

SHELTER = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"nom": "École Mbuku", "capacite": 200},
            "geometry": {"type": "Point", "coordinates": [15.339, -4.424]},
        }
    ],
}


def test_evaluation_chart_and_a_call_to_the_right_form(
    page, portal, shot, tmp_path
) -> None:
    path = tmp_path / "abris.geojson"
    path.write_text(json.dumps(SHELTER), encoding="utf-8")
    with open_store(portal.db, create=False) as store:
        save(store, diagnose(store, LOCAL), author="test")  # v1
        import_path(store, path, ImportOptions(dataset="abris", title="Abris"))
        save(store, diagnose(store, LOCAL), author="test")  # v2: shelters exist
        scores = [p.score for p in series(store, LOCAL)]
        store.add_form(
            Form(
                "releve_abris",
                "1",
                "Relevé des abris",
                "<h:html/>",
                "0" * 32,
                "ong_quartiers",
                created="2026-11-01T00:00:00+00:00",
            )
        )
    assert len(scores) == 2 and scores[1] > scores[0]

    # the saved levels read restricted data: staff see the series
    sign_in(page, portal, "admin", ADMIN_PASSWORD)
    page.goto(portal.url + "/evaluation")
    expect(page.get_by_role("heading", level=1)).to_have_text("Évaluation")
    chart = page.get_by_role("img", name="Score du diagnostic par version enregistrée")
    expect(chart).to_be_visible()
    points = chart.locator("circle.series-point")
    expect(points).to_have_count(2)
    shown = [float(points.nth(i).get_attribute("data-value")) for i in range(2)]
    assert shown == scores
    rows = page.locator("#series-scores tbody tr td.num")
    expect(rows).to_have_text([str(s) for s in scores])
    expect(
        page.locator('#series-entries tr[data-entry="abris"] td').last
    ).to_contain_text("niveau 1")
    expect(page.locator("#contributions-kinds")).to_be_visible()
    shot(page, "evaluation", full_page=True)

    # a visitor is asked to sign in; a contributor of the NGO gets its form
    context = page.context
    context.clear_cookies()
    page.goto(portal.url + "/contribuer")
    call = page.locator('li[data-call="abris"]')
    expect(
        call.get_by_role("link", name="Connectez-vous pour contribuer")
    ).to_be_visible()
    expect(call.locator("a.call-form")).to_have_count(0)
    call.get_by_role("link", name="Connectez-vous pour contribuer").click()
    page.get_by_label("Identifiant").fill("enqueteur")
    page.get_by_label("Mot de passe").fill(NGO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(portal.url + "/contribuer")  # back where they were
    expect(page.get_by_role("heading", level=1)).to_have_text("Appels à contributions")
    form = page.locator('li[data-call="abris"] a.call-form')
    expect(form).to_have_attribute("href", "/formulaires/releve_abris")
    expect(form).to_contain_text("Relevé des abris")
    expect(page.locator('li[data-call="abris"] a.call-report')).to_have_attribute(
        "href", "/signalements"
    )
    shot(page, "contribuer", full_page=True)

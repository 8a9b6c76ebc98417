"""Objectives and the roadmap in a real browser, on the demo city: the
public pages show computed indicators and both priorities; the NGO's
steward adds a roadmap item and an objective and changes a status from the
console."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from browserutil import NGO_PASSWORD, sign_in
from playwright.sync_api import expect

from quartier.access import LOCAL
from quartier.domain.programme import (
    Indicator,
    Objective,
    ObjectiveStatus,
    Priority,
    RoadmapItem,
)
from quartier.services import objectives, roadmap
from quartier.storage import open_store

LATE = (date.today() - timedelta(days=5)).isoformat()


@pytest.fixture(scope="module")
def seeded(portal):  # type: ignore[no-untyped-def]
    with open_store(portal.db, create=False) as store:
        objectives.create(
            store,
            LOCAL,
            Objective(
                "connaitre-le-bati",
                "Connaître le bâti de Kisenso",
                "commune_kisenso",
                description="Chaque maison sur la carte",
                indicators=(
                    Indicator("Score du diagnostic", "score", 80.0),
                    Indicator("Bâtiments couverts", "coverage:batiments", 100.0),
                    Indicator("Agents formés", value=4.0, target=8.0, unit="agents"),
                ),
                datasets=("batiments", "zones_ong"),
                status=ObjectiveStatus.ACTIVE,
            ),
        )
        roadmap.create(
            store,
            LOCAL,
            RoadmapItem(
                "adresses",
                "Adresser les rues",
                "commune_kisenso",
                target_date=LATE,
                reference="adresses",
                priority=Priority.LOW,
                objective="connaitre-le-bati",
            ),
        )
    return portal


def test_public_pages_show_indicators_and_priorities(page, seeded, shot) -> None:
    page.goto(seeded.url + "/objectifs")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Objectifs de la ville pour ses données"
    )
    card = page.locator('li[data-objective="connaitre-le-bati"]')
    expect(card.get_by_role("heading")).to_have_text("Connaître le bâti de Kisenso")
    expect(card).to_contain_text("En cours")
    expect(card).to_contain_text("Calculé d'après le diagnostic")
    expect(card.get_by_label("Progression de Agents formés")).to_have_attribute(
        "value", "50"
    )
    expect(card.get_by_role("link", name="Bâtiments")).to_be_visible()
    # the NGO's restricted dataset is not named to a visitor
    expect(card).not_to_contain_text("Zones sensibles")
    shot(page, "objectives", full_page=True)

    page.goto(seeded.url + "/feuille-de-route")
    expect(page.locator("#priority-rule")).to_contain_text("haute quand")
    row = page.locator('tr[data-item="adresses"]')
    expect(row).to_have_class("overdue")
    expect(row).to_contain_text("En retard")
    expect(row.locator('[data-col="suggested"]')).not_to_have_text("—")
    expect(row.locator('[data-col="priority"]')).to_contain_text("Basse")
    expect(row.locator('[data-col="priority"]')).to_contain_text("choisie")
    expect(row.get_by_role("link", name="Connaître le bâti de Kisenso")).to_be_visible()
    page.get_by_role("link", name="par trimestre d'échéance").click()
    expect(page.locator("main h2").first).to_contain_text("-T")
    page.goto(seeded.url + "/feuille-de-route?lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Data roadmap")
    expect(page.locator('tr[data-item="adresses"]')).to_contain_text("Overdue")


def test_a_steward_adds_an_item_and_an_objective_and_moves_them(
    page, seeded, shot
) -> None:
    sign_in(page, seeded, "ong", NGO_PASSWORD)
    page.locator("nav.console-nav").get_by_role("link", name="Programme").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Objectifs et feuille de route"
    )
    # the city's items are not the NGO's to change
    expect(page.locator('#roadmap-items tr[data-item="adresses"]')).to_have_count(0)
    form = page.locator("#roadmap-new")
    form.get_by_label("Identifiant").fill("abris-crue")
    form.get_by_label("Titre").fill("Recenser les abris en cas de crue")
    form.get_by_label("Organisation responsable").select_option("ong_quartiers")
    form.get_by_label("Gestionnaire").select_option("ong")
    form.get_by_label("Échéance").fill("2031-03-15")
    form.get_by_label("Donnée de référence").select_option("abris")
    form.get_by_role("button", name="Ajouter à la feuille de route").click()
    expect(page.locator("#console-status")).to_have_text("Élément ajouté.")
    row = page.locator('#roadmap-items tr[data-item="abris-crue"]')
    expect(row).to_contain_text("Recenser les abris en cas de crue")
    row.get_by_label("État", exact=True).select_option("in_progress")
    row.get_by_role("button", name="Enregistrer").nth(1).click()
    expect(page.locator("#console-status")).to_have_text("État enregistré.")
    # a new objective with an indicator computed from the diagnostic
    obj = page.locator("#objective-new")
    obj.get_by_label("Identifiant").fill("abris-connus")
    obj.get_by_label("Titre").fill("Connaître les abris")
    obj.get_by_label("Organisation responsable").select_option("ong_quartiers")
    obj.locator("#i1-label").fill("Abris couverts")
    obj.locator("#i1-source").select_option("coverage:abris")
    obj.locator("#i1-target").fill("90")
    obj.get_by_role("button", name="Enregistrer l'objectif").click()
    expect(page.locator("#console-status")).to_have_text("Objectif enregistré.")
    orow = page.locator('#objectives-managed tr[data-objective="abris-connus"]')
    orow.get_by_label("État", exact=True).select_option("active")
    orow.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#console-status")).to_have_text("État enregistré.")
    shot(page, "console-programme", full_page=True)

    page.goto(seeded.url + "/feuille-de-route")
    section = page.locator("section", has=page.get_by_role("heading", name="En cours"))
    item = section.locator('tr[data-item="abris-crue"]')
    expect(item).to_contain_text("ONG Quartiers solidaires")
    expect(item).to_contain_text("ong")
    # shelters: no data in the demo (level 0) and crisis: suggested high
    expect(item.locator('[data-col="suggested"]')).to_have_text("Haute")
    expect(item.locator('[data-col="priority"]')).to_have_text("Haute")
    shot(page, "roadmap", full_page=True)
    page.goto(seeded.url + "/objectifs")
    card = page.locator('li[data-objective="abris-connus"]')
    expect(card).to_contain_text("En cours")
    expect(card).to_contain_text("Couverture — Abris")
    # the steward of the NGO reads its restricted zones, so they are named
    expect(page.locator('li[data-objective="connaitre-le-bati"]')).to_contain_text(
        "Zones sensibles"
    )

"""Residents' reports in Chromium, end to end on a live server.

An anonymous resident taps the map, adds a photo and files a report; it is
listed as "reçu" with no personal data; a moderator of the responsible
organisation moves it to "en cours" then "résolu" in the console; the
public page shows the history. A resident contests a building from the map
pop-up; the dataset's steward sees it in the console with the version.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator

import pytest
import shapely
from browserutil import Portal, sign_in
from playwright.sync_api import expect
from reportutil import png

from quartier.access import LOCAL
from quartier.services import accounts
from quartier.storage import open_store

PASSWORD = "moderation-mot-de-passe"
NAME, CONTACT = "Mama Nsimba Privée", "+243 81 000 PRIVE"
CATEGORIES = json.dumps(
    [
        {"code": "dechets", "label": "Déchets", "label_en": "Waste",
         "organisation": "commune_kisenso"},
        {"code": "autre", "label": "Autre", "label_en": "Other"},
    ]
)  # fmt: skip
TIMEOUT = 90_000
READY = "() => window.quartierReportMap && window.quartierReportMap.loaded()"
MAP_READY = "() => window.quartierMap && window.quartierMap.loaded()"


@pytest.fixture(scope="module")
def city(demo_gpkg: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    from webutil import live_server

    db = str(tmp_path_factory.mktemp("reports") / "reports.gpkg")
    shutil.copy(demo_gpkg, db)
    with open_store(db, create=False) as store:
        for name, org in (("commune", "commune_kisenso"), ("labo", "opendatalab_rdc")):
            accounts.create_user(store, name, password=PASSWORD, actor=LOCAL)
            accounts.grant_role(store, name, org, "moderator", actor=LOCAL)
    store = open_store(db, create=False)
    try:
        with live_server(store, report_categories=CATEGORIES) as url:
            yield Portal(url=url, db=db)
    finally:
        store.close()


def test_file_follow_and_resolve_a_report(page, browser, city, shot) -> None:
    page.emulate_media(reduced_motion="reduce")
    page.goto(city.url + "/signalements")
    expect(page.get_by_role("link", name="Signalements")).to_have_attribute(
        "aria-current", "page"
    )
    page.wait_for_function(READY, timeout=TIMEOUT)
    box = page.locator("#report-map").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page.locator("#report-place")).to_contain_text("Position choisie")
    page.get_by_label("Catégorie", exact=True).select_option("dechets")
    page.get_by_label("Description").fill("Tas d'ordures qui bouche le caniveau")
    page.get_by_label("Photo (facultatif)").set_input_files(
        {"name": "photo.png", "mimeType": "image/png", "buffer": png(40, 30)}
    )
    page.get_by_label("Nom", exact=True).fill(NAME)
    page.get_by_label("Téléphone ou e-mail").fill(CONTACT)
    shot(page, "report-form")
    page.get_by_role("button", name="Envoyer le signalement").click()
    ok = page.locator("#report-ok")
    expect(ok).to_contain_text("Merci", timeout=30_000)
    href = ok.get_by_role("link").get_attribute("href")
    assert href and href.startswith("/signalements/")
    report_id = href.rsplit("/", 1)[1]

    # public list and page: "reçu", the photo, no personal data anywhere
    page.goto(city.url + "/signalements")
    row = page.locator(f'li[data-report="{report_id}"]')
    expect(row).to_contain_text("reçu")
    assert NAME not in page.content() and CONTACT not in page.content()
    page.goto(city.url + href)
    expect(page.locator("#report-status")).to_have_text("reçu")
    expect(page.get_by_role("link", name="Photo 1")).to_be_visible()
    assert NAME not in page.content() and CONTACT not in page.content()

    # the city's moderator handles it in the console, seeing who to call back
    staff = browser.new_context(viewport={"width": 1280, "height": 800}, locale="fr-FR")
    try:
        mod = staff.new_page()
        sign_in(mod, city, "commune", PASSWORD)
        mod.goto(city.url + "/console/signalements")
        line = mod.locator(f'tr[data-report="{report_id}"]')
        expect(line).to_contain_text(NAME)
        expect(line).to_contain_text(CONTACT)
        for status, note in (
            ("in_progress", "Équipe envoyée"),
            ("resolved", "Nettoyé"),
        ):
            line = mod.locator(f'tr[data-report="{report_id}"]')
            line.get_by_label("Nouveau statut").select_option(status)
            line.get_by_label("Note publique").fill(note)
            line.get_by_role("button", name="Enregistrer").click()
            expect(mod.locator("#console-status")).to_have_text("Statut enregistré.")
        shot(mod, "report-console", full_page=True)
    finally:
        staff.close()

    page.goto(city.url + href)
    expect(page.locator("#report-status")).to_have_text("résolu")
    history = page.locator("#history li")
    expect(history).to_have_count(3)
    expect(history.nth(1)).to_contain_text("en cours")
    expect(history.nth(1)).to_contain_text("Équipe envoyée")
    expect(history.nth(2)).to_contain_text("Nettoyé")
    expect(history.nth(2)).to_contain_text("Commune de Kisenso")
    assert "commune<" not in page.content()  # the account is never shown
    shot(page, "report-page", full_page=True)


def test_contest_a_building_from_the_map(page, browser, city) -> None:
    with open_store(city.db, create=False) as store:
        batch = store.query_features("batiments", limit=50).batch
        version = store.get_dataset("batiments").current_version
    shapes = shapely.from_wkb(batch.column("geometry").to_pylist())
    point = max(shapes, key=lambda g: g.area).representative_point()
    page.emulate_media(reduced_motion="reduce")
    page.goto(f"{city.url}/carte#map=18/{point.y}/{point.x}&layers=batiments")
    page.wait_for_function(MAP_READY, timeout=TIMEOUT)
    box = page.locator("#map").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    popup = page.locator(".maplibregl-popup .feature-popup")
    popup.wait_for()
    popup.get_by_role(
        "link", name="C'est juste ? C'est faux ici ? Donnez votre avis"
    ).click()
    page.wait_for_url("**/signalements/contester?**")
    expect(page.locator("main")).to_contain_text(f"version {version}")
    page.get_by_label("C'est faux ici").check()
    page.get_by_label("Commentaire").fill("Ce bâtiment a été démoli en 2023")
    page.get_by_role("button", name="Envoyer").click()
    expect(page.locator("#report-ok")).to_contain_text("Merci", timeout=30_000)

    staff = browser.new_context(viewport={"width": 1280, "height": 800}, locale="fr-FR")
    try:
        steward = staff.new_page()
        sign_in(steward, city, "labo", PASSWORD)
        steward.goto(city.url + "/console/signalements")
        section = steward.locator('section[data-contests="batiments"]')
        expect(section).to_contain_text("« C'est faux ici » : 1")
        row = section.locator("tbody tr").first
        expect(row).to_contain_text("Ce bâtiment a été démoli en 2023")
        expect(row.locator("td").nth(1)).to_have_text(str(version))
    finally:
        staff.close()


def test_retry_after_a_lost_answer_and_an_edit(browser, city) -> None:
    """The first answer is lost on the way back (the server stored the
    report). Sent again unchanged, it is the same report (200); edited and
    sent again, it is a new one, not a 409 that sticks until reload. (Its
    own context: the lost answers are network errors in the console.)"""
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="fr-FR"
    )
    try:
        _lose_answers_then_retry(context.new_page(), city)
    finally:
        context.close()


def _lose_answers_then_retry(page, city) -> None:
    lost: list[str] = []

    def lose_answers(route) -> None:
        if (
            route.request.method == "POST"
            and len(lost) < 2
            and route.request.post_data_buffer
            and b"perdue" in route.request.post_data_buffer
        ):
            lost.append(route.fetch().text())  # stored, but the phone never hears
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/api/reports", lose_answers)
    page.goto(city.url + "/signalements")
    page.wait_for_function(READY, timeout=TIMEOUT)
    box = page.locator("#report-map").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 3, box["y"] + box["height"] / 3)
    page.get_by_label("Catégorie", exact=True).select_option("autre")
    page.get_by_label("Description").fill("Réponse perdue une fois")
    page.get_by_label("Photo (facultatif)").set_input_files(
        {"name": "photo.png", "mimeType": "image/png", "buffer": png(40, 30)}
    )
    send = page.get_by_role("button", name="Envoyer le signalement")
    send.click()
    expect(page.locator("#report-error")).to_contain_text("Le serveur ne répond pas")
    # unchanged: the same id and photo → the stored report, no duplicate
    page.unroute("**/api/reports")
    send.click()
    expect(page.locator("#report-ok")).to_contain_text("Merci", timeout=30_000)

    page.route("**/api/reports", lose_answers)
    page.mouse.click(box["x"] + box["width"] / 3, box["y"] + box["height"] / 3)
    page.get_by_label("Catégorie", exact=True).select_option("autre")
    page.get_by_label("Description").fill("Deuxième réponse perdue")
    send.click()
    expect(page.locator("#report-error")).to_contain_text("Le serveur ne répond pas")
    page.get_by_label("Description").fill("Deuxième réponse perdue, corrigée")
    page.unroute("**/api/reports")
    send.click()
    expect(page.locator("#report-ok")).to_contain_text("Merci", timeout=30_000)
    assert len(lost) == 2
    with open_store(city.db, create=False) as store:
        texts = [r.description for r in store.list_reports(hidden=None, limit=None)]
    assert texts.count("Réponse perdue une fois") == 1
    assert texts.count("Deuxième réponse perdue") == 1
    assert texts.count("Deuxième réponse perdue, corrigée") == 1


def test_contest_retry_after_a_lost_answer_and_an_edit(browser, city) -> None:
    """The contest form, like the report form: unchanged after a lost answer,
    the same contest; edited, a new one (never a 409 until reload)."""
    with open_store(city.db, create=False) as store:
        fid = store.query_features("batiments", limit=1).batch.column("fid")[0]
        version = store.get_dataset("batiments").current_version
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="fr-FR"
    )
    lost: list[str] = []

    def lose_answers(route) -> None:
        if route.request.method == "POST" and len(lost) < 2:
            lost.append(route.fetch().text())  # stored, but the phone never hears
            route.abort("connectionreset")
        else:
            route.continue_()

    try:
        page = context.new_page()
        url = f"{city.url}/signalements/contester?jeu=batiments&objet={fid}&version={version}"
        page.goto(url)
        page.route("**/contest", lose_answers)
        send = page.get_by_role("button", name="Envoyer")
        page.get_by_label("Commentaire").fill("Avis perdu puis renvoyé")
        send.click()
        expect(page.locator("#report-error")).to_contain_text(
            "Le serveur ne répond pas"
        )
        page.unroute("**/contest")
        send.click()
        expect(page.locator("#report-ok")).to_contain_text("Merci", timeout=30_000)
        page.route("**/contest", lose_answers)
        page.get_by_label("Commentaire").fill("Avis perdu")
        send.click()
        expect(page.locator("#report-error")).to_contain_text(
            "Le serveur ne répond pas"
        )
        page.get_by_label("Commentaire").fill("Avis perdu, puis corrigé")
        page.unroute("**/contest")
        send.click()
        expect(page.locator("#report-ok")).to_contain_text("Merci", timeout=30_000)
    finally:
        context.close()
    assert len(lost) == 2
    with open_store(city.db, create=False) as store:
        texts = [
            r.description
            for r in store.list_reports(dataset="batiments", hidden=None, limit=None)
        ]
    for text in ("Avis perdu puis renvoyé", "Avis perdu", "Avis perdu, puis corrigé"):
        assert texts.count(text) == 1, (text, texts)

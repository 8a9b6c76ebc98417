"""The staff console in Chromium: sign in and out, uploads with job progress
and report, metadata and access changes, restores, organisations, users and
roles, tokens, the audit log — every write through the platform API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browserutil import ADMIN_PASSWORD, NGO_PASSWORD, sign_in
from playwright.sync_api import expect

#: a real file of the shared demo data (OpenStreetMap markets of Kinshasa)
MARKETS = (
    Path(__file__).resolve().parents[3]
    / "shared/data/demo/kinshasa/kinshasa_markets_osm.geojson"
)
JOB_TIMEOUT = 60_000


@pytest.fixture
def refusing_page(context: Any) -> Iterator[Any]:
    """A page for tests that provoke API errors on purpose: Chromium logs each
    refused request ("Failed to load resource"); any other error still fails."""
    pg = context.new_page()
    problems: list[str] = []
    pg.on(
        "console",
        lambda msg: (
            problems.append(msg.text)
            if msg.type == "error" and "Failed to load resource" not in msg.text
            else None
        ),
    )
    pg.on("pageerror", lambda exc: problems.append(f"uncaught: {exc}"))
    yield pg
    assert not problems, "errors in the browser console:\n" + "\n".join(problems)


def points(path: Path, n: int, label: str = "point") -> Path:
    features = [
        {
            "type": "Feature",
            "properties": {"nom": f"{label} {i}", "rang": i},
            "geometry": {"type": "Point", "coordinates": [15.33 + i * 0.002, -4.42]},
        }
        for i in range(n)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def upload(
    page: Any,
    portal: Any,
    path: Path,
    dataset: str,
    *,
    title: str = "",
    access: str = "Public",
) -> None:
    page.goto(portal.url + "/console/import")
    page.get_by_label("Fichier", exact=True).set_input_files(str(path))
    page.get_by_label("Identifiant du jeu de données (facultatif)").fill(dataset)
    if title:
        page.get_by_label("Titre", exact=True).fill(title)
    page.get_by_label("Niveau d'accès").select_option(label=access)
    page.get_by_role("button", name="Importer", exact=True).click()
    expect(page.locator("#report")).to_be_visible(timeout=JOB_TIMEOUT)


def watch_status(page: Any) -> None:
    """Record every text the job's live region shows (read back by ``seen``)."""
    page.evaluate(
        """() => {
        window.__statuses = [];
        const el = document.getElementById('job-status');
        new MutationObserver(() => window.__statuses.push(el.textContent))
          .observe(el, {childList: true, characterData: true, subtree: true});
    }"""
    )


def test_sign_in_upload_progress_report_and_catalogue(page, portal, shot) -> None:
    if not MARKETS.exists():
        pytest.fail(f"{MARKETS} is missing (../shared/data)", pytrace=False)
    sign_in(page, portal, "ong", NGO_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Console")
    page.get_by_role("link", name="Importer", exact=True).click()
    page.get_by_label("Fichier", exact=True).set_input_files(str(MARKETS))
    page.get_by_label("Identifiant du jeu de données (facultatif)").fill(
        "marches_kinshasa"
    )
    page.get_by_label("Titre", exact=True).fill("Marchés de Kinshasa (relevé ONG)")
    page.get_by_label("Thème").fill("économie")
    page.get_by_label("Niveau d'accès").select_option(label="Public")
    # the NGO may only create datasets produced by its own organisation
    producers = page.get_by_label("Organisation productrice").locator("option")
    assert producers.all_inner_texts() == ["ONG Quartiers solidaires"]
    page.get_by_label("Licence").fill("ODbL-1.0")
    watch_status(page)
    page.get_by_role("button", name="Importer", exact=True).click()

    report = page.locator("#report")
    expect(report).to_be_visible(timeout=JOB_TIMEOUT)
    expect(page.locator("#job-status")).to_have_text("Import terminé.")
    assert page.locator("#job-progress").evaluate("p => p.value === p.max")
    statuses = page.evaluate("window.__statuses")
    assert any(s.startswith("Envoi du fichier") for s in statuses), statuses
    assert statuses[-1] == "Import terminé."
    expect(report.locator('[data-slot="summary"]')).to_contain_text(
        "Version 1 de « marches_kinshasa » enregistrée."
    )
    stored = int(
        report.locator('[data-slot="stored"]').inner_text().replace("\u202f", "")
    )
    assert stored > 10
    expect(report.locator('[data-slot="source"]')).to_have_text(MARKETS.name)
    expect(report.locator('[data-slot="fields"]')).to_contain_text("name")
    shot(page, "upload", full_page=True)

    report.get_by_role("link", name="Voir la page du jeu de données").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Marchés de Kinshasa (relevé ONG)"
    )
    page.goto(portal.url + "/catalogue")
    page.get_by_label("Rechercher").fill("relevé ONG")
    page.get_by_role("button", name="Filtrer").click()
    slugs = page.locator("#results [data-slug]").evaluate_all(
        "items => items.map(i => i.dataset.slug)"
    )
    assert slugs == ["marches_kinshasa"]

    page.goto(portal.url + "/console")
    expect(page.locator("#recent-jobs")).to_contain_text("marches_kinshasa")
    expect(page.locator('#my-datasets [data-slug="zones_ong"]')).to_be_visible()
    shot(page, "console")

    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(portal.url + "/")
    page.goto(portal.url + "/console/import")
    page.wait_for_url("**/connexion?suite=/console/import")


def test_edit_metadata_and_access_level(page, portal, browser, tmp_path) -> None:
    sign_in(page, portal, "ong", NGO_PASSWORD)
    upload(
        page,
        portal,
        points(tmp_path / "releves.geojson", 4),
        "releves_ong",
        title="Relevés de l'ONG",
    )
    page.goto(portal.url + "/console/jeux/releves_ong")
    page.get_by_label("Titre (français)").fill("Relevés vérifiés de l'ONG")
    page.get_by_label("Titre (anglais)").fill("NGO surveys (checked)")
    page.get_by_label("Licence").fill("CC-BY-4.0")
    page.get_by_label("Attribution").fill("© ONG Quartiers solidaires")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#console-status")).to_have_text("Modifications enregistrées.")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Relevés vérifiés de l'ONG"
    )

    visitor = browser.new_context(locale="fr-FR")
    try:
        anon = visitor.new_page()
        anon.goto(portal.url + "/catalogue?q=vérifiés")
        expect(anon.locator('#results [data-slug="releves_ong"]')).to_be_visible()

        page.get_by_label("Restreint").check()
        page.get_by_role("button", name="Enregistrer").click()
        expect(page.locator("#console-status")).to_have_text(
            "Modifications enregistrées."
        )
        expect(page.locator("#current-access")).to_have_text("Restreint")

        page.goto(portal.url + "/catalogue?access=restricted")
        expect(page.locator('#results [data-slug="releves_ong"]')).to_contain_text(
            "Restreint"
        )
        anon.goto(portal.url + "/catalogue?q=vérifiés")
        expect(anon.locator('#results [data-slug="releves_ong"]')).to_have_count(0)
        response = anon.goto(portal.url + "/catalogue/releves_ong")
        assert response is not None and response.status == 404
    finally:
        visitor.close()


def test_api_errors_are_shown(refusing_page, portal) -> None:
    page = refusing_page
    sign_in(page, portal, "ong", NGO_PASSWORD)
    page.goto(portal.url + "/console/jeux/zones_ong")
    page.get_by_label("Titre (français)").fill("")
    page.get_by_role("button", name="Enregistrer").click()
    # the browser's own check first (required), then the API's answer
    page.get_by_label("Titre (français)").evaluate("e => e.removeAttribute('required')")
    page.get_by_role("button", name="Enregistrer").click()
    alert = page.locator("#metadata-form [role=alert]")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("title")


def test_restore_an_older_version(page, portal, tmp_path) -> None:
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, portal, "ong", NGO_PASSWORD)
    upload(page, portal, points(tmp_path / "suivi.geojson", 5), "suivi_ong")
    upload(page, portal, points(tmp_path / "suivi2.geojson", 2, "autre"), "suivi_ong")
    expect(page.locator('#report [data-slot="version"]')).to_have_text("2")
    page.get_by_role("link", name="Modifier les métadonnées").click()
    rows = page.locator("#versions tbody tr")
    expect(rows).to_have_count(2)
    page.get_by_role("button", name="Restaurer la version 1").click()
    expect(page.locator("#console-status")).to_have_text("Version 1 restaurée.")
    expect(rows).to_have_count(3)

    page.goto(portal.url + "/catalogue/suivi_ong")
    history = page.locator("#versions tbody tr")
    expect(history).to_have_count(3)
    expect(history.first).to_contain_text("restaurée depuis 1")
    expect(history.first.locator("td.num")).to_have_text("5")


def test_organisation_user_and_role(refusing_page, portal) -> None:
    page = refusing_page
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, portal, "admin", ADMIN_PASSWORD)
    page.goto(portal.url + "/console/organisations")
    page.get_by_label("Nom", exact=True).fill("Université de Kinshasa")
    page.get_by_label("Identifiant", exact=True).fill("unikin")
    page.get_by_label("Type d'acteur").select_option(label="Universités")
    page.get_by_role("button", name="Créer l'organisation").click()
    expect(page.locator("#console-status")).to_have_text("Organisation créée.")
    expect(page.locator('#organisations [data-slug="unikin"]')).to_contain_text(
        "Université de Kinshasa"
    )

    page.get_by_role("link", name="Utilisateurs et rôles").click()
    form = page.locator("#user-form")
    form.get_by_label("Identifiant").fill("chercheuse")
    form.get_by_label("Nom affiché").fill("Awa Chercheuse")
    form.get_by_label("Mot de passe").fill("un-long-mot-de-passe")
    form.get_by_role("button", name="Créer le compte").click()
    expect(page.locator("#console-status")).to_have_text("Compte créé.")
    row = page.locator('#users [data-user="chercheuse"]')
    expect(row).to_contain_text("aucun rôle")

    grant = page.locator("#grant-form")
    grant.get_by_label("Compte").fill("chercheuse")
    grant.get_by_label("Organisation").select_option(label="Université de Kinshasa")
    grant.get_by_label("Rôle").select_option(label="Gestionnaire des données")
    grant.get_by_role("button", name="Attribuer le rôle").click()
    expect(page.locator("#console-status")).to_have_text("Rôle attribué.")
    expect(row).to_contain_text("Université de Kinshasa : Gestionnaire des données")

    # an unknown account: the API's message, in an alert
    grant.get_by_label("Compte").fill("personne")
    grant.get_by_role("button", name="Attribuer le rôle").click()
    expect(grant.locator("[role=alert]")).to_contain_text("personne")

    row.get_by_role(
        "button", name="Retirer le rôle de chercheuse dans Université de Kinshasa"
    ).click()
    expect(page.locator("#console-status")).to_have_text("Rôle retiré.")
    expect(row).to_contain_text("aucun rôle")


def test_issue_and_revoke_a_token(page, portal) -> None:
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, portal, "ong", NGO_PASSWORD)
    page.goto(portal.url + "/console/jetons")
    page.get_by_label("Nom (à quoi sert-il ?)").fill("QGIS du bureau")
    page.keyboard.press("Enter")  # keyboard only
    secret_box = page.get_by_label("Jeton", exact=True)
    expect(secret_box).to_be_visible()
    secret = secret_box.input_value()
    assert secret.startswith("qt_")
    row = page.locator("#tokens tbody tr", has_text="QGIS du bureau")
    expect(row).to_have_count(1)
    me = page.request.get(
        portal.url + "/api/me", headers={"Authorization": f"Bearer {secret}"}
    )
    assert me.json()["username"] == "ong"

    row.get_by_role("button", name="Révoquer").click()
    expect(page.locator("#console-status")).to_have_text("Jeton révoqué.")
    expect(page.locator("#tokens tbody tr", has_text="QGIS du bureau")).to_contain_text(
        "révoqué le"
    )
    gone = page.request.get(
        portal.url + "/api/me", headers={"Authorization": f"Bearer {secret}"}
    )
    assert gone.status == 401


def test_audit_log_shows_the_upload(page, portal, tmp_path) -> None:
    sign_in(page, portal, "admin", ADMIN_PASSWORD)
    upload(page, portal, points(tmp_path / "journal.geojson", 3), "journal_test")
    page.get_by_role("link", name="Journal", exact=True).click()
    expect(page.locator("#journal tbody tr").first).to_have_attribute(
        "data-target", "journal_test@1"
    )
    page.get_by_label("Action").select_option(label="Import d'un fichier")
    page.get_by_label("Cible").fill("journal_test")
    page.get_by_role("button", name="Filtrer").click()
    rows = page.locator("#journal tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("admin")
    expect(rows.first).to_have_attribute("data-action", "import")

    # the NGO's steward sees its own entries, not the administrator's
    page.get_by_role("button", name="Se déconnecter").click()
    sign_in(page, portal, "ong", NGO_PASSWORD)
    page.goto(portal.url + "/console/journal?action=import")
    targets = page.locator("#journal tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.target)"
    )
    assert targets and "journal_test@1" not in targets


def test_forbidden_and_narrow_screens(refusing_page, portal) -> None:
    page = refusing_page
    sign_in(page, portal, "ong", NGO_PASSWORD)
    response = page.goto(portal.url + "/console/utilisateurs")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Accès refusé")
    response = page.goto(portal.url + "/console/jeux/inconnu")
    assert response is not None and response.status == 404
    page.set_viewport_size({"width": 360, "height": 740})
    for path in (
        "/console",
        "/console/import",
        "/console/jeux/zones_ong",
        "/console/jetons",
        "/console/journal",
    ):
        page.goto(portal.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        wide = page.evaluate(
            "[...document.querySelectorAll('body *')].filter(e => "
            "e.getBoundingClientRect().right > 361).map(e => e.tagName + '.' + "
            "e.className + '#' + e.id + ':' + Math.round(e.getBoundingClientRect().right))"
        )
        assert width <= 360, (path, width, wide)

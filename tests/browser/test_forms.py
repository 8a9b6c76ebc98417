"""Forms in a real browser: a steward publishes an XLSForm from the console,
ODK Collect's form list then offers it, a submission sent the way Collect
sends it arrives pending, and the steward approves it in the console."""

from __future__ import annotations

import base64
import uuid

import httpx
from browserutil import NGO_PASSWORD, sign_in
from playwright.sync_api import expect

from quartier.forms import EXAMPLE_FORM

OR = {"X-OpenRosa-Version": "1.0"}


def _basic(user: str = "enqueteur") -> dict[str, str]:
    token = base64.b64encode(f"{user}:{NGO_PASSWORD}".encode()).decode()
    return {**OR, "Authorization": f"Basic {token}"}


def test_publish_collect_and_moderate(page, portal, shot) -> None:
    sign_in(page, portal, "ong", NGO_PASSWORD)
    page.goto(portal.url + "/console/formulaires")
    expect(page.get_by_role("heading", level=1)).to_have_text("Formulaires")
    page.get_by_label("Fichier XLSForm (.xlsx, .xls)").set_input_files(
        str(EXAMPLE_FORM)
    )
    page.get_by_label("Organisation responsable").select_option("ong_quartiers")
    page.get_by_label("… ou un nouveau jeu, créé pour ce formulaire").fill(
        "profils_terrain"
    )
    page.get_by_role("button", name="Publier").click()
    expect(page.locator("#console-status")).to_have_text("Formulaire publié.")
    expect(page.locator('#forms [data-form="profil_quartier"]')).to_be_visible()

    # what ODK Collect sees and sends
    listed = httpx.get(f"{portal.url}/openrosa/formList", headers=_basic())
    assert (
        listed.status_code == 200 and "<formID>profil_quartier</formID>" in listed.text
    )
    instance_id = f"uuid:{uuid.uuid4()}"
    xml = (
        '<data id="profil_quartier" version="2026112601"><quartier>mbuku</quartier>'
        "<position>-4.4301 15.3310 312 5</position><nb_menages>12</nb_menages>"
        f"<meta><instanceID>{instance_id}</instanceID></meta></data>"
    )
    sent = httpx.post(
        f"{portal.url}/openrosa/submission",
        headers=_basic(),
        files={"xml_submission_file": ("submission.xml", xml.encode(), "text/xml")},
    )
    assert sent.status_code == 201, sent.text

    page.reload()
    row = page.locator(f'tr[data-instance="{instance_id}"]')
    expect(row).to_be_visible()
    # the moderator reads the answers before deciding
    row.get_by_text("Réponses (3)").click()
    expect(row.locator("details.answers")).to_contain_text("Nombre de ménages")
    expect(row.locator("details.answers")).to_contain_text("12")
    shot(page, "moderation", full_page=True)
    row.get_by_label("Décision", exact=True).select_option("approved")
    row.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#console-status")).to_have_text("Décision enregistrée.")
    expect(page.locator(f'tr[data-instance="{instance_id}"]')).to_have_count(0)
    # the answer is now a point of the new dataset, on the steward's map
    page.goto(portal.url + "/carte")
    layer = page.locator('.layer[data-slug="profils_terrain"]')
    expect(layer).to_have_count(1)
    items = page.request.get(
        portal.url + "/ogc/collections/profils_terrain/items?f=json"
    ).json()
    assert [f["properties"]["nb_menages"] for f in items["features"]] == [12]
    # the enumerator sees the decision on what they sent
    page.context.clear_cookies()
    sign_in(page, portal, "enqueteur", NGO_PASSWORD)
    page.goto(portal.url + "/console/formulaires")
    expect(page.locator("#my-submissions")).to_contain_text("Validée")

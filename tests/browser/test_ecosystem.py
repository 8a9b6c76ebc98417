"""The ecosystem, the data charter and access requests in a real browser, on
the demo city: organisations by actor kind and the graph; a partner asks for
the NGO's restricted zones, the NGO's steward approves, and the partner then
reads them (OGC API items)."""

from __future__ import annotations

from browserutil import NGO_PASSWORD, sign_in
from playwright.sync_api import expect

from quartier.access import LOCAL
from quartier.domain.actors import ActorKind, Organisation
from quartier.domain.ecosystem import Capacity, CapacityKind
from quartier.services import accounts, capacities
from quartier.storage import open_store

PARTNER_PASSWORD = "chercheuse-motdepasse-1"


def _partner(db: str) -> None:
    with open_store(db, create=False) as store:
        names = {o.slug for o in store.list_organisations()}
        if "labo_geo" in names:
            return
        store.add_organisation(
            Organisation("labo_geo", "Laboratoire de géographie", ActorKind.UNIVERSITY)
        )
        accounts.create_user(
            store, "chercheuse", password=PARTNER_PASSWORD, actor=LOCAL
        )
        accounts.grant_role(store, "chercheuse", "labo_geo", "viewer", actor=LOCAL)
        for c in (
            Capacity(0, "labo_geo", CapacityKind.CAPACITY, label="Levés par drone"),
            Capacity(0, "labo_geo", CapacityKind.COULD_PRODUCE, ref="imagerie"),
            Capacity(0, "ong_quartiers", CapacityKind.ON_REQUEST, ref="zones_ong"),
        ):
            capacities.declare(store, LOCAL, c)


def test_the_ecosystem_page_shows_organisations_by_kind_and_the_graph(
    page, portal, shot
) -> None:
    _partner(portal.db)
    page.goto(portal.url + "/ecosysteme")
    expect(page.get_by_role("heading", level=1)).to_have_text("Écosystème des données")
    university = page.locator('section[data-kind="university"]')
    expect(university.get_by_role("heading", level=2)).to_have_text("Universités")
    labo = university.locator('article[data-org="labo_geo"]')
    expect(labo).to_contain_text("Levés par drone")
    expect(labo).to_contain_text("Imagerie")
    ngo = page.locator('article[data-org="ong_quartiers"]')
    expect(ngo).to_contain_text("Zones sensibles de l'ONG")  # on request: title only
    graph = page.get_by_role("img", name="Graphe des organisations")
    expect(graph).to_be_visible()
    assert graph.locator("g.organisation").count() >= 2
    assert graph.locator('path[data-kind="holds"]').count() >= 1
    shot(page, "ecosystem", full_page=True)
    page.goto(portal.url + "/ecosysteme?lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Data ecosystem")


def test_a_partner_asks_the_steward_approves_the_partner_reads(
    browser, page, portal, shot
) -> None:
    _partner(portal.db)
    items = portal.url + "/ogc/collections/zones_ong/items"
    sign_in(page, portal, "chercheuse", PARTNER_PASSWORD)
    assert page.request.get(items).status == 404
    page.goto(portal.url + "/charte")
    expect(page.locator("#charter-principles")).to_contain_text("Ouvertes par défaut")
    offer = page.locator("#on-request li", has_text="Zones sensibles de l'ONG")
    offer.get_by_role("link", name="Demander l'accès").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Demander l'accès à des données"
    )
    page.get_by_label("Finalité").fill("Cartographie des risques pour une thèse")
    page.get_by_role("button", name="Envoyer la demande").click()
    mine = page.locator("#mine li").first
    expect(mine).to_contain_text("en attente")
    expect(mine).to_contain_text("Cartographie des risques")
    shot(page, "access-request-sent")
    assert page.request.get(items).status == 404

    steward_ctx = browser.new_context(locale="fr-FR")
    try:
        steward = steward_ctx.new_page()
        sign_in(steward, portal, "ong", NGO_PASSWORD)
        steward.goto(portal.url + "/demandes-acces")
        received = steward.locator("#received li").first
        expect(received).to_contain_text("Cartographie des risques")
        received.get_by_role("button", name="Accepter").click()
        expect(steward.locator("#received li").first).to_contain_text("acceptée")
        expect(steward.locator("#received li").first).to_contain_text("convention")
        shot(steward, "access-request-approved")
        # the steward declares a capacity of the NGO from the ecosystem page
        steward.goto(portal.url + "/ecosysteme")
        form = steward.locator("#declare-form")
        form.get_by_label("Type de déclaration").select_option("capacity")
        form.get_by_label("Libellé").fill("Enquêteurs de terrain")
        form.get_by_role("button", name="Déclarer").click()
        ngo = steward.locator('article[data-org="ong_quartiers"]')
        expect(ngo).to_contain_text("Enquêteurs de terrain")
    finally:
        steward_ctx.close()

    got = page.request.get(items)
    assert got.status == 200
    assert len(got.json()["features"]) == 3
    page.goto(portal.url + "/demandes-acces")
    expect(page.locator("#mine li").first).to_contain_text("acceptée")
    page.goto(portal.url + "/catalogue/zones_ong")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Zones sensibles de l'ONG"
    )


def test_ecosystem_fits_a_360px_phone(browser, portal) -> None:
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, locale="fr-FR")
    try:
        pg = ctx.new_page()
        for path in ("/ecosysteme", "/charte"):
            pg.goto(portal.url + path)
            overflow = pg.evaluate(
                "() => document.scrollingElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"
    finally:
        ctx.close()

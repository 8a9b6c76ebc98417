"""Web forms in a real Chromium against a live server: the example form
filled offline (two submissions, one with a photo, both placed on the map),
the page reloaded offline from the service worker, the outbox sent when the
network is back — exactly two pending submissions, with the resized photo,
even after a forced resend; then the form logic (relevant, constraint,
required, calculate, choice_filter, repeat) on a small form of our own, a
corpus form rendering without errors, and the English labels."""

from __future__ import annotations

import base64
import struct
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from browserutil import NGO_PASSWORD, Portal, sign_in
from playwright.sync_api import Error as BrowserError
from playwright.sync_api import expect

from quartier.access import LOCAL
from quartier.forms import EXAMPLE_FORM
from quartier.services import accounts
from quartier.services.forms import add_form
from quartier.storage import open_store

PASSWORD = NGO_PASSWORD  # enqueteur's, in conftest.py
CORPUS_FORM = (
    Path(__file__).resolve().parents[2]
    / "../shared/data/demo/forms/slum_assessment_survey.xlsx"
)
#: what a page may log while the network is cut on purpose
OFFLINE_NOISE = (
    "ERR_INTERNET_DISCONNECTED",
    "Failed to load resource",
    "Failed to fetch",
)


@pytest.fixture(scope="module")
def forms(portal: Portal, tmp_path_factory: pytest.TempPathFactory) -> Portal:
    folder = tmp_path_factory.mktemp("webforms")
    with open_store(portal.db, create=False) as store:
        # enqueteur (contributor of ong_quartiers) comes from conftest.py
        # the next person on the same phone
        accounts.create_user(store, "voisine", password=PASSWORD, actor=LOCAL)
        accounts.grant_role(
            store, "voisine", "ong_quartiers", "contributor", actor=LOCAL
        )
        add_form(store, EXAMPLE_FORM, organisation="ong_quartiers", actor=LOCAL)
        add_form(
            store,
            _logic_form(folder / "logique.xlsx"),
            organisation="ong_quartiers",
            actor=LOCAL,
        )
        add_form(store, CORPUS_FORM, organisation="ong_quartiers", actor=LOCAL)
        add_form(
            store,
            _count_form(folder / "pieces.xlsx"),
            organisation="ong_quartiers",
            actor=LOCAL,
        )
    return portal


@pytest.fixture
def tab(context) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A page failing its test on console errors, except network failures
    caused by cutting the network."""
    pg = context.new_page()
    problems: list[str] = []

    def note(msg) -> None:  # type: ignore[no-untyped-def]
        if msg.type == "error" and not any(n in msg.text for n in OFFLINE_NOISE):
            problems.append(f"console.error: {msg.text}")

    pg.on("console", note)
    pg.on("pageerror", lambda exc: problems.append(f"uncaught: {exc}"))
    yield pg
    assert not problems, "errors in the browser console:\n" + "\n".join(problems)


def _logic_form(path: Path) -> Path:
    book = openpyxl.Workbook()
    survey = book.active
    survey.title = "survey"
    for row in (
        (
            "type",
            "name",
            "label",
            "required",
            "relevant",
            "constraint",
            "constraint_message",
            "calculation",
            "choice_filter",
        ),
        (
            "integer",
            "age",
            "Âge",
            "yes",
            "",
            ". >= 0 and . < 120",
            "Âge impossible",
            "",
            "",
        ),
        ("text", "ecole", "École", "yes", "${age} < 18", "", "", "", ""),
        ("select_one commune", "commune", "Commune", "", "", "", "", "", ""),
        (
            "select_one quartier",
            "quartier",
            "Quartier",
            "",
            "",
            "",
            "",
            "",
            "commune=${commune}",
        ),
        ("begin_repeat", "enfants", "Enfants", "", "", "", "", "", ""),
        ("integer", "enfant_age", "Âge de l'enfant", "", "", "", "", "", ""),
        ("end_repeat", "", "", "", "", "", "", "", ""),
        ("geotrace", "chemin", "Chemin", "", "", "", "", "", ""),
        ("calculate", "total", "", "", "", "", "", "sum(${enfant_age})", ""),
        ("calculate", "nombre", "", "", "", "", "", "count(${enfants})", ""),
        (
            "note",
            "resume",
            "Total ${total} ans pour ${nombre} enfants",
            "",
            "",
            "",
            "",
            "",
            "",
        ),
    ):
        survey.append(row)
    choices = book.create_sheet("choices")
    choices.append(("list_name", "name", "label", "commune"))
    for row in (
        ("commune", "kisenso", "Kisenso", ""),
        ("commune", "limete", "Limete", ""),
        ("quartier", "mbuku", "Mbuku", "kisenso"),
        ("quartier", "amba", "Amba", "kisenso"),
        ("quartier", "mososo", "Mososo", "limete"),
    ):
        choices.append(row)
    settings = book.create_sheet("settings")
    settings.append(("form_id", "form_title", "version"))
    settings.append(("logique", "Logique", "1"))
    book.save(path)
    return path


def _count_form(path: Path) -> Path:
    book = openpyxl.Workbook()
    survey = book.active
    survey.title = "survey"
    for row in (
        ("type", "name", "label", "repeat_count"),
        ("integer", "nb", "Nombre de pièces", ""),
        ("begin_repeat", "piece", "Pièce", "${nb}"),
        ("text", "usage", "Usage", ""),
        ("end_repeat", "", "", ""),
    ):
        survey.append(row)
    settings = book.create_sheet("settings")
    settings.append(("form_id", "form_title", "version"))
    settings.append(("pieces", "Pièces", "1"))
    book.save(path)
    return path


def _jpeg(tab, path: Path) -> Path:  # type: ignore[no-untyped-def]
    """A 3000×2000 JPEG drawn by the browser (no imaging library needed)."""
    data = tab.evaluate(
        """() => { const c = document.createElement('canvas'); c.width = 3000;
        c.height = 2000; const g = c.getContext('2d'); g.fillStyle = '#2a7';
        g.fillRect(0, 0, 3000, 2000); g.fillStyle = '#fff';
        g.fillRect(500, 500, 900, 600); return c.toDataURL('image/jpeg', 0.9); }"""
    )
    path.write_bytes(base64.b64decode(data.split(",", 1)[1]))
    return path


def _jpeg_size(data: bytes) -> tuple[int, int]:
    i = 2
    while i < len(data):
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2 : i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            h, w = struct.unpack(">HH", data[i + 5 : i + 9])
            return w, h
        i += 2 + length
    raise AssertionError("no JPEG frame header")


def _tap_map(tab, field: str, x: int, y: int) -> None:  # type: ignore[no-untyped-def]
    box = tab.locator(f'[data-path="{field}"] .wf-map')
    expect(box).to_have_attribute("data-ready", "1", timeout=20000)
    box.locator("canvas").click(position={"x": x, "y": y})
    expect(tab.locator(f'[data-path="{field}"] .wf-geo-value')).not_to_be_empty()


def _fill_profile(tab, *, risk: str, households: str) -> None:  # type: ignore[no-untyped-def]
    tab.get_by_label("Quartier", exact=True).select_option("mbuku")
    tab.get_by_label("Mixte").check()
    tab.get_by_label("Nombre de ménages (estimation)").fill(households)
    tab.get_by_label(risk, exact=True).check()
    # no water point this time: remove the repeat's first item
    tab.locator('[data-repeat="/data/points_eau"]').get_by_role(
        "button", name="Retirer"
    ).click()


def _count(tab) -> int:  # type: ignore[no-untyped-def]
    return int(tab.locator("#wf-queue-count").get_attribute("data-count") or -1)


def test_fill_offline_then_sync_once(tab, context, forms, shot, tmp_path) -> None:
    url = f"{forms.url}/formulaires/profil_quartier"
    photo = _jpeg(tab, tmp_path / "rue.jpg")
    sign_in(tab, forms, "enqueteur", PASSWORD)
    tab.goto(f"{forms.url}/formulaires")
    expect(tab.locator('#wf-forms a[data-form="profil_quartier"]')).to_be_visible()
    tab.goto(url)
    tab.evaluate("navigator.serviceWorker.ready.then(() => true)")
    tab.reload()  # now under the service worker, which keeps this page
    expect(tab.locator("#webform")).to_have_attribute("data-ready", "1")
    expect(tab.locator("#wf-queue-count")).to_have_attribute("data-count", "0")

    context.set_offline(True)
    # 1: with a photo; risk "Faible" needs no details
    _fill_profile(tab, risk="Faible", households="120")
    _tap_map(tab, "/data/position", 120, 90)
    tab.get_by_label("Photo du quartier (rue, ravine, point d'eau…)").set_input_files(
        str(photo)
    )
    expect(tab.locator('[data-path="/data/photo"] .meta')).to_contain_text(
        "Photo prête"
    )
    tab.get_by_role("button", name="Enregistrer et envoyer").click()
    expect(tab.locator("#wf-status")).to_contain_text("enregistrée sur l'appareil")
    expect(tab.locator("#wf-queue-count")).to_have_attribute("data-count", "1")
    # 2: "Élevé" makes the details required
    _fill_profile(tab, risk="Élevé", households="45")
    _tap_map(tab, "/data/position", 200, 140)
    tab.get_by_role("button", name="Enregistrer et envoyer").click()
    details = tab.locator('[data-path="/data/risque_details"]')
    expect(details.locator(".wf-error")).to_have_text("Réponse obligatoire.")
    details.locator("input").fill("Ravine derrière l'école")
    tab.get_by_role("button", name="Enregistrer et envoyer").click()
    expect(tab.locator("#wf-queue-count")).to_have_attribute("data-count", "2")
    expect(tab.locator("#wf-queue-count")).to_have_text("2 envois en attente.")

    # offline reload: the service worker serves the page, the outbox is kept
    reloaded = tab.reload()
    assert reloaded is not None and reloaded.from_service_worker
    expect(tab.locator("#wf-queue-count")).to_have_attribute("data-count", "2")
    shot(tab, "webform-offline", full_page=True)
    saved = tab.evaluate(
        "quartierOutbox.all().then(a => { window.kept = a[0]; return a.map(i => i.id) })"
    )
    assert len(saved) == 2

    context.set_offline(False)
    tab.evaluate("window.dispatchEvent(new Event('online'))")
    expect(tab.locator("#wf-queue-count")).to_have_attribute(
        "data-count", "0", timeout=20000
    )
    # a forced resend, and an item replayed on purpose: nothing new
    tab.get_by_role("button", name="Envoyer maintenant").click()
    tab.evaluate("quartierOutbox.put(window.kept).then(() => quartierOutbox.sync())")
    expect(tab.locator("#wf-queue-count")).to_have_attribute("data-count", "0")

    with open_store(forms.db, create=False) as store:
        subs = store.list_submissions(form_id="profil_quartier", limit=None)
        assert sorted(s.instance_id for s in subs) == sorted(saved)
        assert {s.status.value for s in subs} == {"pending"}
        assert {s.submitter for s in subs} == {"enqueteur"}
        by_count = {("<nb_menages>120<" in s.xml): s for s in subs}
        first, second = by_count[True], by_count[False]
        for sub in subs:
            assert sub.xml.startswith(
                '<data id="profil_quartier" version="2026112601">'
            )
            assert f"<instanceID>{sub.instance_id}</instanceID>" in sub.xml
            assert "<quartier>mbuku</quartier>" in sub.xml
            assert "<points_eau>" not in sub.xml and "<nb_points_eau>0<" in sub.xml
            lat, lon, _, _ = sub.xml.split("<position>")[1].split("<")[0].split()
            assert -5 < float(lat) < -4 and 15 < float(lon) < 16
        assert "<risque_details/>" in first.xml
        assert "<risque_details>Ravine derrière l'école<" in second.xml
        assert second.attachments == ()
        (attachment,) = first.attachments
        assert f"<photo>{attachment.name}</photo>" in first.xml
        meta, data = store.get_attachment(first.instance_id, attachment.name)
        assert meta.content_type == "image/jpeg"
        # resized on the phone to the form's max-pixels (1280), proportions kept
        assert _jpeg_size(data) == (1280, 853)


def test_form_logic(tab, forms) -> None:
    sign_in(tab, forms, "enqueteur", PASSWORD)
    tab.goto(f"{forms.url}/formulaires/logique")
    school = tab.locator('[data-path="/data/ecole"]')
    age = tab.get_by_label("Âge", exact=True)
    age.fill("150")
    tab.get_by_role("button", name="Enregistrer et envoyer").click()
    expect(tab.locator('[data-path="/data/age"] .wf-error')).to_have_text(
        "Âge impossible"
    )
    expect(school).to_be_hidden()  # relevant: ${age} < 18
    age.fill("12")
    expect(school).to_be_visible()
    tab.get_by_role("button", name="Enregistrer et envoyer").click()
    expect(school.locator(".wf-error")).to_have_text("Réponse obligatoire.")
    age.fill("30")
    expect(school).to_be_hidden()
    # choice_filter: the quartiers of the chosen commune
    quartiers = tab.locator('[data-path="/data/quartier"] input[type=radio]')
    expect(quartiers).to_have_count(0)
    tab.get_by_label("Limete").check()
    expect(quartiers).to_have_count(1)
    tab.get_by_label("Kisenso").check()
    expect(quartiers).to_have_count(2)
    tab.get_by_label("Amba").check()
    # repeat + calculate (sum and count over the repeat) shown in a note
    add = tab.get_by_role("button", name="Ajouter : Enfants")
    add.click()
    items = tab.locator('[data-repeat="/data/enfants"] .wf-repeat-item')
    expect(items).to_have_count(2)
    items.nth(0).get_by_label("Âge de l'enfant").fill("4")
    items.nth(1).get_by_label("Âge de l'enfant").fill("7")
    expect(tab.locator('[data-path="/data/resume"]')).to_contain_text(
        "Total 11 ans pour 2 enfants"
    )
    items.nth(0).get_by_role("button", name="Retirer").click()
    expect(tab.locator('[data-path="/data/resume"]')).to_contain_text(
        "Total 7 ans pour 1 enfants"
    )
    # geotrace: two taps, two ";"-separated points
    _tap_map(tab, "/data/chemin", 100, 100)
    canvas = tab.locator('[data-path="/data/chemin"] canvas')
    canvas.click(position={"x": 160, "y": 120})
    trace = tab.locator('[data-path="/data/chemin"] .wf-geo-value')
    expect(trace).to_contain_text(";")
    tab.get_by_role("button", name="Enregistrer et envoyer").click()
    expect(tab.locator("#wf-queue-count")).to_have_attribute(
        "data-count", "0", timeout=20000
    )
    expect(tab.locator("#wf-net")).to_have_text(
        "Réponse envoyée : en attente de modération."
    )
    with open_store(forms.db, create=False) as store:
        (sub,) = store.list_submissions(form_id="logique", limit=None)
    points = sub.xml.split("<chemin>")[1].split("</chemin>")[0].split(";")
    assert len(points) == 2 and all(len(p.split()) == 4 for p in points)
    assert (
        "<age>30</age><ecole/><commune>kisenso</commune><quartier>amba</quartier>"
        in sub.xml
    )
    assert "<enfants><enfant_age>7</enfant_age></enfants><chemin>" in sub.xml
    assert "</chemin><total>7</total><nombre>1</nombre>" in sub.xml


def test_corpus_form_and_english_labels(tab, forms) -> None:
    sign_in(tab, forms, "enqueteur", PASSWORD)
    with open_store(forms.db, create=False) as store:
        corpus = [
            f
            for f in store.list_forms()
            if f.form_id not in ("logique", "profil_quartier")
        ]
    tab.goto(f"{forms.url}/formulaires/{corpus[0].form_id}")
    expect(tab.locator("#wf-body .wf-field").first).to_be_visible()
    tab.goto(f"{forms.url}/formulaires/profil_quartier?lang=en")
    expect(tab.get_by_text("Number of households (estimate)")).to_be_visible()
    expect(tab.get_by_text("Informal (unplanned)")).to_be_visible()


def test_session_expired_keeps_the_outbox(tab, context, forms) -> None:
    sign_in(tab, forms, "enqueteur", PASSWORD)
    tab.goto(f"{forms.url}/formulaires/logique")
    expect(tab.locator("#webform")).to_have_attribute("data-ready", "1")
    context.set_offline(True)
    tab.get_by_label("Âge", exact=True).fill("40")
    tab.get_by_role("button", name="Enregistrer et envoyer").click()
    expect(tab.locator("#wf-queue-count")).to_have_attribute("data-count", "1")
    context.clear_cookies()  # the session is gone while offline
    context.set_offline(False)
    tab.get_by_role("button", name="Envoyer maintenant").click()
    expect(tab.locator("#wf-queue-error")).to_contain_text("Votre session a expiré")
    expect(tab.locator("#wf-queue-count")).to_have_attribute("data-count", "1")
    sign_in(tab, forms, "enqueteur", PASSWORD)
    tab.goto(f"{forms.url}/formulaires")
    expect(tab.locator("#wf-queue-count")).to_have_attribute(
        "data-count", "0", timeout=20000
    )
    with open_store(forms.db, create=False) as store:
        subs = store.list_submissions(form_id="logique", limit=None)
    assert sum("<age>40</age>" in s.xml for s in subs) == 1


def test_make_every_form_available_offline(tab, context, forms) -> None:
    sign_in(tab, forms, "enqueteur", PASSWORD)
    tab.goto(f"{forms.url}/formulaires")
    tab.evaluate("navigator.serviceWorker.ready.then(() => true)")
    tab.get_by_role("button", name="Rendre disponibles hors ligne").click()
    expect(tab.locator("#wf-offline-status")).to_have_text(
        "Formulaires disponibles hors ligne."
    )
    context.set_offline(True)
    # a form never opened before opens without network
    opened = tab.goto(f"{forms.url}/formulaires/logique")
    assert opened is not None and opened.from_service_worker
    expect(tab.locator("#webform")).to_have_attribute("data-ready", "1")
    expect(tab.get_by_label("Âge", exact=True)).to_be_visible()
    context.set_offline(False)


def test_repeat_count(tab, forms) -> None:
    sign_in(tab, forms, "enqueteur", PASSWORD)
    tab.goto(f"{forms.url}/formulaires/pieces")
    items = tab.locator('[data-repeat="/data/piece"] .wf-repeat-item')
    expect(items).to_have_count(0)
    count = tab.get_by_label("Nombre de pièces")
    count.fill("3")
    count.press("Tab")
    expect(items).to_have_count(3)
    items.nth(2).get_by_label("Usage").fill("cuisine")
    count.fill("1")
    count.press("Tab")
    expect(items).to_have_count(1)


def test_draft_is_kept_on_the_device(tab, forms) -> None:
    sign_in(tab, forms, "enqueteur", PASSWORD)
    tab.goto(f"{forms.url}/formulaires/pieces")
    tab.get_by_label("Nombre de pièces").fill("2")
    tab.get_by_label("Nombre de pièces").press("Tab")
    tab.locator('[data-repeat="/data/piece"]').get_by_label("Usage").first.fill("salon")
    tab.wait_for_timeout(800)  # drafts are saved 0.4 s after the last change
    tab.reload()
    expect(tab.locator("#webform")).to_have_attribute("data-ready", "1")
    expect(tab.locator("#wf-draft")).to_be_visible()
    expect(tab.get_by_label("Nombre de pièces")).to_have_value("2")
    usage = tab.locator('[data-repeat="/data/piece"]').get_by_label("Usage")
    expect(usage.first).to_have_value("salon")
    tab.get_by_role("button", name="Recommencer").click()
    expect(tab.get_by_label("Nombre de pièces")).to_have_value("")
    expect(tab.locator("#wf-draft")).to_be_hidden()
    tab.reload()
    expect(tab.locator("#webform")).to_have_attribute("data-ready", "1")
    expect(tab.locator("#wf-draft")).to_be_hidden()


def _kept_offline(tab, forms) -> None:  # type: ignore[no-untyped-def]
    """Opens the logic form under the service worker (so it is kept)."""
    tab.goto(f"{forms.url}/formulaires/logique")
    tab.evaluate("navigator.serviceWorker.ready.then(() => true)")
    tab.reload()
    expect(tab.locator("#webform")).to_have_attribute("data-ready", "1")


def _offline_page(tab, context, url: str) -> str:  # type: ignore[no-untyped-def]
    """What the browser shows at ``url`` without network ("" if nothing)."""
    context.set_offline(True)
    try:
        tab.goto(url)
        return str(tab.content())
    except BrowserError:
        return ""
    finally:
        context.set_offline(False)


def test_sign_out_leaves_nothing_for_the_next_person(tab, context, forms) -> None:
    sign_in(tab, forms, "enqueteur", PASSWORD)
    _kept_offline(tab, forms)
    tab.get_by_role("button", name="Se déconnecter").click()
    tab.wait_for_url(f"{forms.url}/")
    assert tab.evaluate("caches.keys()") == []
    sign_in(tab, forms, "voisine", PASSWORD)
    shown = _offline_page(tab, context, f"{forms.url}/formulaires/logique")
    assert "enqueteur" not in shown and "Logique" not in shown


def test_kept_page_not_served_once_nobody_is_signed_in(tab, context, forms) -> None:
    sign_in(tab, forms, "enqueteur", PASSWORD)
    _kept_offline(tab, forms)
    context.clear_cookies()  # the session ended (expired, cookies cleared…)
    tab.goto(f"{forms.url}/formulaires/logique")
    expect(tab.get_by_label("Identifiant")).to_be_visible()  # the server said so
    shown = _offline_page(tab, context, f"{forms.url}/formulaires/logique")
    assert "enqueteur" not in shown and "Logique" not in shown


def test_answers_go_under_the_signed_in_person(tab, context, forms) -> None:
    sign_in(tab, forms, "enqueteur", PASSWORD)
    tab.goto(f"{forms.url}/formulaires/logique")
    expect(tab.locator("#webform")).to_have_attribute("data-ready", "1")
    # in another tab, enqueteur signs out: this page still shows their name
    other = context.new_page()
    other.goto(f"{forms.url}/")
    other.get_by_role("button", name="Se déconnecter").click()
    other.wait_for_url(f"{forms.url}/")
    # offline, nobody is known to be signed in: nothing is queued
    context.set_offline(True)
    tab.get_by_label("Âge", exact=True).fill("51")
    tab.get_by_role("button", name="Enregistrer et envoyer").click()
    expect(tab.locator("#wf-status")).to_contain_text(
        "Impossible de vérifier qui est connecté"
    )
    assert tab.evaluate("quartierOutbox.all().then(a => a.length)") == 0
    context.set_offline(False)
    # voisine signs in; on the old page, her answer is hers and leaves
    sign_in(other, forms, "voisine", PASSWORD)
    tab.get_by_label("Âge", exact=True).fill("52")
    tab.get_by_role("button", name="Enregistrer et envoyer").click()
    expect(tab.locator("#wf-net")).to_have_text(
        "Réponse envoyée : en attente de modération.", timeout=20000
    )
    with open_store(forms.db, create=False) as store:
        subs = store.list_submissions(form_id="logique", limit=None)
    assert not any("<age>51</age>" in s.xml for s in subs)
    assert [s.submitter for s in subs if "<age>52</age>" in s.xml] == ["voisine"]


def test_double_tap_queues_one_answer(tab, context, forms) -> None:
    sign_in(tab, forms, "enqueteur", PASSWORD)
    tab.goto(f"{forms.url}/formulaires/logique")
    expect(tab.locator("#webform")).to_have_attribute("data-ready", "1")
    context.set_offline(True)
    tab.get_by_label("Âge", exact=True).fill("33")
    tab.evaluate(
        "() => { const b = document.getElementById('wf-submit'); b.click(); b.click(); }"
    )
    expect(tab.locator("#wf-status")).to_contain_text("enregistrée sur l'appareil")
    tab.wait_for_timeout(500)
    assert tab.evaluate("quartierOutbox.all().then(a => a.length)") == 1
    expect(tab.locator("#wf-submit")).to_be_enabled()
    context.set_offline(False)
    tab.evaluate("quartierOutbox.sync()")
    expect(tab.locator("#wf-queue-count")).to_have_attribute(
        "data-count", "0", timeout=20000
    )
    with open_store(forms.db, create=False) as store:
        subs = store.list_submissions(form_id="logique", limit=None)
    assert sum("<age>33</age>" in s.xml for s in subs) == 1


def test_refused_answers_are_parked(tab, forms) -> None:
    sign_in(tab, forms, "enqueteur", PASSWORD)
    tab.goto(f"{forms.url}/formulaires/logique")
    expect(tab.locator("#webform")).to_have_attribute("data-ready", "1")
    posts: list[str] = []
    tab.on(
        "request",
        lambda r: posts.append(r.url) if r.method == "POST" else None,
    )
    # bad XML (400), an unknown form (404), someone else's item and one
    # without a user: only the first two are sent, and both are parked
    tab.evaluate(
        """async () => {
        const item = (id, form, user, xml) => ({ id, form, user, xml, files: [],
          created: '2026-11-26T09:00', error: '' });
        await quartierOutbox.put(item('uuid:casse', 'logique', 'enqueteur', '<data'));
        await quartierOutbox.put(item('uuid:inconnu', 'inconnu', 'enqueteur',
          '<data id="inconnu"><meta><instanceID>uuid:inconnu</instanceID></meta></data>'));
        await quartierOutbox.put(item('uuid:autre', 'logique', 'voisine', '<data'));
        await quartierOutbox.put(item('uuid:orphelin', 'logique', undefined, '<data'));
        await quartierOutbox.sync(); }"""
    )
    parked = tab.locator("#wf-parked li")
    expect(parked).to_have_count(2)
    expect(parked.first).to_contain_text("refusée par le serveur")
    expect(tab.locator("#wf-parked")).to_contain_text("404")
    expect(tab.locator("#wf-parked")).to_contain_text("400")
    # only this person's items are counted, and the parked ones are not waiting
    expect(tab.locator("#wf-queue-count")).to_have_attribute("data-count", "0")
    assert sorted(p.rsplit("/", 2)[-2] for p in posts) == ["inconnu", "logique"]
    orphan = tab.evaluate(
        "quartierOutbox.all().then(a => a.find(i => i.id === 'uuid:orphelin'))"
    )
    assert orphan["parked"] is True
    # no resend by itself
    tab.evaluate("quartierOutbox.sync()")
    tab.get_by_role("button", name="Envoyer maintenant").click()
    tab.wait_for_timeout(500)
    assert len(posts) == 2
    # the person decides: retry (refused again), then delete
    casse = tab.locator('#wf-parked li[data-id="uuid:casse"]')
    with tab.expect_response(lambda r: r.request.method == "POST") as answer:
        casse.get_by_role("button", name="Réessayer").click()
    assert answer.value.status == 400
    expect(casse).to_contain_text("400")
    assert len(posts) == 3
    casse.get_by_role("button", name="Supprimer").click()
    expect(parked).to_have_count(1)
    ids = tab.evaluate("quartierOutbox.all().then(a => a.map(i => i.id).sort())")
    assert ids == ["uuid:autre", "uuid:inconnu", "uuid:orphelin"]
    tab.evaluate(
        "quartierOutbox.all().then(a => Promise.all(a.map(i => quartierOutbox.remove(i.id))))"
    )
    # 409: an instanceID already received with other content
    tab.get_by_label("Âge", exact=True).fill("61")
    tab.get_by_role("button", name="Enregistrer et envoyer").click()
    expect(tab.locator("#wf-net")).to_have_text(
        "Réponse envoyée : en attente de modération.", timeout=20000
    )
    with open_store(forms.db, create=False) as store:
        (sent,) = [
            s
            for s in store.list_submissions(form_id="logique", limit=None)
            if "<age>61</age>" in s.xml
        ]
    tab.evaluate(
        """([id, xml]) => quartierOutbox.put({ id, form: 'logique', user: 'enqueteur',
          xml, files: [], created: '2026-11-26T09:30', error: '' })
          .then(() => quartierOutbox.sync())""",
        [sent.instance_id, sent.xml.replace("<age>61</age>", "<age>62</age>")],
    )
    expect(tab.locator(f'#wf-parked li[data-id="{sent.instance_id}"]')).to_contain_text(
        "409"
    )
    expect(tab.locator("#wf-queue-count")).to_have_attribute("data-count", "0")


def test_sign_out_asks_first_when_answers_wait(tab, forms) -> None:
    sign_in(tab, forms, "enqueteur", PASSWORD)
    tab.goto(f"{forms.url}/formulaires")
    # the outbox has started (it shows its count)
    expect(tab.locator("#wf-queue-count")).to_have_attribute("data-count", "0")
    tab.evaluate(
        """quartierOutbox.put({ id: 'uuid:attente', form: 'logique', user: 'enqueteur',
          xml: '<data', files: [], created: '2026-11-26T09:00', error: '400',
          parked: true }).then(() => quartierOutbox.show())"""
    )
    expect(tab.locator("#wf-parked li")).to_have_count(1)
    asked: list[str] = []

    def answer(dialog, accept: bool) -> None:  # type: ignore[no-untyped-def]
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    tab.once("dialog", lambda d: answer(d, False))
    tab.get_by_role("button", name="Se déconnecter").click()
    expect(tab.locator(".who")).to_have_text("enqueteur")  # still signed in
    assert asked and "pas encore envoyées" in asked[0]
    tab.once("dialog", lambda d: answer(d, True))
    tab.get_by_role("button", name="Se déconnecter").click()
    tab.wait_for_url(f"{forms.url}/")
    assert len(asked) == 2
    assert tab.evaluate("indexedDB.databases().then(d => d.length)") == 0

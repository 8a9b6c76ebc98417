"""``/api/evaluation``, ``/api/calls``, the portal's ``/evaluation``,
``/contribuer`` and ``/diagnostic/rapport`` on both stores: figures as the
caller may see them, and nothing of a restricted dataset or a person for
those who may not (no-leak style: the same request as a visitor, a partner
of another organisation, and the holder's staff)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from webutil import make_client

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "services"))
from test_diagnostic_service import town  # noqa: E402, F401
from test_evaluation_service import programme  # noqa: E402, F401

from quartier.access import LOCAL  # noqa: E402
from quartier.services import accounts  # noqa: E402

SECRET = ("zones_crue_secretes", "Zones de crue secrètes")
PERSONAL = ("alice", "vera", "carla", "Awa", "awa@example.org")


@pytest.fixture
def site(programme):  # noqa: F811
    accounts.create_user(programme, "chef", password="un-mot-de-passe", actor=LOCAL)
    accounts.grant_role(programme, "chef", "ville", "steward", actor=LOCAL)
    headers = {None: {}}
    for name in ("chef", "alice"):
        secret = accounts.issue_token(programme, name, actor=LOCAL).secret
        headers[name] = {"Authorization": f"Bearer {secret}"}
    with make_client(programme) as client:
        yield client, headers


def test_evaluation_counts_by_caller(site) -> None:
    client, headers = site
    seen = {}
    for who in (None, "alice", "chef"):
        r = client.get("/api/evaluation", headers=headers[who])
        assert r.status_code == 200, r.text
        seen[who] = r.json()
        for personal in PERSONAL:
            assert personal not in r.text
    kinds = {w: e["contributions"]["by_kind"] for w, e in seen.items()}
    # the submission to the restricted roads counts for the town's staff only
    assert kinds[None]["university"]["submissions_pending"] == 0
    assert kinds["alice"]["university"]["submissions_pending"] == 0
    assert kinds["chef"]["university"]["submissions_pending"] == 1
    assert kinds[None]["local_authority"]["features_edited"] == 9
    assert kinds["chef"]["local_authority"]["features_edited"] == 12
    assert seen[None]["campaigns"][0]["mapped"] == 1
    assert seen[None]["series"]["points"] == []
    assert client.get("/api/evaluation?lang=de").status_code == 400


def test_calls_never_name_what_the_caller_may_not_see(site) -> None:
    client, headers = site
    visitor = client.get("/api/calls?lang=en").json()
    calls = {c["key"]: c for c in visitor["calls"]}
    assert (
        calls["batiments"]["forms"] == [] and calls["batiments"]["forms_need_sign_in"]
    )
    assert calls["batiments"]["title"] == "Buildings"
    assert calls["alea_inondation"]["contact_admins"]
    for text in (str(visitor), client.get("/contribuer").text):
        for hidden in (*SECRET, "Formulaire releve"):
            assert hidden not in text
    alice = client.get("/api/calls", headers=headers["alice"]).json()
    mine = {c["key"]: c for c in alice["calls"]}
    assert [f["id"] for f in mine["batiments"]["forms"]] == ["releve"]
    chef = client.get("/api/calls", headers=headers["chef"]).json()
    flood = {c["key"]: c for c in chef["calls"]}["alea_inondation"]
    assert flood["contacts"] == ["Ville"] and flood["level"] >= 1


def test_portal_pages(site) -> None:
    client, headers = site
    page = client.get("/evaluation")
    assert page.status_code == 200
    assert "Aucun diagnostic enregistré" in page.text
    assert 'data-campaign="cartes"' in page.text
    english = client.get("/evaluation?lang=en")
    assert "Evaluation" in english.text
    calls = client.get("/contribuer")
    assert 'data-call="batiments"' in calls.text and "/signalements" in calls.text
    assert "/connexion?suite=/contribuer" in calls.text
    mine = client.get("/contribuer", headers=headers["alice"])
    assert 'href="/formulaires/releve"' in mine.text


def test_the_diagnostic_report_of_a_visitor_and_of_the_staff(site) -> None:
    client, headers = site
    visitor = client.get("/diagnostic/rapport")
    assert visitor.status_code == 200
    assert visitor.text.startswith("<!doctype html>")
    assert "Rapport de diagnostic des données" in visitor.text
    assert "<svg" in visitor.text and "Maturity" not in visitor.text
    for hidden in SECRET:
        assert hidden not in visitor.text
    staff = client.get("/diagnostic/rapport?lang=en", headers=headers["chef"])
    assert "Zones de crue secrètes" in staff.text
    assert "Data diagnostic report" in staff.text
    assert client.get("/diagnostic/rapport?format=doc").status_code in (400, 422)


def test_the_diagnostic_report_as_pdf(site) -> None:
    client, _ = site
    pdf = client.get("/diagnostic/rapport?format=pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    # the same page again is the same PDF, not printed a second time
    from quartier.web.portal import diagnostic_report

    assert client.get("/diagnostic/rapport?format=pdf").content == pdf.content
    # busy printers answer at once, they do not hold a server worker
    held = [diagnostic_report._PRINTERS.acquire(blocking=False) for _ in range(2)]
    try:
        assert all(held)
        diagnostic_report._PRINTED.clear()
        busy = client.get("/diagnostic/rapport?format=pdf")
        assert busy.status_code == 429 and busy.headers["retry-after"] == "30"
    finally:
        for _ in held:
            diagnostic_report._PRINTERS.release()

"""``/ecosysteme``, ``/charte`` and ``/demandes-acces`` through the portal's
own forms (session cookie + CSRF token), on both stores."""

from __future__ import annotations

import re

from apiutil import sign_in_form
from test_api_access_requests import offer, parties  # noqa: F401
from webutil import make_client

from quartier.services import accounts


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def test_public_pages_in_both_languages(parties) -> None:  # noqa: F811
    client, store, h = parties
    offer(client, h)
    eco = client.get("/ecosysteme")
    assert eco.status_code == 200 and "<svg" in eco.text
    assert 'data-kind="university"' in eco.text and "Titre zones" in eco.text
    assert "Data ecosystem" in client.get("/ecosysteme?lang=en").text
    charter = client.get("/charte?lang=fr")
    assert "Ouvertes par défaut" in charter.text and "Titre zones" in charter.text
    assert "Open by default" in client.get("/charte?lang=en").text
    # requests are for signed-in members only
    r = client.get("/demandes-acces", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/connexion")


def test_ask_and_decide_with_the_portal_forms(store, parties) -> None:  # noqa: F811
    client, _, h = parties
    offer(client, h)
    for name in ("chercheur", "cheffe"):
        accounts.set_password(store, name, "un-mot-de-passe-12")
    with make_client(store) as partner, make_client(store) as steward:
        sign_in_form(partner, "chercheur", "un-mot-de-passe-12")
        form = partner.get("/demandes-acces/nouvelle?dataset=zones")
        assert 'value="zones" selected' in form.text
        data = {"dataset": "zones", "purpose": "Plan de secours"}
        # a cookie without the CSRF token changes nothing
        refused = partner.post("/demandes-acces/nouvelle", data=data)
        assert refused.status_code == 403
        assert store.list_access_requests() == []
        bad = partner.post(
            "/demandes-acces/nouvelle",
            data={**data, "purpose": " ", "csrf_token": _csrf(form.text)},
        )
        assert bad.status_code == 400 and "purpose" in bad.text
        sent = partner.post(
            "/demandes-acces/nouvelle",
            data={**data, "csrf_token": _csrf(form.text)},
            follow_redirects=False,
        )
        assert sent.status_code == 303
        (r,) = store.list_access_requests()
        sign_in_form(steward, "cheffe", "un-mot-de-passe-12")
        page = steward.get("/demandes-acces")
        assert "Plan de secours" in page.text
        no_reason = steward.post(
            f"/demandes-acces/{r.id}/decision",
            data={"decision": "refuse", "reason": "", "csrf_token": _csrf(page.text)},
        )
        assert no_reason.status_code == 400
        odd = steward.post(
            f"/demandes-acces/{r.id}/decision",
            data={
                "decision": "peut-être",
                "reason": "x",
                "csrf_token": _csrf(page.text),
            },
        )
        assert odd.status_code == 400 and "pas été faite" in odd.text
        assert store.get_access_request(r.id).status.value == "pending"
        done = steward.post(
            f"/demandes-acces/{r.id}/decision",
            data={"decision": "approve", "csrf_token": _csrf(page.text)},
        )
        assert done.status_code == 200 and "acceptée" in done.text
        twice = steward.post(
            f"/demandes-acces/{r.id}/decision",
            data={"decision": "approve", "csrf_token": _csrf(page.text)},
        )
        assert twice.status_code == 409 and "already approved" in twice.text
        huge = steward.post(
            "/demandes-acces/99999999999/decision",
            data={"decision": "approve", "csrf_token": _csrf(page.text)},
        )
        assert huge.status_code == 400
        assert partner.get("/catalogue/zones").status_code == 200


def test_managers_declare_from_the_ecosystem_page(store, parties) -> None:  # noqa: F811
    client, _, h = parties
    accounts.set_password(store, "cheffe", "un-mot-de-passe-12")
    accounts.set_password(store, "chercheur", "un-mot-de-passe-12")
    with make_client(store) as steward, make_client(store) as viewer:
        sign_in_form(viewer, "chercheur", "un-mot-de-passe-12")
        assert 'id="declare-form"' not in viewer.get("/ecosysteme").text
        sign_in_form(steward, "cheffe", "un-mot-de-passe-12")
        page = steward.get("/ecosysteme").text
        assert 'id="declare-form"' in page and 'value="zones"' in page
        token = _csrf(page)
        bad = steward.post(
            "/ecosysteme/declarations",
            data={"organisation": "ville", "kind": "produces", "ref": "inconnu",
                  "csrf_token": token},
        )  # fmt: skip
        assert bad.status_code == 400 and "ref" in bad.text
        other = steward.post(
            "/ecosysteme/declarations",
            data={"organisation": "unikin", "kind": "capacity", "label": "x",
                  "csrf_token": token},
        )  # fmt: skip
        assert other.status_code == 403  # not a manager there
        done = steward.post(
            "/ecosysteme/declarations",
            data={"organisation": "ville", "kind": "on_request", "ref": "zones",
                  "csrf_token": token},
            follow_redirects=False,
        )  # fmt: skip
        assert done.status_code == 303
    assert [c.ref for c in store.list_capacities()] == ["zones"]

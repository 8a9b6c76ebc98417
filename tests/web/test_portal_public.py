"""Public pages without a browser: errors are pages, text is escaped, sign-in
is guarded (its own CSRF token, password guessing slowed), on both stores."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from apiutil import PASSWORD, city, sign_in_form
from fastapi.testclient import TestClient
from webutil import make_client

from quartier.domain import Dataset
from quartier.storage.base import SqlStore

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def town(store: SqlStore) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    headers = city(store)
    with make_client(store) as c:
        yield c, headers


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/catalogue/inconnu", 404),
        ("/catalogue?p=0", 400),
        ("/catalogue?p=abc", 400),
        ("/catalogue?q=" + "x" * 300, 400),
    ],
)
def test_errors_are_pages_in_the_visitors_language(town, path: str, status: int):
    client, _ = town
    r = client.get(path)
    assert r.status_code == status
    assert r.headers["content-type"].startswith("text/html")
    assert '<html lang="fr">' in r.text and "notice error" in r.text
    english = client.get(path + ("&" if "?" in path else "?") + "lang=en")
    assert english.status_code == status and '<html lang="en">' in english.text
    assert ("Page not found" if status == 404 else "Invalid request") in english.text


def test_unknown_filters_are_ignored_and_pages_past_the_end_are_empty(town):
    client, _ = town
    r = client.get("/catalogue?access=bogus&kind=nope&freshness=never&p=50")
    assert r.status_code == 200
    assert "Aucun jeu de données ne correspond" in r.text


def test_titles_and_names_are_escaped(town, store: SqlStore):
    client, _ = town
    store.create_dataset(Dataset(slug="piege", title=EVIL, theme=EVIL, licence=EVIL))
    for path in ("/", "/catalogue", "/catalogue/piege", "/charte"):
        text = client.get(path).text
        assert "<script>alert" not in text and "<img src=x" not in text, path
        assert "&lt;script&gt;" in text, path


def test_sign_in_form_needs_its_own_token(town):
    client, _ = town
    r = client.post(
        "/connexion",
        data={"username": "gardienne", "password": PASSWORD},
        follow_redirects=False,
    )
    assert r.status_code == 200 and "quartier_session" not in r.headers.get(
        "set-cookie", ""
    )
    assert "Le formulaire a expiré" in r.text
    assert sign_in_form(client, "gardienne", PASSWORD).status_code == 303


def test_password_guessing_is_slowed_and_audited(town, store: SqlStore):
    client, _ = town
    for _ in range(5):
        assert sign_in_form(client, "gardienne", "mauvais-mot").status_code == 401
    # even the right password is refused for a while, from this address
    blocked = sign_in_form(client, "gardienne", PASSWORD)
    assert blocked.status_code == 429 and "15 minutes" in blocked.text
    api = client.post("/api/session", json={"username": "gardienne", "password": "x"})
    assert api.status_code == 429
    # another account is not locked by these failures
    assert sign_in_form(client, "cheffe", PASSWORD).status_code == 303
    failed = [a for a in store.list_audit(limit=None) if a["action"] == "login.failed"]
    assert len(failed) == 5 and failed[0]["target"] == "gardienne"


def test_sign_out_with_a_stale_form_changes_nothing(town):
    client, _ = town
    assert sign_in_form(client, "gardienne", PASSWORD).status_code == 303
    r = client.post(
        "/deconnexion", data={"csrf_token": "vieux"}, follow_redirects=False
    )
    assert r.status_code == 303
    assert client.get("/api/me").json()["username"] == "gardienne"
    page = client.get("/console").text
    csrf = page.split('name="quartier-csrf" content="')[1].split('"')[0]
    client.post("/deconnexion", data={"csrf_token": csrf}, follow_redirects=False)
    assert client.get("/api/me").json()["username"] is None


def test_organisation_websites_must_be_web_addresses(town):
    client, headers = town
    body = {"slug": "x", "name": "X", "kind": "ngo", "website": "javascript:alert(1)"}
    r = client.post("/api/organisations", json=body, headers=headers["admin"])
    assert r.status_code == 400
    body["website"] = "https://example.org"
    assert (
        client.post("/api/organisations", json=body, headers=headers["admin"])
    ).status_code == 201

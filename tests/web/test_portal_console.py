"""The staff console's pages: who may open which, on both stores.

Anonymous visitors are sent to the sign-in page (and back); signed-in users
without the right role get a 403 page; datasets they may not see, like
unknown ones, a 404 page — HTML in every case, never a JSON error body.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from apiutil import PASSWORD, city, sign_in_form
from fastapi.testclient import TestClient
from webutil import make_client

from quartier.storage.base import SqlStore

PAGES = [
    "/console",
    "/console/import",
    "/console/jeux/marches",
    "/console/organisations",
    "/console/utilisateurs",
    "/console/jetons",
    "/console/journal",
    "/console/reference",
]
#: page → users who may open it (others signed in: 403)
ALLOWED = {
    "/console": {"admin", "gardienne", "cheffe", "lecteur", "agent", "benevole"},
    "/console/import": {"admin", "gardienne", "cheffe", "agent"},
    "/console/jeux/marches": {"admin", "gardienne", "cheffe", "agent"},
    "/console/organisations": {"admin", "gardienne", "cheffe", "agent"},
    "/console/utilisateurs": {"admin", "cheffe"},
    "/console/jetons": {"admin", "gardienne", "cheffe", "lecteur", "agent", "benevole"},
    "/console/journal": {"admin", "gardienne", "cheffe", "agent"},
    "/console/reference": {"admin"},
}
USERS = ["admin", "gardienne", "cheffe", "lecteur", "agent", "benevole"]


@pytest.fixture
def town(store: SqlStore) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    headers = city(store)
    with make_client(store) as c:
        yield c, headers


@pytest.mark.parametrize("path", [*PAGES, "/console/journal?action=user&p=2"])
def test_anonymous_visitors_are_sent_to_sign_in(town, path: str) -> None:
    client, _ = town
    r = client.get(path, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/connexion?suite=")
    # the sign-in page sends them back where they were going
    back = client.get(r.headers["location"])
    assert f'name="suite" value="{path}"' in back.text.replace("&amp;", "&")


def test_each_page_for_each_role(town) -> None:
    client, headers = town
    for path in PAGES:
        for user in USERS:
            r = client.get(path, headers=headers[user], follow_redirects=False)
            expected = 200 if user in ALLOWED[path] else 403
            assert r.status_code == expected, (path, user, r.status_code)
            assert r.headers["content-type"].startswith("text/html")
            assert "script-src 'self'" in r.headers["content-security-policy"]
            if expected == 403:
                assert "Accès refusé" in r.text and "Traceback" not in r.text


def test_hidden_and_unknown_datasets_are_404_pages(town) -> None:
    client, headers = town
    # lecteur may read the public "marches" (403: no right to change it) but
    # not the restricted "dossiers", which must look like an unknown dataset
    hidden = client.get("/console/jeux/dossiers", headers=headers["lecteur"])
    unknown = client.get("/console/jeux/inconnu", headers=headers["lecteur"])
    assert hidden.status_code == unknown.status_code == 404
    assert "Page introuvable" in hidden.text
    # the same page, but for the address the language switch points to
    assert hidden.text.replace("dossiers", "inconnu") == unknown.text
    assert (
        client.get("/console/jeux/inconnu", headers=headers["admin"]).status_code == 404
    )
    assert (
        client.get("/console/jeux/marches", headers=headers["lecteur"]).status_code
        == 403
    )


def test_the_console_shows_only_what_the_caller_may_use(town) -> None:
    client, headers = town
    upload = client.get("/console/import", headers=headers["gardienne"]).text
    assert '<option value="ong">' in upload and '<option value="ville">' not in upload
    admin_upload = client.get("/console/import", headers=headers["admin"]).text
    assert '<option value="ville">' in admin_upload
    # an organisation's admin sees its members only, and may not create accounts
    members = client.get("/console/utilisateurs", headers=headers["cheffe"]).text
    assert 'data-user="gardienne"' in members and 'data-user="lecteur"' not in members
    assert 'id="user-form"' not in members and 'id="grant-form"' in members
    everyone = client.get("/console/utilisateurs", headers=headers["admin"]).text
    assert 'data-user="lecteur"' in everyone and 'id="user-form"' in everyone
    orgs = client.get("/console/organisations", headers=headers["gardienne"]).text
    assert 'id="org-form"' not in orgs
    assert (
        'id="org-form"'
        in client.get("/console/organisations", headers=headers["admin"]).text
    )
    dash = client.get("/console", headers=headers["lecteur"]).text
    assert 'href="/console/import"' not in dash and 'href="/console/jetons"' in dash


def test_dataset_page_lists_versions_with_restore(town, store: SqlStore) -> None:
    client, headers = town
    from apiutil import write

    write(store, "marches", 3, "V2")
    text = client.get("/console/jeux/marches", headers=headers["gardienne"]).text
    assert text.count("data-version=") == 2
    assert "/api/datasets/marches/versions/1/restore" in text
    assert "/api/datasets/marches/versions/2/restore" not in text  # current


def test_journal_is_scoped_and_filtered(town) -> None:
    client, headers = town
    patch = client.patch(
        "/api/datasets/marches",
        json={"licence": "CC-BY-4.0"},
        headers=headers["gardienne"],
    )
    assert patch.status_code == 200
    admin = client.get("/console/journal", headers=headers["admin"]).text
    assert 'data-target="lecteur"' in admin  # user.add, user.grant…
    mine = client.get("/console/journal", headers=headers["gardienne"]).text
    assert 'data-action="dataset.update" data-target="marches"' in mine
    assert 'data-target="lecteur"' not in mine
    only = client.get(
        "/console/journal?action=user&acteur=local", headers=headers["admin"]
    ).text
    assert (
        'data-action="user.add"' in only and 'data-action="dataset.update"' not in only
    )


def test_session_sign_in_then_console_writes_with_the_csrf_token(town) -> None:
    client, _ = town
    signed = sign_in_form(client, "gardienne", PASSWORD, "/console/jetons")
    assert signed.status_code == 303 and signed.headers["location"] == "/console/jetons"
    page = client.get("/console/jetons").text
    csrf = page.split('name="quartier-csrf" content="')[1].split('"')[0]
    assert len(csrf) > 20
    refused = client.post("/api/tokens", json={"name": "x"})
    assert refused.status_code == 403
    issued = client.post(
        "/api/tokens", json={"name": "x"}, headers={"X-CSRF-Token": csrf}
    )
    assert issued.status_code == 201


def test_english_console(town) -> None:
    client, headers = town
    r = client.get("/console?lang=en", headers=headers["admin"])
    assert r.headers["content-language"] == "en"
    assert '<html lang="en">' in r.text

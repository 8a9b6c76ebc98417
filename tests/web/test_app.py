"""The application shell: errors, sessions, tokens, CSRF — on both stores."""

from __future__ import annotations

from quartier.access import LOCAL
from quartier.domain import ActorKind, Organisation
from quartier.services import accounts


def _user(store, name="awa", role="steward"):
    store.add_organisation(Organisation("ong", "ONG", ActorKind.NGO))
    accounts.create_user(store, name, password="un-mot-de-passe", actor=LOCAL)
    accounts.grant_role(store, name, "ong", role, actor=LOCAL)


def test_unknown_path_is_a_json_404(client):
    r = client.get("/nope")
    assert r.status_code == 404
    assert r.json() == {"code": "NotFound", "description": "Not Found"}


def test_token_identifies_the_caller_and_revocation_is_immediate(client, store):
    _user(store)
    issued = accounts.issue_token(store, "awa", name="ci", actor=LOCAL)
    assert issued.secret.startswith("qt_")
    assert issued.secret not in str(store.list_tokens("awa"))
    auth = {"Authorization": f"Bearer {issued.secret}"}
    me = client.get("/api/me", headers=auth).json()
    assert me == {
        "username": "awa",
        "is_admin": False,
        "roles": {"ong": "steward"},
        "via": "token",
    }
    accounts.revoke_token(store, issued.token.id, actor=LOCAL)
    r = client.get("/api/me", headers=auth)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert (
        client.get("/api/me", headers={"Authorization": "Bearer qt_nope"}).status_code
        == 401
    )
    actions = [a["action"] for a in store.list_audit()]
    assert {"token.issue", "token.revoke", "user.grant", "user.add"} <= set(actions)


def test_session_cookie_is_httponly_and_unsafe_requests_need_csrf(client, store):
    _user(store)
    bad = client.post(
        "/api/session", json={"username": "awa", "password": "wrong-password"}
    )
    assert bad.status_code == 401
    r = client.post(
        "/api/session", json={"username": "AWA", "password": "un-mot-de-passe"}
    )
    assert r.status_code == 200, r.text
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    csrf = r.json()["csrf_token"]
    assert client.get("/api/me").json()["via"] == "session"
    assert client.delete("/api/session").status_code == 403  # no CSRF token
    assert (
        client.delete("/api/session", headers={"X-CSRF-Token": csrf}).status_code == 204
    )
    assert client.get("/api/me").json()["username"] is None


def test_passwords_are_argon2_hashed(store):
    store.ensure_schema()
    accounts.create_user(store, "ibra", password="un-mot-de-passe", actor=LOCAL)
    assert store.password_hash("ibra").startswith("$argon2id$")

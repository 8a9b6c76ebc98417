"""Storage contract, accounts part: users, roles, tokens, sessions, changes, webhooks.

Run on both stores through the ``store`` fixture, like test_contract.py.
"""

from __future__ import annotations

import pyarrow as pa
import pytest
import shapely

from quartier.domain import ActorKind, Dataset, Field, FieldType, Organisation
from quartier.domain.accounts import Role, Token
from quartier.errors import Conflict, NotFound

T = "2026-01-01T00:00:00.000000Z"


def _org(store, slug="ong"):
    store.add_organisation(Organisation(slug, slug.upper(), ActorKind.NGO))


def test_users_round_trip_with_roles(store):
    store.ensure_schema()
    _org(store)
    u = store.add_user("awa", password_hash="$argon2id$x", created=T, email="a@b.cd")
    assert (u.username, u.email, u.is_admin, u.active, u.roles) == (
        "awa",
        "a@b.cd",
        False,
        True,
        {},
    )
    with pytest.raises(Conflict):
        store.add_user("awa", password_hash=None, created=T)
    store.grant("awa", "ong", Role.VIEWER, created=T)
    u = store.grant("awa", "ong", Role.STEWARD, created=T)  # replaces the role
    assert u.roles == {"ong": Role.STEWARD}
    assert store.get_user("awa").roles == {"ong": Role.STEWARD}
    with pytest.raises(NotFound, match="organisation"):
        store.grant("awa", "nope", Role.VIEWER, created=T)
    assert store.revoke_role("awa", "ong").roles == {}
    assert store.password_hash("awa") == "$argon2id$x"
    store.update_user("awa", active=False, display_name="Awa D.")
    assert store.password_hash("awa") is None  # inactive users cannot sign in
    assert [x.display_name for x in store.list_users()] == ["Awa D."]
    with pytest.raises(NotFound):
        store.get_user("nobody")


def test_tokens_are_found_by_hash_and_revoked(store):
    store.ensure_schema()
    store.add_user("awa", password_hash=None, created=T)
    store.add_token(Token("t1", "awa", name="ci", created=T), secret_hash="h1")
    assert store.token_by_hash("h1").id == "t1"
    assert store.token_by_hash("h2") is None
    store.touch_token("t1", at="2026-01-02T00:00:00.000000Z")
    assert store.list_tokens("awa")[0].last_used.startswith("2026-01-02")
    assert store.revoke_token("t1", at=T).revoked == T
    with pytest.raises(NotFound):
        store.revoke_token("zz", at=T)


def test_sessions(store):
    store.ensure_schema()
    store.add_user("awa", password_hash=None, created=T)
    store.add_session("hash", username="awa", csrf="c", created=T, expires="2099")
    assert store.get_session("hash")["csrf"] == "c"
    store.delete_session("hash")
    assert store.get_session("hash") is None


def test_change_feed_records_versions_and_metadata_in_order(store):
    store.ensure_schema()
    store.create_dataset(Dataset(slug="a", title="A", created=T))
    batch = pa.record_batch(
        {"n": pa.array([1], pa.int64()), "geometry": [shapely.Point(1, 2).wkb]}
    )
    store.write_version("a", [batch], fields=[Field("n", FieldType.INTEGER)])
    store.update_dataset("a", title="AA")
    store.write_version("a", [batch], fields=[Field("n", FieldType.INTEGER)])
    changes = store.list_changes()
    assert [(c["dataset"], c["version"], c["kind"]) for c in changes] == [
        ("a", 1, "version"),
        ("a", None, "metadata"),
        ("a", 2, "version"),
    ]
    assert changes[0]["detail"]["added"] == 1
    seqs = [c["seq"] for c in changes]
    assert seqs == sorted(seqs)
    assert store.list_changes(since=seqs[0], limit=1)[0]["seq"] == seqs[1]


def test_webhooks(store):
    store.ensure_schema()
    store.add_user("dev", password_hash=None, created=T)
    h = store.add_webhook(
        username="dev", url="http://x/h", secret="s", datasets=["a"], created=T
    )
    assert (h["url"], h["datasets"], h["active"], h["cursor"]) == (
        "http://x/h",
        ["a"],
        True,
        0,
    )
    h = store.update_webhook(h["id"], cursor=5, failures=1, last_error="timeout")
    assert (h["cursor"], h["failures"], h["last_error"]) == (5, 1, "timeout")
    assert [x["id"] for x in store.list_webhooks(username="dev")] == [h["id"]]
    assert store.list_webhooks(username="other") == []
    assert store.get_webhook(h["id"])["secret"] == "s"
    store.delete_webhook(h["id"])
    with pytest.raises(NotFound):
        store.get_webhook(h["id"])


def test_a_schema_1_workspace_is_upgraded_in_place(store_url):
    import sqlalchemy as sa

    from quartier.storage import open_store

    with open_store(store_url) as st:
        st.ensure_schema()
        with st._write() as conn:  # make it look like a schema-1 workspace
            conn.exec_driver_sql(
                "DROP TABLE quartier_users CASCADE"
                if st.kind == "postgis"
                else "DROP TABLE quartier_users"
            )
            conn.exec_driver_sql(
                "CREATE TABLE quartier_users (username TEXT PRIMARY KEY, "
                "display_name TEXT NOT NULL DEFAULT '', password_hash TEXT, created TEXT NOT NULL)"
            )
            conn.exec_driver_sql(
                "INSERT INTO quartier_users VALUES ('old', '', NULL, 'x')"
            )
            conn.execute(
                sa.text(
                    "UPDATE quartier_meta SET value = '1' WHERE key = 'schema_version'"
                )
            )
    with open_store(store_url) as st:
        st.ensure_schema()
        assert st.get_user("old").active is True
        assert st.get_user("old").is_admin is False


def test_a_schema_2_workspace_gets_token_scopes(store_url):
    import sqlalchemy as sa

    from quartier.storage import open_store

    with open_store(store_url) as st:
        st.ensure_schema()
        st.add_user("awa", password_hash=None, created=T)
        with st._write() as conn:  # a schema-2 workspace: tokens had no scope
            conn.exec_driver_sql("ALTER TABLE quartier_tokens DROP COLUMN scope")
            conn.exec_driver_sql(
                "INSERT INTO quartier_tokens (id, username, name, secret_hash, "
                "created) VALUES ('t0', 'awa', 'ancien', 'h0', 'x')"
            )
            conn.execute(
                sa.text(
                    "UPDATE quartier_meta SET value = '2' WHERE key = 'schema_version'"
                )
            )
    with open_store(store_url) as st:
        st.ensure_schema()
        assert st.token_by_hash("h0").scope == "api"
        st.add_token(Token("t1", "awa", created=T, scope="collect"), secret_hash="h1")
        assert st.token_by_hash("h1").scope == "collect"


def test_accounts_dump_and_load_between_stores(store, gpkg_url):
    from quartier.storage import open_store

    store.ensure_schema()
    _org(store)
    store.add_user("awa", password_hash="$argon2id$h", created=T, is_admin=True)
    store.grant("awa", "ong", Role.MODERATOR, created=T)
    store.add_token(Token("t1", "awa", created=T), secret_hash="h1")
    store.add_webhook(
        username="awa", url="http://x", secret="s", datasets=[], created=T, cursor=3
    )
    dump = store.dump_accounts()
    with open_store(gpkg_url.replace("ville", "copy")) as other:
        other.ensure_schema()
        _org(other)
        other.load_accounts(dump)
        u = other.get_user("awa")
        assert (u.is_admin, u.roles) == (True, {"ong": Role.MODERATOR})
        assert other.password_hash("awa") == "$argon2id$h"
        assert other.token_by_hash("h1").id == "t1"
        assert [h["cursor"] for h in other.list_webhooks()] == [0]


def test_last_change_seq_and_leases(store):
    store.ensure_schema()
    assert store.last_change_seq() == 0
    store.create_dataset(Dataset(slug="a", title="A", created=T))
    store.update_dataset("a", title="B")
    assert store.last_change_seq() == store.list_changes()[-1]["seq"] > 0
    assert store.try_lease("job", "w1", seconds=10, at=100.0)
    assert not store.try_lease("job", "w2", seconds=10, at=105.0)  # held by w1
    assert store.try_lease("job", "w1", seconds=10, at=105.0)  # renewed to 115
    assert not store.try_lease("job", "w2", seconds=10, at=114.0)
    assert store.try_lease("job", "w2", seconds=10, at=115.5)  # expired: taken over
    assert store.try_lease("other", "w1", seconds=10, at=115.5)  # leases are named

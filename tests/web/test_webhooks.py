"""Webhooks delivered to a real local HTTP receiver — on both stores.

Rounds are run one at a time (``Dispatcher.run_once``) so each test reads as
a sequence of events; one test also lets the application's own dispatcher
thread deliver.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from apiutil import city, write
from webutil import make_client

from quartier.access import LOCAL
from quartier.services import accounts
from quartier.services.changes import latest_seq
from quartier.services.webhooks import MAX_FAILURES, Dispatcher


class Receiver:
    """A tiny HTTP server recording every POST; answers ``status``."""

    def __init__(self) -> None:
        self.posts: list[tuple[dict[str, str], bytes]] = []
        self.status = 204
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                outer.posts.append(
                    ({k.lower(): v for k, v in self.headers.items()}, body)
                )
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"

    def bodies(self) -> list[dict]:
        return [json.loads(body) for _, body in self.posts]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    thread = threading.Thread(target=r.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield r
    finally:
        r.server.shutdown()
        r.server.server_close()


@pytest.fixture
def api(store):
    headers = city(store)
    with make_client(store, webhook_interval=0, webhook_private=1) as client:
        yield client, store, headers


def _hook(client, headers, url, **body) -> dict:
    r = client.post("/api/webhooks", json={"url": url, **body}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def test_changes_arrive_signed_in_order_once_and_resume_after_restart(api, receiver):
    client, store, h = api
    hook = _hook(client, h["gardienne"], receiver.url)
    secret = hook["secret"]
    assert (
        Dispatcher(store, interval=1, allow_private=True).run_once() == 0
    )  # only changes from now on
    write(store, "marches", 2, "M2")
    write(store, "dossiers", 2, "D2")
    assert Dispatcher(store, interval=1, allow_private=True).run_once() == 2
    seqs = []
    for headers, body in receiver.posts:
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        assert headers["x-quartier-signature"] == f"sha256={expected}"
        payload = json.loads(body)
        assert headers["x-quartier-delivery"] == str(payload["id"])
        assert headers["x-quartier-event"] == "dataset.version"
        seqs.append(payload["seq"])
    assert [b["dataset"] for b in receiver.bodies()] == ["marches", "dossiers"]
    assert seqs == sorted(seqs) and receiver.bodies()[0]["version"] == 2
    assert store.get_webhook(hook["id"])["cursor"] == seqs[-1]
    # a restarted server (a new dispatcher) resumes from the stored cursor
    restarted = Dispatcher(store, interval=1, allow_private=True)
    assert restarted.run_once() == 0
    store.update_dataset("marches", title="Marchés (mis à jour)")
    assert restarted.run_once() == 1
    assert receiver.bodies()[-1]["event"] == "dataset.metadata"
    assert len(receiver.posts) == 3


def test_deliveries_follow_the_owners_access_at_delivery_time(api, receiver):
    client, store, h = api
    _hook(client, h["lecteur"], receiver.url)
    filtered = _hook(client, h["gardienne"], receiver.url, datasets=["dossiers"])
    write(store, "dossiers", 2, "D2")  # restricted: lecteur may not read it
    write(store, "marches", 2, "M2")
    dispatcher = Dispatcher(store, interval=1, allow_private=True)
    dispatcher.run_once()
    got = {(b["dataset"], b["version"]) for b in receiver.bodies()}
    assert got == {("dossiers", 2), ("marches", 2)}
    assert len(receiver.posts) == 2  # lecteur: marches; the filtered hook: dossiers
    # the lecteur joins the producer: later changes of dossiers reach them
    accounts.grant_role(store, "lecteur", "ong", "viewer", actor=LOCAL)
    write(store, "dossiers", 3, "D3")
    dispatcher.run_once()
    assert [b["version"] for b in receiver.bodies()[2:]] == [3, 3]
    # the steward loses her role: her hook stops delivering dossiers
    store.revoke_role("gardienne", "ong")
    write(store, "dossiers", 4, "D4")
    dispatcher.run_once()
    assert len(receiver.posts) == 5
    # changes it may not see still move its cursor on
    assert store.get_webhook(filtered["id"])["cursor"] == latest_seq(store)
    # a deactivated owner gets nothing
    store.update_user("lecteur", active=False)
    write(store, "marches", 3, "M3")
    dispatcher.run_once()
    assert len(receiver.posts) == 5


def test_failures_back_off_keep_the_cursor_and_finally_disable(api, receiver):
    client, store, h = api
    hook = _hook(client, h["gardienne"], receiver.url)
    write(store, "marches", 2, "M2")
    receiver.status = 500
    dispatcher = Dispatcher(store, interval=1, allow_private=True)
    dispatcher.run_once(at=1000.0)
    state = store.get_webhook(hook["id"])
    assert (state["failures"], state["last_error"]) == (1, "HTTP 500")
    assert state["cursor"] == hook["cursor"] and state["active"]
    dispatcher.run_once(at=1000.5)  # still backing off: no new attempt
    assert len(receiver.posts) == 1
    for i in range(MAX_FAILURES - 1):
        dispatcher.run_once(at=10_000.0 * (i + 1))
    state = store.get_webhook(hook["id"])
    assert state["failures"] == MAX_FAILURES and state["active"] is False
    attempts = len(receiver.posts)
    assert attempts == MAX_FAILURES
    receiver.status = 200
    dispatcher.run_once(at=1e9)
    assert len(receiver.posts) == attempts  # disabled: nothing more is sent
    # the same change is delivered once a (recreated) hook succeeds
    store.update_webhook(hook["id"], active=True, failures=0)
    dispatcher.run_once(at=2e9)
    assert receiver.bodies()[-1]["version"] == 2
    assert store.get_webhook(hook["id"])["failures"] == 0


def test_unreachable_receivers_are_failures_too(api):
    client, store, h = api
    hook = _hook(client, h["gardienne"], "http://127.0.0.1:9/nothing-listens")
    write(store, "marches", 2, "M2")
    Dispatcher(store, interval=1, allow_private=True).run_once()
    state = store.get_webhook(hook["id"])
    assert state["failures"] == 1 and state["last_error"].startswith("unreachable")


def test_the_application_starts_its_dispatcher(store, receiver):
    h = city(store)
    with make_client(store, webhook_interval=1, webhook_private=1) as client:
        _hook(client, h["gardienne"], receiver.url)
        write(store, "marches", 2, "M2")
        deadline = time.monotonic() + 30
        while not receiver.posts and time.monotonic() < deadline:
            time.sleep(0.1)
    assert [b["dataset"] for b in receiver.bodies()] == ["marches"]


def test_webhooks_belong_to_their_creator(api, receiver):
    client, store, h = api
    assert client.post("/api/webhooks", json={"url": receiver.url}).status_code == 401
    hook = _hook(client, h["gardienne"], receiver.url)
    assert len(hook["secret"]) >= 32
    mine = client.get("/api/webhooks", headers=h["gardienne"]).json()["webhooks"]
    assert [w["id"] for w in mine] == [hook["id"]] and "secret" not in mine[0]
    url = f"/api/webhooks/{hook['id']}"
    assert "secret" not in client.get(url, headers=h["gardienne"]).json()
    assert client.get("/api/webhooks", headers=h["lecteur"]).json()["webhooks"] == []
    assert client.get(url, headers=h["lecteur"]).status_code == 404
    assert client.delete(url, headers=h["lecteur"]).status_code == 404
    assert len(client.get("/api/webhooks", headers=h["admin"]).json()["webhooks"]) == 1
    for bad in (
        {"url": "ftp://example.org/x"},
        {"url": "pas une url"},
        {"url": receiver.url, "datasets": ["Pas-Un-Slug"]},
        {"url": receiver.url, "secret": "court"},
        {"url": receiver.url, "extra": 1},
    ):
        r = client.post("/api/webhooks", json=bad, headers=h["gardienne"])
        assert r.status_code == 400, (bad, r.text)
    assert client.delete(url, headers=h["gardienne"]).status_code == 204
    assert store.list_webhooks() == []
    actions = [a["action"] for a in store.list_audit()]
    assert "webhook.add" in actions and "webhook.delete" in actions


def test_private_targets_are_refused_unless_allowed(store, receiver):
    headers = city(store)
    with make_client(store, webhook_interval=0) as client:
        r = client.post(
            "/api/webhooks", json={"url": receiver.url}, headers=headers["gardienne"]
        )
        assert r.status_code == 400
        assert "private or local address (127.0.0.1)" in r.json()["description"]
        for url in ("http://169.254.169.254/latest/meta-data", "http://[::1]:9/"):
            r = client.post(
                "/api/webhooks", json={"url": url}, headers=headers["gardienne"]
            )
            assert r.status_code == 400, url
    assert store.list_webhooks() == []


def test_one_worker_delivers_at_a_time(api, receiver):
    client, store, h = api
    _hook(client, h["gardienne"], receiver.url)
    first = Dispatcher(store, interval=1, allow_private=True)
    other = Dispatcher(store, interval=1, allow_private=True)
    other.holder = "another-host:1"  # a second worker process
    assert first.run_once() == 0  # takes the lease
    write(store, "marches", 2, "M2")
    assert other.run_once() == 0  # the lease is held: nothing posted twice
    assert first.run_once() == 1
    assert len(receiver.posts) == 1

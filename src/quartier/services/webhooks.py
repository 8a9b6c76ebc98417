"""Outgoing webhooks: one signed POST per change of the feed a subscriber may see.

A webhook belongs to the user who created it and sees what that user may
read *at delivery time*: each round rebuilds the owner's principal from the
store, so a revoked role or a dataset made confidential stops deliveries at
once; a deactivated or deleted owner gets nothing.

Delivery is at least once and in order, per webhook. Each POST carries one
change as JSON, its ``seq`` as idempotency key (``id`` in the body and the
``X-Quartier-Delivery`` header) and ``X-Quartier-Signature: sha256=<hex>``,
the HMAC-SHA256 of the exact body with the webhook's secret. The cursor (the
last ``seq`` handled) is stored after every 2xx answer, so a restart resumes
where delivery stopped. A failure (network error, timeout, redirect, non-2xx)
keeps the cursor, counts a consecutive failure, records ``last_error`` and
waits ``interval × 2^failures`` (capped) before the next try; after
``MAX_FAILURES`` in a row the webhook is disabled until its owner recreates it.

Targets on loopback, private, link-local or reserved addresses are refused
(at creation and again at each delivery, after DNS resolution) unless the
server allows them (``QUARTIER_WEBHOOK_PRIVATE=1``): any signed-in user may
create a webhook, and the server must not become a way into the city's LAN
or a cloud metadata endpoint. With several workers, one dispatcher at a time
delivers (a lease in the store), so a change is not posted twice.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import os
import secrets
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import orjson

from quartier.access import Principal, require_signed_in
from quartier.errors import InvalidInput, NotFound
from quartier.services import accounts
from quartier.services.changes import latest_seq, visible_changes
from quartier.storage.base import SqlStore, now

log = logging.getLogger(__name__)

MAX_FAILURES = 10
MAX_BACKOFF = 600.0
TIMEOUT = 10.0
#: changes delivered per webhook and round (the rest waits for the next round)
BATCH = 100
SIGNATURE_HEADER = "X-Quartier-Signature"
DELIVERY_HEADER = "X-Quartier-Delivery"
EVENT_HEADER = "X-Quartier-Event"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _check_url(url: str, *, allow_private: bool) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"url: {url!r} is not an http(s) URL")
    if not allow_private:
        _check_public(parts.hostname)
    return url.strip()


def _check_public(host: str) -> None:
    """InvalidInput unless every address ``host`` resolves to is public."""
    try:
        infos = socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError):
        raise InvalidInput(f"url: cannot resolve {host!r}") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global:
            raise InvalidInput(
                f"url: {host!r} is a private or local address ({address}); "
                "webhooks go to public addresses (QUARTIER_WEBHOOK_PRIVATE=1 "
                "allows others)"
            )


# --------------------------------------------------------------- management
def create(
    store: SqlStore,
    p: Principal,
    *,
    url: str,
    datasets: list[str] | None = None,
    secret: str | None = None,
    allow_private: bool = False,
) -> dict[str, Any]:
    """A new webhook of ``p``, delivering changes that happen from now on.

    The returned dict holds the secret: the only time it is shown.
    """
    require_signed_in(p)
    for slug in datasets or []:
        if not isinstance(slug, str) or not slug:
            raise InvalidInput("datasets: give dataset identifiers")
    hook = store.add_webhook(
        username=p.label,
        url=_check_url(url, allow_private=allow_private),
        secret=secret or secrets.token_urlsafe(32),
        datasets=list(datasets or []),
        created=now(),
        cursor=latest_seq(store),
    )
    store.audit(
        actor=p.label,
        action="webhook.add",
        target=str(hook["id"]),
        detail={"url": hook["url"], "datasets": hook["datasets"]},
    )
    return hook


def public(hook: dict[str, Any]) -> dict[str, Any]:
    """A webhook without its secret."""
    return {k: v for k, v in hook.items() if k != "secret"}


def owned(store: SqlStore, p: Principal, hook_id: int) -> dict[str, Any]:
    """The webhook if ``p`` owns it (or administers the platform)."""
    require_signed_in(p)
    hook = store.get_webhook(hook_id)
    if not (p.is_admin or hook["username"] == p.username):
        raise NotFound(f"no webhook {hook_id}")
    return hook


def list_for(store: SqlStore, p: Principal) -> list[dict[str, Any]]:
    require_signed_in(p)
    return store.list_webhooks(username=None if p.is_admin else p.username)


def delete(store: SqlStore, p: Principal, hook_id: int) -> None:
    hook = owned(store, p, hook_id)
    store.delete_webhook(hook_id)
    store.audit(
        actor=p.label,
        action="webhook.delete",
        target=str(hook_id),
        detail={"url": hook["url"], "owner": hook["username"]},
    )


# ----------------------------------------------------------------- delivery
class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is a failure: the body must not be re-sent elsewhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)
Links = Callable[[dict[str, Any]], list[dict[str, str]]]


def payload(change: dict[str, Any], links: Links | None = None) -> dict[str, Any]:
    """The JSON of one change, as the feed and webhooks show it."""
    return {
        "id": change["seq"],
        "seq": change["seq"],
        "event": f"dataset.{change['kind']}",
        "dataset": change["dataset"],
        "version": change["version"],
        "kind": change["kind"],
        "at": change["at"],
        "detail": change["detail"],
        "links": links(change) if links else [],
    }


def post(url: str, secret: str, body: bytes, delivery: int, event: str) -> None:
    """POST ``body``; raises ``OSError`` (or ``HTTPError``) unless a 2xx comes back."""
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Quartier-Webhooks/1",
            SIGNATURE_HEADER: sign(secret, body),
            DELIVERY_HEADER: str(delivery),
            EVENT_HEADER: event,
        },
    )
    with _opener.open(request, timeout=TIMEOUT) as response:
        if not 200 <= response.status < 300:
            raise OSError(f"HTTP {response.status}")


class Dispatcher:
    """Delivers every active webhook's pending changes, round after round."""

    def __init__(
        self,
        store: SqlStore,
        *,
        interval: float,
        links: Links | None = None,
        allow_private: bool = False,
    ) -> None:
        self.store = store
        self.interval = max(float(interval), 0.01)
        self.links = links
        self.allow_private = allow_private
        #: this process's name in the store's lease (one deliverer at a time;
        #: dispatchers of one process may follow each other freely)
        self.holder = f"{socket.gethostname()}:{os.getpid()}"
        #: webhook id → monotonic time before which it is not retried
        self._not_before: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # life ------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=TIMEOUT + 5)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # keep delivering after a store hiccup
                log.exception("webhook round failed")
            self._stop.wait(self.interval)

    # work ------------------------------------------------------------------
    def run_once(self, *, at: float | None = None) -> int:
        """One round over every active webhook; returns deliveries made.

        ``at`` is the monotonic time the backoff compares with (tests pass a
        later one instead of waiting).
        """
        moment = time.monotonic() if at is None else at
        if not self._hold():
            return 0  # another worker delivers
        delivered = 0
        for hook in self.store.list_webhooks():
            if self._stop.is_set():
                break
            if hook["active"] and self._not_before.get(hook["id"], 0) <= moment:
                try:
                    delivered += self._deliver(hook, moment)
                except NotFound:  # deleted by its owner meanwhile
                    self._not_before.pop(hook["id"], None)
        return delivered

    def _hold(self) -> bool:
        """Take or renew the delivery lease (renewed before every POST)."""
        seconds = self.interval * 3 + TIMEOUT * 2
        return self.store.try_lease(
            "webhooks", self.holder, seconds=seconds, at=time.time()
        )

    def _owner(self, hook: dict[str, Any]) -> Principal | None:
        try:
            user = self.store.get_user(hook["username"])
        except NotFound:
            return None
        if not user.active:
            return None
        return accounts.principal_of(user, via="token", store=self.store)

    def _deliver(self, hook: dict[str, Any], moment: float) -> int:
        owner = self._owner(hook)
        if owner is None:
            return 0
        page = visible_changes(
            self.store,
            owner,
            since=hook["cursor"],
            limit=BATCH,
            datasets=hook["datasets"] or None,
        )
        sent = 0
        for change in page.changes:
            body = orjson.dumps(payload(change, self.links))
            if not self._hold():
                return sent  # the lease went to another worker
            try:
                if not self.allow_private:  # DNS may have changed since creation
                    _check_public(urlsplit(hook["url"]).hostname or "")
                post(
                    hook["url"],
                    hook["secret"],
                    body,
                    change["seq"],
                    f"dataset.{change['kind']}",
                )
            except (OSError, ValueError, InvalidInput) as e:
                self._failed(hook, e, moment)
                return sent
            hook = self.store.update_webhook(
                hook["id"], cursor=change["seq"], failures=0, last_error=""
            )
            self._not_before.pop(hook["id"], None)
            sent += 1
        if page.cursor > hook["cursor"]:  # only invisible changes were left
            self.store.update_webhook(hook["id"], cursor=page.cursor)
        return sent

    def _failed(self, hook: dict[str, Any], error: Exception, moment: float) -> None:
        failures = hook["failures"] + 1
        text = _describe(error)
        changes: dict[str, Any] = {"failures": failures, "last_error": text}
        if failures >= MAX_FAILURES:
            changes["active"] = False
            log.warning("webhook %s disabled after %d failures", hook["id"], failures)
        self.store.update_webhook(hook["id"], **changes)
        delay = min(self.interval * 2**failures, MAX_BACKOFF)
        self._not_before[hook["id"]] = moment + delay


def _describe(error: Exception) -> str:
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code}"
    if isinstance(error, urllib.error.URLError):
        return f"unreachable: {error.reason}"
    return f"{type(error).__name__}: {error}"[:300]

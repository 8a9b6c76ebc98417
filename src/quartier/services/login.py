"""Signing in with a password, with password guessing slowed down.

After :data:`MAX_FAILURES` wrong passwords for one account from one address
within :data:`WINDOW_SECONDS`, that pair is refused (:class:`TooManyAttempts`,
HTTP 429) until the window has passed — without checking the password, so a
flood of guesses costs no argon2 work either. Keyed on (account, address) so
nobody can lock a colleague out from elsewhere. Every failure is audited
(``login.failed``). The counts live in the server process: a restart forgets
them, which only gives a guesser a few more tries.

>>> guard = LoginGuard(max_failures=2, window=60)
>>> guard.failed("awa", "10.0.0.1", at=0.0); guard.failed("awa", "10.0.0.1", at=1.0)
>>> guard.blocked("awa", "10.0.0.1", at=2.0), guard.blocked("awa", "10.0.0.2", at=2.0)
(True, False)
>>> guard.blocked("awa", "10.0.0.1", at=62.0)
False
"""

from __future__ import annotations

import threading
import time

from quartier.domain.accounts import User
from quartier.errors import TooManyAttempts, Unauthenticated
from quartier.services import accounts
from quartier.storage.base import SqlStore

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60


class LoginGuard:
    def __init__(
        self, *, max_failures: int = MAX_FAILURES, window: float = WINDOW_SECONDS
    ) -> None:
        self.max_failures, self.window = max_failures, window
        self._failures: dict[tuple[str, str], list[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, username: str, client: str, *, at: float | None = None) -> bool:
        moment = time.monotonic() if at is None else at
        with self._lock:
            recent = self._recent((username, client), moment)
            return len(recent) >= self.max_failures

    def failed(self, username: str, client: str, *, at: float | None = None) -> None:
        moment = time.monotonic() if at is None else at
        with self._lock:
            key = (username, client)
            self._failures[key] = [*self._recent(key, moment), moment]

    def succeeded(self, username: str, client: str) -> None:
        with self._lock:
            self._failures.pop((username, client), None)

    def _recent(self, key: tuple[str, str], moment: float) -> list[float]:
        kept = [t for t in self._failures.get(key, []) if moment - t < self.window]
        if kept:
            self._failures[key] = kept
        else:
            self._failures.pop(key, None)
        return kept


def sign_in(
    store: SqlStore, guard: LoginGuard, username: str, password: str, *, client: str
) -> User:
    """The user whose password this is; refuses after repeated failures."""
    name = username.strip().lower()
    if guard.blocked(name, client):
        raise TooManyAttempts(
            f"too many wrong passwords for {name!r} from this address: "
            f"try again in {WINDOW_SECONDS // 60} minutes"
        )
    try:
        user = accounts.authenticate(store, name, password)
    except Unauthenticated:
        guard.failed(name, client)
        store.audit(
            actor=name[:100],
            action="login.failed",
            target=name[:100],
            detail={"client": client},
        )
        raise
    guard.succeeded(name, client)
    return user

"""A small in-process rate limiter for public endpoints that write.

A token bucket per (bucket name, client address): each address may make
``burst`` requests at once, then ``per_minute`` a minute. Past that, the
request is refused with **429** and a ``Retry-After`` header before its body
is read or the store is touched. Like :class:`~quartier.services.login.
LoginGuard` (which counts failed passwords per account and address), it
lives in the server process: a restart forgets it, several processes each
count alone — enough to stop a flood from one phone or script; a city that
runs many processes behind a proxy limits there too.

Routes that take uploads from anyone use :func:`guarded_route` as their
route class: the limit and the declared length are checked as soon as the
route matches, before FastAPI reads and parses the body (which it does
before any dependency runs), and a body streamed without a length is cut
off at the cap. The client address is the socket's peer (a proxy must pass
the real one with uvicorn's ``--proxy-headers``).

>>> bucket = TokenBucket(per_minute=60, burst=2)
>>> bucket.take("a", at=0.0), bucket.take("a", at=0.0), bucket.take("a", at=0.0)
(0.0, 0.0, 1.0)
>>> bucket.take("b", at=0.0), bucket.take("a", at=1.0)
(0.0, 0.0)
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.types import Message, Receive

from quartier.errors import RateLimited, TooLarge
from quartier.web.deps import client_address, context

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
#: forget addresses idle this long (seconds) when the table grows
_IDLE = 3600.0
_MAX_KEYS = 10_000


class TokenBucket:
    """Tokens per key, refilled at ``per_minute / 60`` a second up to ``burst``."""

    def __init__(self, *, per_minute: float, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = max(1, burst)
        self._buckets: dict[str, tuple[float, float]] = {}  # key → (tokens, when)
        self._lock = threading.Lock()

    def take(self, key: str, *, at: float | None = None) -> float:
        """Spend one token: 0.0 if allowed, else the seconds to wait."""
        moment = time.monotonic() if at is None else at
        with self._lock:
            tokens, when = self._buckets.get(key, (float(self.burst), moment))
            tokens = min(self.burst, tokens + (moment - when) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, moment)
                self._forget(moment)
                return 0.0
            self._buckets[key] = (tokens, moment)
            if self.rate <= 0:
                return 60.0
            return (1.0 - tokens) / self.rate

    def _forget(self, moment: float) -> None:
        if len(self._buckets) > _MAX_KEYS:
            for key, (_, when) in list(self._buckets.items()):
                if moment - when > _IDLE:
                    del self._buckets[key]


def limiter(request: Request, name: str) -> TokenBucket | None:
    """The process's bucket ``name`` (None when the limit is switched off)."""
    ctx = context(request)
    per_minute = ctx.settings.rate_limit_per_minute
    if per_minute <= 0:
        return None
    key = f"ratelimit:{name}"
    bucket = ctx.extras.get(key)
    if bucket is None:
        bucket = ctx.extras.setdefault(
            key, TokenBucket(per_minute=per_minute, burst=ctx.settings.rate_limit_burst)
        )
    return bucket  # type: ignore[no-any-return]


def check_rate(request: Request, name: str) -> None:
    """Refuse (429, ``Retry-After``) a client over the limit of ``name``."""
    bucket = limiter(request, name)
    if bucket is None:
        return
    wait = bucket.take(client_address(request))
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise RateLimited(
            f"trop de requêtes depuis cette adresse : réessayez dans "
            f"{seconds} s (too many requests: retry in {seconds} s)",
            retry_after=seconds,
        )


def guarded_route(name: str, max_body: int) -> type[APIRoute]:
    """A route class that, before the body is read, refuses a client over
    the limit of bucket ``name`` (429) and a body over ``max_body`` bytes
    (413: at once when declared, else as soon as it streams past)."""

    class GuardedRoute(APIRoute):
        def get_route_handler(
            self,
        ) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def guarded(request: Request) -> Response:
                check_rate(request, name)
                declared = request.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_body:
                    raise TooLarge(_too_large(max_body))
                capped = Request(request.scope, _capped(request.receive, max_body))
                return await handler(capped)

            return guarded

    return GuardedRoute


def _capped(receive: Receive, limit: int) -> Receive:
    total = 0

    async def read() -> Message:
        nonlocal total
        message = await receive()
        total += len(message.get("body", b""))
        if total > limit:
            # FastAPI turns other errors raised while parsing into a 400
            raise HTTPException(413, _too_large(limit))
        return message

    return read


def _too_large(limit: int) -> str:
    return f"request body larger than {limit / 2**20:.0f} MB"

"""The portal's static files: gzip-compressed, cached by the browser.

URLs carry ``?v=<version>``, so a file can be cached for a year and a new
release is fetched at once; plain URLs are revalidated (ETag) after a day.
The map library (≈1 MB) goes over the wire as ≈280 KB of gzip, once.
"""

from __future__ import annotations

from pathlib import Path

from starlette.middleware.gzip import GZipMiddleware
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from quartier.i18n import N_, _

STATIC_DIR = Path(__file__).parent.parent / "static"
VENDOR_HINT = N_(
    "la bibliothèque cartographique du portail manque dans {dir} : lancez "
    "`npm ci` dans le dossier du projet (make demo et make test le font)"
)


class _Cached:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        versioned = b"v=" in scope.get("query_string", b"")
        policy = (
            b"public, max-age=31536000, immutable"
            if versioned
            else b"public, max-age=86400"
        )

        async def with_policy(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                message["headers"] = [
                    *message.get("headers", []),
                    (b"cache-control", policy),
                ]
            await send(message)

        await self.app(scope, receive, with_policy)


def static_app() -> ASGIApp:
    files = StaticFiles(directory=STATIC_DIR, check_dir=True)
    return GZipMiddleware(_Cached(files), minimum_size=1024)


def vendor_missing() -> str | None:
    """A message when ``npm ci`` has not filled ``static/vendor``."""
    vendor = STATIC_DIR / "vendor"
    if (vendor / "maplibre-gl.js").exists():
        return None
    return _(VENDOR_HINT).format(dir=vendor)

"""Typed settings, built by a function and passed in (never created at import time).

Every setting can come from the environment with the prefix ``QUARTIER_``:

- ``QUARTIER_DB`` — store URL: a path ending in ``.gpkg`` or ``postgresql://…``
  (default ``./quartier.gpkg``).
- ``QUARTIER_LANG`` — default language of user-facing text, ``fr`` or ``en``.
- ``QUARTIER_BATCH_SIZE`` — rows per batch when importing/exporting (default 65536).
- ``QUARTIER_HOST`` / ``QUARTIER_PORT`` — where ``quartier serve`` listens
  (default 127.0.0.1:8000).
- ``QUARTIER_PUBLIC_URL`` — the server's public base URL, used in links when it
  runs behind a proxy (default: taken from each request).
- ``QUARTIER_MAX_UPLOAD_MB`` — largest accepted upload, in MB (default 200).
- ``QUARTIER_SECURE_COOKIES`` — ``1`` to mark session cookies ``Secure``
  (behind HTTPS; default 0 so a LAN server over plain HTTP works).
- ``QUARTIER_TILE_CACHE_MB`` — memory for the vector-tile cache, in MB (default 256).
- ``QUARTIER_WEBHOOK_INTERVAL`` — seconds between webhook deliveries rounds
  (default 2; 0 disables the dispatcher).
- ``QUARTIER_WEBHOOK_PRIVATE`` — ``1`` lets webhooks target loopback and private
  addresses (a LAN deployment, tests); default 0: public addresses only.
- ``QUARTIER_BASEMAP_URL`` — an optional external raster base map under the
  portal's map, as a tile URL template (``https://…/{z}/{x}/{y}.png``); default
  empty: the base map is drawn from the city's own layers, so a LAN without
  internet works.
- ``QUARTIER_BASEMAP_ATTRIBUTION`` — the attribution that base map requires
  (for example ``© OpenStreetMap contributors``).
- ``QUARTIER_RATE_LIMIT_PER_MINUTE`` — requests per minute one client address
  may make to rate-limited public endpoints (reports, contests; default 6;
  0 disables the limit).
- ``QUARTIER_RATE_LIMIT_BURST`` — how many such requests may come at once
  before the per-minute rate applies (default 10).
- ``QUARTIER_REPORT_CATEGORIES`` — the categories of residents' reports, as
  inline JSON or the path of a JSON file: a list of ``{"code", "label",
  "label_en", "organisation"}``; the organisation's moderators handle that
  category (default: built-in French/English categories, handled by admins).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

DEFAULT_DB = "quartier.gpkg"


@dataclass(frozen=True)
class Settings:
    """Runtime settings of one Quartier process."""

    db: str = DEFAULT_DB
    lang: str = "fr"
    batch_size: int = 65536
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""
    max_upload_mb: int = 200
    secure_cookies: int = 0
    tile_cache_mb: int = 256
    webhook_interval: int = 2
    webhook_private: int = 0
    basemap_url: str = ""
    basemap_attribution: str = ""
    rate_limit_per_minute: int = 6
    rate_limit_burst: int = 10
    report_categories: str = ""


def load_settings(
    env: Mapping[str, str] | None = None, **overrides: object
) -> Settings:
    """Build settings from ``QUARTIER_*`` variables, then explicit overrides."""
    env = os.environ if env is None else env
    values: dict[str, object] = {}
    for f in fields(Settings):
        raw = env.get(f"QUARTIER_{f.name.upper()}")
        if raw is not None and raw != "":
            values[f.name] = int(raw) if f.type in ("int", int) else raw
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values)  # type: ignore[arg-type]

"""Typed settings, built by a function and passed in (never created at import time).

Every setting can come from the environment with the prefix ``QUARTIER_``:

- ``QUARTIER_DB`` — store URL: a path ending in ``.gpkg`` or ``postgresql://…``
  (default ``./quartier.gpkg``).
- ``QUARTIER_LANG`` — default language of user-facing text, ``fr`` or ``en``.
- ``QUARTIER_BATCH_SIZE`` — rows per batch when importing/exporting (default 65536).
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

"""What every request handler may use: settings, the store, the read audit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from quartier.services.audit import ReadAudit
from quartier.settings import Settings
from quartier.storage.base import SqlStore


@dataclass
class AppContext:
    settings: Settings
    store: SqlStore
    audit: ReadAudit
    #: per-area singletons created at start-up (tile cache, webhook dispatcher…)
    extras: dict[str, Any] = field(default_factory=dict)

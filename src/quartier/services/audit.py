"""Audit of reads of restricted and confidential data.

Writes are audited where they happen. Reads of protected datasets are
recorded here, once per (caller, dataset, output) per minute: a map pans
through hundreds of tiles, and one line per tile would drown the log (and
serialise GeoPackage readers behind a write per tile).
"""

from __future__ import annotations

import threading
import time

from quartier.access import Principal, must_audit_read
from quartier.domain.catalogue import Dataset
from quartier.storage.base import SqlStore

WINDOW_SECONDS = 60.0


class ReadAudit:
    def __init__(self, store: SqlStore, *, window: float = WINDOW_SECONDS) -> None:
        self.store = store
        self.window = window
        self._last: dict[tuple[str, str, str], float] = {}
        self._lock = threading.Lock()

    def record(
        self, p: Principal, ds: Dataset, output: str, detail: dict | None = None
    ) -> bool:
        """Log a read of ``ds`` through ``output`` if it is protected."""
        if not must_audit_read(ds):
            return False
        key = (p.label, ds.slug, output)
        moment = time.monotonic()
        with self._lock:
            last = self._last.get(key)
            if last is not None and moment - last < self.window:
                return False
            self._last[key] = moment
        self.store.audit(
            actor=p.label,
            action=f"read.{output}",
            target=ds.slug,
            detail={"access": str(ds.access), **(detail or {})},
        )
        return True

"""The change feed as one caller may see it (API ``/api/changes`` and webhooks).

Visibility is decided *now*, through :mod:`quartier.access`, against each
dataset's current metadata — not as it was when the change happened: a
dataset made confidential disappears from everyone's feed (past entries
included) for callers who may no longer read it, and a dataset that no longer
exists is skipped. Skipped entries still move the cursor on, so a reader never
stalls on changes it may not see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from quartier.access import Principal, can_read
from quartier.domain import Dataset
from quartier.errors import NotFound
from quartier.storage.base import SqlStore

#: at most this many store rows are scanned per requested entry
SCAN_FACTOR = 10


@dataclass
class Page:
    changes: list[dict[str, Any]] = field(default_factory=list)
    #: the last ``seq`` examined: the ``since`` of the next request
    cursor: int = 0
    #: whether more changes may already be waiting after ``cursor``
    more: bool = False


class Visibility:
    """Remembers, for one caller and one pass, which datasets they may read."""

    def __init__(self, store: SqlStore, p: Principal) -> None:
        self.store, self.p = store, p
        self._seen: dict[str, Dataset | None] = {}

    def dataset(self, slug: str) -> Dataset | None:
        """The dataset if ``p`` may read it now, else ``None``."""
        if slug not in self._seen:
            try:
                ds: Dataset | None = self.store.get_dataset(slug)
            except NotFound:
                ds = None
            self._seen[slug] = ds if ds is not None and can_read(self.p, ds) else None
        return self._seen[slug]


def visible_changes(
    store: SqlStore,
    p: Principal,
    *,
    since: int = 0,
    limit: int = 100,
    datasets: list[str] | None = None,
) -> Page:
    """Up to ``limit`` changes after ``since`` that ``p`` may see, oldest first.

    ``datasets`` keeps only changes of those datasets (a webhook's filter).
    """
    seen = Visibility(store, p)
    page = Page(cursor=since)
    budget = max(limit, 1) * SCAN_FACTOR
    wanted = set(datasets or [])
    while len(page.changes) < limit and budget > 0:
        rows = store.list_changes(since=page.cursor, limit=min(budget, 1000))
        if not rows:
            return page
        budget -= len(rows)
        for row in rows:
            if len(page.changes) >= limit:
                page.more = True
                return page
            page.cursor = row["seq"]
            if wanted and row["dataset"] not in wanted:
                continue
            if seen.dataset(row["dataset"]) is not None:
                page.changes.append(row)
    page.more = budget <= 0 or store.last_change_seq() > page.cursor
    return page


def latest_seq(store: SqlStore) -> int:
    """The newest ``seq`` of the feed (0 when empty)."""
    return store.last_change_seq()

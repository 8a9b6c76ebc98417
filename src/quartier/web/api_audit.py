"""``/api/audit``: the audit log, newest first, for platform administrators.

Filters: ``actor`` (exact), ``action`` (exact, or a family: ``user`` matches
``user.add`` and ``user.grant``), ``target`` (exact; a dataset's slug also
matches its ``slug@version`` entries). The staff console reads the same
pages through :func:`audit_page`, with a narrower ``keep`` for callers who are
not platform administrators.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query

from quartier import access
from quartier.storage.base import SqlStore
from quartier.web.api_common import MAX_INT, Base, Caller, Ctx, link
from quartier.web.responses import JSONResponse

router = APIRouter(prefix="/api", tags=["Journal"], default_response_class=JSONResponse)

Entry = dict[str, Any]
#: entries read per round while filtering (grows ×4 until the page is full)
FIRST_ROUND = 200


@dataclass(frozen=True)
class AuditQuery:
    actor: str | None = None
    action: str | None = None
    target: str | None = None


def audit_page(
    store: SqlStore,
    query: AuditQuery,
    *,
    offset: int,
    limit: int,
    keep: Callable[[Entry], bool] | None = None,
) -> tuple[list[Entry], bool]:
    """One page of matching entries, newest first, and whether more follow.

    The store filters and pages in SQL; only the console's narrower view
    for non-administrators (``keep``) is applied here, on a window of the
    filtered log that grows until the page is full or the log ends.
    """
    filters = {k: v for k, v in vars(query).items() if v}
    if keep is None:  # the store filters and pages in SQL
        rows = store.list_audit(limit=limit + 1, offset=offset, **filters)
        return rows[:limit], len(rows) > limit
    wanted = offset + limit + 1
    window = max(wanted, FIRST_ROUND)
    while True:
        rows = store.list_audit(limit=window, **filters)
        found = [r for r in rows if keep(r)]
        if len(found) >= wanted or len(rows) < window:
            return found[offset : offset + limit], len(found) > offset + limit
        window *= 4


Text = Annotated[str | None, Query(max_length=200)]


@router.get("/audit")
def list_audit(
    ctx: Ctx,
    who: Caller,
    base: Base,
    actor: Text = None,
    action: Text = None,
    target: Text = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
) -> dict[str, Any]:
    """The audit log, newest first (platform administrators)."""
    access.require_manage(access.require_signed_in(who))
    query = AuditQuery(actor or None, action or None, target or None)
    entries, more = audit_page(ctx.store, query, offset=offset, limit=limit)
    return {
        "entries": entries,
        "numberReturned": len(entries),
        "links": _links(base, query, offset, limit, more),
    }


def _links(
    base: str, query: AuditQuery, offset: int, limit: int, more: bool
) -> list[dict[str, str]]:
    params = {k: v for k, v in vars(query).items() if v}

    def url(at: int) -> str:
        query = urlencode({**params, "limit": limit, "offset": at})
        return f"{base}/api/audit?{query}"

    links = [link(url(offset), "self", "application/json")]
    if more:
        links.append(link(url(offset + limit), "next", "application/json"))
    if offset > 0:
        links.append(link(url(max(offset - limit, 0)), "prev", "application/json"))
    return links

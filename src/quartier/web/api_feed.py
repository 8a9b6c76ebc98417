"""``/api/changes`` (the change feed) and ``/api/webhooks`` (pushed changes).

Both show only changes of datasets the caller (the webhook's owner) may read
*now*; see :mod:`quartier.services.changes` and
:mod:`quartier.services.webhooks`. The dispatcher thread starts with the
application when ``webhook_interval > 0``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import Field

from quartier import access
from quartier.services import webhooks
from quartier.services.changes import visible_changes
from quartier.web.api_common import MAX_INT, SLUG, Base, Body, Caller, Ctx, link
from quartier.web.context import AppContext
from quartier.web.responses import JSONResponse

router = APIRouter(
    prefix="/api", tags=["Changements"], default_response_class=JSONResponse
)
HookId = Annotated[int, Path(ge=1, le=MAX_INT, description="Identifiant du webhook")]


@router.get("/changes")
def changes(
    ctx: Ctx,
    who: Caller,
    base: Base,
    since: Annotated[
        int, Query(ge=0, le=MAX_INT, description="Dernier numéro déjà lu (seq)")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """New versions and metadata changes after ``since``, oldest first.

    Only changes of datasets you may read now are listed; ``next_since`` is
    the ``since`` of your next call (it moves past changes you may not see).
    """
    page = visible_changes(ctx.store, who, since=since, limit=limit)
    links_of = change_links(base)
    out_links = [link(f"{base}/api/changes?since={since}&limit={limit}", "self")]
    if page.more:
        out_links.append(
            link(f"{base}/api/changes?since={page.cursor}&limit={limit}", "next")
        )
    return {
        "changes": [webhooks.payload(c, links_of) for c in page.changes],
        "next_since": page.cursor,
        "links": out_links,
    }


def change_links(base: str) -> Callable[[dict[str, Any]], list[dict[str, str]]]:
    def links(change: dict[str, Any]) -> list[dict[str, str]]:
        api = f"{base}/api/datasets/{change['dataset']}"
        out = [link(api, "dataset", "application/json")]
        if change["version"] is not None:
            v = f"{api}/versions/{change['version']}"
            out += [
                link(v, "version", "application/json"),
                link(f"{v}/download.geojson", "enclosure", "application/geo+json"),
            ]
        return out

    return links


# ---------------------------------------------------------------- webhooks
class WebhookIn(Body):
    url: str = Field(min_length=8, max_length=2000, description="URL http(s) à appeler")
    datasets: list[Annotated[str, Field(pattern=SLUG)]] = Field(
        default_factory=list,
        max_length=100,
        description="Seulement ces jeux de données (défaut : tous ceux visibles)",
    )
    secret: str | None = Field(
        None, min_length=16, max_length=200, description="Défaut : tiré au hasard"
    )


@router.post("/webhooks", status_code=201)
def add_webhook(body: WebhookIn, ctx: Ctx, who: Caller, base: Base) -> dict[str, Any]:
    """Be called on every new change you may see; the secret signs each body
    (``X-Quartier-Signature: sha256=…``) and is shown only here."""
    hook = webhooks.create(
        ctx.store,
        who,
        url=body.url,
        datasets=body.datasets,
        secret=body.secret,
        allow_private=bool(ctx.settings.webhook_private),
    )
    return _hook(webhooks.public(hook), base) | {"secret": hook["secret"]}


@router.get("/webhooks")
def list_webhooks(ctx: Ctx, who: Caller, base: Base) -> dict[str, Any]:
    """Your webhooks (administrators: everyone's), with their delivery state."""
    return {
        "webhooks": [
            _hook(webhooks.public(h), base) for h in webhooks.list_for(ctx.store, who)
        ]
    }


@router.get("/webhooks/{hook_id}")
def get_webhook(hook_id: HookId, ctx: Ctx, who: Caller, base: Base) -> dict[str, Any]:
    return _hook(webhooks.public(webhooks.owned(ctx.store, who, hook_id)), base)


@router.delete("/webhooks/{hook_id}", status_code=204)
def delete_webhook(hook_id: HookId, ctx: Ctx, who: Caller) -> None:
    webhooks.delete(ctx.store, access.require_signed_in(who), hook_id)


def _hook(hook: dict[str, Any], base: str) -> dict[str, Any]:
    return hook | {"links": [link(f"{base}/api/webhooks/{hook['id']}", "self")]}


# ---------------------------------------------------------------- lifespan
def start_dispatcher(ctx: AppContext) -> None:
    interval = ctx.settings.webhook_interval
    if interval <= 0:
        return
    base = ctx.settings.public_url or f"http://{ctx.settings.host}:{ctx.settings.port}"
    dispatcher = webhooks.Dispatcher(
        ctx.store,
        interval=interval,
        links=change_links(base.rstrip("/")),
        allow_private=bool(ctx.settings.webhook_private),
    )
    ctx.extras["webhooks"] = dispatcher
    dispatcher.start()


def stop_dispatcher(ctx: AppContext) -> None:
    dispatcher = ctx.extras.pop("webhooks", None)
    if dispatcher is not None:
        dispatcher.stop()

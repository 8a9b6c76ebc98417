"""``/console/reference``: administrators edit the city's list of essential
datasets (the frame of the diagnostic); writes go through ``/api/reference``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from quartier import access
from quartier.services import reference as service
from quartier.web.deps import context
from quartier.web.portal.console_common import (
    Caller,
    ConsoleRoute,
    console,
    require,
    signed_in,
)

router = APIRouter(
    include_in_schema=False,
    default_response_class=HTMLResponse,
    route_class=ConsoleRoute,
)


@router.get("/console/reference")
def reference_page(request: Request, who: Caller) -> HTMLResponse:
    pg = signed_in(request, who)
    require(access.can_edit_reference(pg.who), "reference list: administrators only")
    custom, docs = service.documents(context(request).store)
    return console(
        pg,
        "reference.html",
        "reference",
        custom=custom,
        entries=[_form(d) for d in docs],
        blank=_form({}),
    )


def _form(doc: dict[str, Any]) -> dict[str, Any]:
    """An entry's document as the edit form's fields."""

    def text(name: str, lang: str) -> str:
        value = doc.get(name, "")
        return str(value.get(lang, "") if isinstance(value, dict) else value or "")

    return {
        "key": doc.get("key", ""),
        "title": text("title", "fr"),
        "title_en": text("title", "en"),
        "why": text("why", "fr"),
        "why_en": text("why", "en"),
        "category": doc.get("category", "both"),
        "geometry": doc.get("geometry", "any"),
        "frequency_days": doc.get("frequency_days", 365),
        "keywords": ", ".join(doc.get("keywords", [])),
        "attributes": "\n".join(", ".join(a) for a in doc.get("attributes", [])),
        "datasets": ", ".join(doc.get("datasets", [])),
    }

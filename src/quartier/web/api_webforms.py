"""``POST /api/forms/{form_id}/submissions``: what the portal's web forms send.

The same multipart body ODK Collect posts to ``/openrosa/submission``
(``xml_submission_file`` and the files), authenticated by the portal session
(with its CSRF token) or an API token, and received by the same service
(:func:`quartier.services.collect.receive`): same checks, same idempotency by
``instanceID``, same pending state for moderation.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from quartier import access
from quartier.errors import InvalidInput
from quartier.services import collect
from quartier.web.api_common import Caller, Ctx
from quartier.web.responses import JSONResponse
from quartier.web.submission_parts import submission_parts

router = APIRouter(prefix="/api", tags=["Forms"], default_response_class=JSONResponse)

_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["xml_submission_file"],
                    "properties": {
                        "xml_submission_file": {"type": "string", "format": "binary"}
                    },
                    "additionalProperties": {"type": "string", "format": "binary"},
                }
            }
        },
    }
}


@router.post(
    "/forms/{form_id}/submissions",
    status_code=201,
    openapi_extra=_BODY,
    responses={200: {"description": "Already received (same instanceID)"}},
)
async def submit(request: Request, ctx: Ctx, who: Caller, form_id: str) -> JSONResponse:
    """Send a submission (the instance XML and its files), as ODK Collect
    does: 201 when new, 200 when this ``instanceID`` was already received
    with the same content, 409 when it was received with other content;
    404 for a form one may not fill (contributors of its organisation and
    up), as for an unknown one."""
    access.require_signed_in(who)
    # a form one may not fill is unknown (404, as OpenRosa): no hint that
    # another organisation has a form with this id
    collect.form_for(ctx.store, who, form_id)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InvalidInput("send multipart/form-data with an xml_submission_file part")
    xml, files = await submission_parts(request)
    if collect.read_instance(xml).form_id != form_id:
        raise InvalidInput(
            f"xml_submission_file: the root element's id is not {form_id!r}"
        )
    received = await run_in_threadpool(collect.receive, ctx.store, who, xml, files)
    sub = received.submission
    body: dict[str, Any] = {
        "instance_id": sub.instance_id,
        "form_id": sub.form_id,
        "status": sub.status.value,
        "created": received.created,
        "attachments": [a.name for a in sub.attachments],
    }
    return JSONResponse(body, status_code=201 if received.created else 200)

"""``/api/forms`` and ``/api/submissions``: forms, what was sent, moderation.

Moderators (admin, steward, moderator of the form's organisation) see every
submission of its forms and review them; a contributor sees the status of
what they sent, with the moderator's note — nothing of anyone else's.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Query, UploadFile
from fastapi import Form as FormField
from fastapi.responses import Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from quartier import access
from quartier.access import Principal
from quartier.domain.forms import Form, Status, Submission
from quartier.errors import InvalidInput, NotFound
from quartier.forms import SUFFIXES
from quartier.services import moderation
from quartier.services.forms import add_form
from quartier.services.moderation import review
from quartier.web.api_common import Base, Body, Caller, Ctx
from quartier.web.responses import JSONResponse

router = APIRouter(prefix="/api", tags=["Forms"], default_response_class=JSONResponse)


class ReviewIn(Body):
    status: Literal["approved", "rejected", "has_issues"]
    note: Annotated[str, Field(max_length=2000)] = ""


def _visible(who: Principal, form: Form) -> bool:
    return access.can_collect(who, form.organisation) or access.can_moderate(
        who, form.organisation
    )


def _form_json(form: Form, base: str, counts: dict[str, int]) -> dict[str, Any]:
    return {
        "form_id": form.form_id,
        "version": form.version,
        "title": form.title,
        "organisation": form.organisation,
        "dataset": form.dataset,
        "campaign": form.campaign,
        "hash": f"md5:{form.md5}",
        "submissions": counts,
        "links": [
            {"rel": "xform", "href": f"{base}/openrosa/forms/{form.form_id}.xml"},
            {
                "rel": "submissions",
                "href": f"{base}/api/forms/{form.form_id}/submissions",
            },
        ],
    }


def _submission_json(sub: Submission, base: str) -> dict[str, Any]:
    return {
        "instance_id": sub.instance_id,
        "form_id": sub.form_id,
        "form_version": sub.form_version,
        "submitter": sub.submitter,
        "status": sub.status.value,
        "received": sub.received,
        "updated": sub.updated,
        "reviewer": sub.reviewer,
        "note": sub.note,
        "attachments": [
            {
                "name": a.name,
                "type": a.content_type,
                "size": a.size,
                "href": f"{base}/api/submissions/{sub.instance_id}/files/{a.name}",
            }
            for a in sub.attachments
        ],
    }


@router.get("/forms")
def list_forms(ctx: Ctx, who: Caller, base: Base) -> dict[str, Any]:
    """The forms the caller may fill or moderate, with submissions by status."""
    access.require_signed_in(who)
    out = []
    for form in ctx.store.list_forms():
        if not _visible(who, form):
            continue
        counts: dict[str, int] = {}
        if access.can_moderate(who, form.organisation):
            for sub in ctx.store.list_submissions(form_id=form.form_id, limit=None):
                counts[sub.status.value] = counts.get(sub.status.value, 0) + 1
        out.append(_form_json(form, base, counts))
    return {"forms": out}


OrgField = Annotated[str, FormField(pattern=r"^[a-z][a-z0-9_]{0,47}$", max_length=48)]
OptSlug = Annotated[
    str | None, FormField(pattern=r"^[a-z][a-z0-9_]{0,47}$", max_length=48)
]


@router.post("/forms", status_code=201)
async def upload_form(
    ctx: Ctx,
    who: Caller,
    base: Base,
    file: Annotated[UploadFile, File(description="Le XLSForm (.xlsx, .xls)")],
    organisation: OrgField,
    dataset: OptSlug = None,
    campaign: Annotated[str | None, FormField(max_length=100)] = None,
) -> JSONResponse:
    """Publish an XLSForm (converted with pyxform; a broken form is refused
    naming its sheet, row and reason). ODK Collect then finds it in
    ``/openrosa/formList``."""
    access.require_signed_in(who)
    name = Path(file.filename or "formulaire.xlsx").name
    if Path(name).suffix.lower() not in SUFFIXES:
        raise InvalidInput(f"{name}: an XLSForm is an .xlsx or .xls workbook")
    data = await file.read()
    with tempfile.TemporaryDirectory(prefix="quartier-form-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        form, new, warnings = await run_in_threadpool(
            add_form,
            ctx.store,
            path,
            organisation=organisation,
            actor=who,
            dataset=dataset,
            campaign=campaign,
        )
    body = _form_json(form, base, {}) | {"new": new, "warnings": list(warnings)}
    return JSONResponse(body, status_code=201 if new else 200)


@router.get("/forms/{form_id}/submissions")
def form_submissions(
    ctx: Ctx,
    who: Caller,
    base: Base,
    form_id: str,
    status: Annotated[Status | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Moderators: every submission; contributors: their own."""
    access.require_signed_in(who)
    form = ctx.store.get_form(form_id)
    if not _visible(who, form):
        raise NotFound(f"no form {form_id!r}")
    mine = None if access.can_moderate(who, form.organisation) else who.label
    subs = ctx.store.list_submissions(
        form_id=form_id, status=status, submitter=mine, limit=limit, offset=offset
    )
    return {"submissions": [_submission_json(s, base) for s in subs]}


@router.get("/submissions/mine")
def my_submissions(ctx: Ctx, who: Caller, base: Base) -> dict[str, Any]:
    """What the caller sent, with its status and the moderator's note."""
    access.require_signed_in(who)
    subs = ctx.store.list_submissions(submitter=who.label, limit=500)
    return {"submissions": [_submission_json(s, base) for s in subs]}


def _readable(ctx: Any, who: Principal, instance_id: str) -> Submission:
    sub = ctx.store.get_submission(instance_id)
    form = ctx.store.get_form(sub.form_id, sub.form_version)
    if sub.submitter != who.label and not access.can_moderate(who, form.organisation):
        raise NotFound(f"no submission {instance_id!r}")
    return sub  # type: ignore[no-any-return]


@router.get("/submissions/{instance_id}")
def one_submission(
    ctx: Ctx, who: Caller, base: Base, instance_id: str
) -> dict[str, Any]:
    access.require_signed_in(who)
    sub = _readable(ctx, who, instance_id)
    form = ctx.store.get_form(sub.form_id, sub.form_version)
    said = [
        {"path": a.path, "label": a.label, "value": a.value}
        for a in moderation.answers(form, sub)
    ]
    return _submission_json(sub, base) | {"xml": sub.xml, "answers": said}


@router.get("/submissions/{instance_id}/files/{name}")
def submission_file(ctx: Ctx, who: Caller, instance_id: str, name: str) -> Response:
    access.require_signed_in(who)
    _readable(ctx, who, instance_id)
    meta, data = ctx.store.get_attachment(instance_id, name)
    return Response(
        data,
        media_type=meta.content_type,
        headers={
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private",
            # a file someone sent: downloaded, never run in the portal's origin
            "Content-Disposition": f'attachment; filename="{_safe_name(name)}"',
            "Content-Security-Policy": "sandbox; default-src 'none'",
        },
    )


@router.post("/submissions/{instance_id}/review")
def review_submission(
    body: ReviewIn, ctx: Ctx, who: Caller, base: Base, instance_id: str
) -> dict[str, Any]:
    """Approve (into the target dataset, as a new version), reject (with a
    reason for the contributor) or flag as having issues."""
    access.require_signed_in(who)
    _readable(ctx, who, instance_id)
    done = review(ctx.store, who, instance_id, Status(body.status), body.note)
    out = _submission_json(done.submission, base)
    if done.version is not None:
        out["dataset_version"] = {
            "dataset": done.version.dataset,
            "version": done.version.version,
        }
    return out


def _safe_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[:100]

"""``/api/imports`` (uploads, run as background jobs) and ``/api/jobs``.

The request size is limited while it streams by the application
(``max_upload_mb``: 413 as soon as the body is larger, before a route runs);
the file is then checked (name, format, first bytes) and the caller's right
to create or change the target dataset decided before the job is queued.
"""

from __future__ import annotations

import shutil
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Path, UploadFile

from quartier import access
from quartier.access import Principal
from quartier.domain import AccessLevel
from quartier.errors import InvalidInput
from quartier.services import uploads
from quartier.services.importer import ImportOptions
from quartier.services.jobs import Job
from quartier.web.api_common import SLUG, Base, Caller, Ctx, jobs_of, link
from quartier.web.context import AppContext
from quartier.web.responses import JSONResponse

router = APIRouter(prefix="/api", tags=["Imports"], default_response_class=JSONResponse)
Text = Annotated[str | None, Form(max_length=300)]
LongText = Annotated[str | None, Form(max_length=5000)]
OrgField = Annotated[str | None, Form(pattern=SLUG, max_length=48)]


@router.post("/imports", status_code=202)
def start_import(
    ctx: Ctx,
    who: Caller,
    base: Base,
    file: Annotated[UploadFile, File(description="Le fichier à importer")],
    dataset: Annotated[
        str | None,
        Form(
            pattern=SLUG,
            description="Jeu de données visé (défaut : nommé d'après le fichier). "
            "S'il existe, le fichier en devient une nouvelle version.",
        ),
    ] = None,
    layer: Text = None,
    title: Text = None,
    theme: Text = None,
    access_level: Annotated[AccessLevel | None, Form(alias="access")] = None,
    licence: Text = None,
    attribution: LongText = None,
    producer: OrgField = None,
    steward: OrgField = None,
    key_field: Text = None,
    join_by: Annotated[Literal["code", "name"] | None, Form()] = None,
    join_column: Text = None,
    message: LongText = None,
) -> JSONResponse:
    """Upload a file to import: a new dataset, or a new version of one.

    Title, theme, access, licence, attribution, producer, steward and key
    field describe a *new* dataset; for an existing one they are ignored
    (change metadata with ``PATCH /api/datasets/{slug}``). Answers ``202``
    with the job to follow; sending the same file again for the same
    dataset adds no version.
    """
    p = access.require_signed_in(who)
    options = ImportOptions(
        layer=layer,
        title=title,
        theme=theme,
        access=access_level.value if access_level else None,
        licence=licence,
        attribution=attribution,
        producer=producer,
        steward=steward,
        key_field=key_field,
        join_by=join_by,
        join_column=join_column,
        message=message or "",
        author=p.label,
    )
    _no_nul(options)
    name = uploads.safe_name(file.filename)
    options.dataset = uploads.target_slug(ImportOptions(dataset=dataset), name)
    uploads.authorise(ctx.store, p, options.dataset, producer)
    job = _queue(ctx, p, file, name, options)
    url = f"{base}/api/jobs/{job.id}"
    return JSONResponse(_job(job, base), status_code=202, headers={"Location": url})


def _queue(
    ctx: AppContext, p: Principal, file: UploadFile, name: str, options: ImportOptions
) -> Job:
    folder = uploads.new_folder()
    try:
        path, checksum = uploads.save(
            file.file, folder, name, max_bytes=ctx.settings.max_upload_mb * 2**20
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return uploads.start_import(
        ctx.store,
        jobs_of(ctx),
        p,
        folder=folder,
        path=path,
        checksum=checksum,
        options=options,
    )


def _no_nul(options: ImportOptions) -> None:
    for key, value in vars(options).items():
        if isinstance(value, str) and "\x00" in value:
            raise InvalidInput(f"{key}: must not contain NUL characters")


JobId = Annotated[str, Path(pattern=r"^[0-9a-f]{16}$", description="Identifiant")]


@router.get("/jobs")
def list_jobs(ctx: Ctx, who: Caller, base: Base) -> dict[str, Any]:
    """Your background jobs, newest first (as long as this server process runs)."""
    p = access.require_signed_in(who)
    return {"jobs": [_job(j, base) for j in jobs_of(ctx).list(p)]}


@router.get("/jobs/{job_id}")
def get_job(job_id: JobId, ctx: Ctx, who: Caller, base: Base) -> dict[str, Any]:
    """Status (queued, running, done, failed), progress, report or error."""
    p = access.require_signed_in(who)
    return _job(jobs_of(ctx).get(job_id, p), base)


def _job(job: Job, base: str) -> dict[str, Any]:
    out = job.to_dict()
    links = [link(f"{base}/api/jobs/{job.id}", "self", "application/json")]
    if job.target and job.status == "done":
        links.append(
            link(f"{base}/api/datasets/{job.target}", "dataset", "application/json")
        )
    out["links"] = links
    return out

"""Copy a whole workspace between stores, history included."""

from __future__ import annotations

from collections.abc import Callable

from quartier.errors import Conflict, NotFound
from quartier.storage.base import SqlStore

Step = Callable[[str, int], None]
#: platform tables copied row for row (residents' reports, campaigns)
ROW_TABLES = (
    "reports",
    "report_events",
    "report_photos",
    "campaigns",
    "campaign_cells",
    "campaign_events",
    "agreements",
    "objectives",
    "roadmap",
    "programme_events",
    "capacities",
    "access_requests",
    "reference_entries",
)


def migrate(source: SqlStore, target: SqlStore, *, on_step: Step | None = None) -> int:
    """Copy workspace, organisations, every version of every dataset, users
    (with their roles, hashed passwords and tokens), webhooks, forms and
    submissions, residents' reports, campaigns and the audit log.

    Versions are replayed in order with their original dates, so the target
    holds the same history (same counts, same changes, same geometries).
    Returns the number of versions copied. The target must be empty.
    """
    if target.list_datasets():
        raise Conflict(
            f"{target.url} already holds datasets; migrate into an empty workspace"
        )
    try:
        target.set_workspace(source.get_workspace())
    except NotFound:
        pass
    known = {o.slug for o in target.list_organisations()}
    for org in source.list_organisations():
        if org.slug not in known:
            target.add_organisation(org)
    copied = 0
    for ds in source.list_datasets():
        target.create_dataset(ds)
        for v in source.list_versions(ds.slug):
            target.write_version(
                ds.slug,
                (
                    b.drop_columns(["fid"])
                    for b in source.read_batches(ds.slug, version=v.version)
                ),
                fields=list(v.fields),
                message=v.message,
                source=v.source,
                checksum=v.checksum,
                author=v.author,
                restored_from=v.restored_from,
                created=v.created,
                geometry_type=ds.geometry_type,
            )
            copied += 1
            if on_step:
                on_step(ds.slug, v.version)
    target.load_accounts(source.dump_accounts())
    _copy_forms(source, target)
    target.load_rows(source.dump_rows(ROW_TABLES))
    for entry in reversed(source.list_audit(limit=None)):
        target.audit(
            actor=entry["actor"],
            action=entry["action"],
            target=entry["target"],
            detail=entry["detail"],
            at=entry["at"],
        )
    target.audit(
        actor="cli",
        action="migrate",
        target=target.url,
        detail={"from": source.url, "versions": copied},
    )
    return copied


def _copy_forms(source: SqlStore, target: SqlStore) -> None:
    """Every form version with its media, every submission with its files
    and its moderation state."""
    for latest in source.list_forms():
        for form in source.list_form_versions(latest.form_id):
            target.add_form(form)
            for name in form.media:
                try:
                    kind, data = source.get_form_media(form.form_id, form.version, name)
                except NotFound:
                    continue
                target.put_form_media(form.form_id, form.version, name, kind, data)
    for sub in reversed(source.list_submissions(limit=None)):
        files = []
        for a in sub.attachments:
            _, data = source.get_attachment(sub.instance_id, a.name)
            files.append((a.name, a.content_type, data))
        target.add_submission(sub, files)
        if sub.status.value != "pending" or sub.reviewer:
            target.set_submission_status(
                sub.instance_id,
                sub.status,
                reviewer=sub.reviewer,
                note=sub.note,
                at=sub.updated,
            )

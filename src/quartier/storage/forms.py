"""Forms, their media, submissions and attachments (both stores).

A mixin of :class:`~quartier.storage.base.SqlStore`. A submission and its
attachments are written in one transaction, so an accepted submission is
whole and durable; its ``instance_id`` makes a repeat change nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any

import sqlalchemy as sa

from quartier.domain.forms import Attachment, Form, Status, Submission
from quartier.errors import Conflict, NotFound
from quartier.storage import schema as s

#: (name, content type, bytes) of a file sent with a submission
File = tuple[str, str, bytes]


class FormsMixin:
    def _read(self) -> AbstractContextManager[sa.Connection]:
        raise NotImplementedError  # supplied by SqlStore

    def _write(self) -> AbstractContextManager[sa.Connection]:
        raise NotImplementedError  # supplied by SqlStore

    # ------------------------------------------------------------------ forms
    def add_form(self, form: Form, media: Sequence[File] = ()) -> tuple[Form, bool]:
        """Store a form version with its media files (name, content type,
        bytes), in one transaction; (form, True) if new. The same version
        again with the same XML is no change; with other XML, a conflict."""
        with self._write() as conn:
            owner = conn.execute(
                sa.select(s.forms.c.organisation)
                .where(s.forms.c.form_id == form.form_id)
                .limit(1)
            ).first()
            if owner is not None and owner[0] != form.organisation:
                raise Conflict(
                    f"form id {form.form_id!r} belongs to organisation {owner[0]!r}: "
                    "give this form another form_id (settings sheet)"
                )
            row = conn.execute(
                sa.select(s.forms.c.md5).where(
                    (s.forms.c.form_id == form.form_id)
                    & (s.forms.c.version == form.version)
                )
            ).first()
            if row is not None:
                if row[0] != form.md5:
                    raise Conflict(
                        f"form {form.form_id!r} version {form.version!r} exists "
                        "with other content: give the new form a new version "
                        "(settings sheet, column version)"
                    )
                return self.get_form(form.form_id, form.version), False
            conn.execute(
                s.forms.insert().values(
                    form_id=form.form_id,
                    version=form.version,
                    title=form.title,
                    xml=form.xml,
                    md5=form.md5,
                    organisation=form.organisation,
                    dataset=form.dataset,
                    mapping=json.dumps(form.mapping, ensure_ascii=False),
                    campaign=form.campaign,
                    media=json.dumps(form.media),
                    created=form.created,
                    author=form.author,
                )
            )
            for name, content_type, data in media:
                conn.execute(
                    s.form_media.insert().values(
                        form_id=form.form_id,
                        version=form.version,
                        name=name,
                        md5=hashlib.md5(data).hexdigest(),  # noqa: S324 (OpenRosa)
                        content_type=content_type,
                        data=data,
                    )
                )
        return form, True

    def get_form(self, form_id: str, version: str | None = None) -> Form:
        """A form version (default: the latest added)."""
        query = sa.select(s.forms).where(s.forms.c.form_id == form_id)
        if version is not None:
            query = query.where(s.forms.c.version == version)
        query = query.order_by(s.forms.c.created.desc(), s.forms.c.version.desc())
        with self._read() as conn:
            row = conn.execute(query.limit(1)).mappings().first()
        if row is None:
            what = f"form {form_id!r}" + (f" version {version!r}" if version else "")
            raise NotFound(f"no {what}")
        return _form(row)

    def list_forms(self) -> list[Form]:
        """The latest version of every form, by form id."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(s.forms).order_by(
                    s.forms.c.form_id, s.forms.c.created, s.forms.c.version
                )
            ).mappings()
            latest = {row["form_id"]: _form(row) for row in rows}
        return list(latest.values())

    def list_form_versions(self, form_id: str) -> list[Form]:
        with self._read() as conn:
            rows = conn.execute(
                sa.select(s.forms)
                .where(s.forms.c.form_id == form_id)
                .order_by(s.forms.c.created, s.forms.c.version)
            ).mappings()
            return [_form(r) for r in rows]

    def put_form_media(
        self, form_id: str, version: str, name: str, content_type: str, data: bytes
    ) -> None:
        md5 = hashlib.md5(data).hexdigest()  # noqa: S324 (OpenRosa's hash)
        key = (
            (s.form_media.c.form_id == form_id)
            & (s.form_media.c.version == version)
            & (s.form_media.c.name == name)
        )
        with self._write() as conn:
            conn.execute(s.form_media.delete().where(key))
            conn.execute(
                s.form_media.insert().values(
                    form_id=form_id,
                    version=version,
                    name=name,
                    md5=md5,
                    content_type=content_type,
                    data=data,
                )
            )

    def get_form_media(
        self, form_id: str, version: str, name: str
    ) -> tuple[str, bytes]:
        with self._read() as conn:
            row = conn.execute(
                sa.select(s.form_media.c.content_type, s.form_media.c.data).where(
                    (s.form_media.c.form_id == form_id)
                    & (s.form_media.c.version == version)
                    & (s.form_media.c.name == name)
                )
            ).first()
        if row is None:
            raise NotFound(f"form {form_id!r} has no media file {name!r}")
        return str(row[0]), bytes(row[1])

    # ------------------------------------------------------------ submissions
    def add_submission(
        self, sub: Submission, files: Iterable[File] = ()
    ) -> tuple[Submission, bool]:
        """Store a submission and its files in one transaction; (stored, new).

        The same ``instance_id`` again with the same XML adds only the files
        not yet stored (a submission split over several requests) and is
        otherwise no change; with other XML it is a conflict.
        """
        files = list(files)
        try:
            return self._add_submission(sub, files)
        except sa.exc.IntegrityError:
            # the same instance sent twice at once: the other request won the
            # insert; this one now finds it (and adds its files if any)
            return self._add_submission(sub, files)

    def _add_submission(
        self, sub: Submission, files: list[File]
    ) -> tuple[Submission, bool]:
        with self._write() as conn:
            row = conn.execute(
                sa.select(
                    s.submissions.c.xml,
                    s.submissions.c.submitter,
                    s.submissions.c.status,
                ).where(s.submissions.c.instance_id == sub.instance_id)
            ).first()
            new = row is None
            if row is not None and (row[0] != sub.xml or row[1] != sub.submitter):
                raise Conflict(
                    f"a different submission with instanceID {sub.instance_id!r} "
                    "was already received"
                )
            if row is not None and row[2] != Status.PENDING.value:
                files = []  # reviewed: its files are final
            if new:
                conn.execute(
                    s.submissions.insert().values(
                        instance_id=sub.instance_id,
                        form_id=sub.form_id,
                        form_version=sub.form_version,
                        xml=sub.xml,
                        submitter=sub.submitter,
                        status=sub.status.value,
                        received=sub.received,
                        updated=sub.received,
                        reviewer="",
                        note="",
                    )
                )
            stored = {
                r[0]
                for r in conn.execute(
                    sa.select(s.attachments.c.name).where(
                        s.attachments.c.instance_id == sub.instance_id
                    )
                )
            }
            for name, content_type, data in files:
                if name in stored:
                    continue
                stored.add(name)
                conn.execute(
                    s.attachments.insert().values(
                        instance_id=sub.instance_id,
                        name=name,
                        content_type=content_type,
                        size=len(data),
                        sha256=hashlib.sha256(data).hexdigest(),
                        data=data,
                    )
                )
        return self.get_submission(sub.instance_id), new

    def get_submission(self, instance_id: str) -> Submission:
        with self._read() as conn:
            row = (
                conn.execute(
                    sa.select(s.submissions).where(
                        s.submissions.c.instance_id == instance_id
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                raise NotFound(f"no submission {instance_id!r}")
            files = _attachments(conn, [instance_id])
        return _submission(row, files.get(instance_id, ()))

    def list_submissions(
        self,
        *,
        form_id: str | None = None,
        status: Status | None = None,
        submitter: str | None = None,
        limit: int | None = 100,
        offset: int = 0,
    ) -> list[Submission]:
        """Newest first, filtered in SQL."""
        query = sa.select(s.submissions)
        if form_id is not None:
            query = query.where(s.submissions.c.form_id == form_id)
        if status is not None:
            query = query.where(s.submissions.c.status == status.value)
        if submitter is not None:
            query = query.where(s.submissions.c.submitter == submitter)
        query = query.order_by(
            s.submissions.c.received.desc(), s.submissions.c.instance_id
        ).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        with self._read() as conn:
            rows = list(conn.execute(query).mappings())
            files = _attachments(conn, [r["instance_id"] for r in rows])
        return [_submission(r, files.get(r["instance_id"], ())) for r in rows]

    def count_submissions(self, form_id: str) -> int:
        with self._read() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count()).where(s.submissions.c.form_id == form_id)
                ).scalar_one()
            )

    def set_submission_status(
        self, instance_id: str, status: Status, *, reviewer: str, note: str, at: str
    ) -> Submission:
        with self._write() as conn:
            # an approved submission is final: two moderators at once, one wins
            done = conn.execute(
                s.submissions.update()
                .where(
                    (s.submissions.c.instance_id == instance_id)
                    & (s.submissions.c.status != Status.APPROVED.value)
                )
                .values(status=status.value, reviewer=reviewer, note=note, updated=at)
            )
            if done.rowcount == 0:
                self.get_submission(instance_id)  # NotFound when there is none
                raise Conflict(f"submission {instance_id!r} is already approved")
        return self.get_submission(instance_id)

    def get_attachment(self, instance_id: str, name: str) -> tuple[Attachment, bytes]:
        with self._read() as conn:
            row = (
                conn.execute(
                    sa.select(s.attachments).where(
                        (s.attachments.c.instance_id == instance_id)
                        & (s.attachments.c.name == name)
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(f"submission {instance_id!r} has no file {name!r}")
        return _attachment(row), bytes(row["data"])


def _form(row: Any) -> Form:
    return Form(
        form_id=row["form_id"],
        version=row["version"],
        title=row["title"],
        xml=row["xml"],
        md5=row["md5"],
        organisation=row["organisation"] or "",
        dataset=row["dataset"],
        mapping=json.loads(row["mapping"] or "{}"),
        campaign=row["campaign"],
        created=row["created"],
        author=row["author"],
        media=json.loads(row["media"] or "{}"),
    )


def _attachment(row: Any) -> Attachment:
    return Attachment(row["name"], row["content_type"], row["size"], row["sha256"])


def _attachments(
    conn: sa.Connection, ids: list[str]
) -> dict[str, tuple[Attachment, ...]]:
    if not ids:
        return {}
    rows = conn.execute(
        sa.select(
            s.attachments.c.instance_id,
            s.attachments.c.name,
            s.attachments.c.content_type,
            s.attachments.c.size,
            s.attachments.c.sha256,
        )
        .where(s.attachments.c.instance_id.in_(ids))
        .order_by(s.attachments.c.instance_id, s.attachments.c.name)
    ).mappings()
    out: dict[str, list[Attachment]] = {}
    for r in rows:
        out.setdefault(r["instance_id"], []).append(_attachment(r))
    return {k: tuple(v) for k, v in out.items()}


def _submission(row: Any, files: tuple[Attachment, ...]) -> Submission:
    return Submission(
        instance_id=row["instance_id"],
        form_id=row["form_id"],
        form_version=row["form_version"],
        xml=row["xml"],
        submitter=row["submitter"],
        status=Status(row["status"]),
        received=row["received"],
        updated=row["updated"],
        reviewer=row["reviewer"],
        note=row["note"],
        attachments=files,
    )

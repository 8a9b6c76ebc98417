"""Forms (XLSForm → XForm) and the submissions they collect: dataclasses and rules.

A form has versions; each is kept (a submission names the version it was
filled with). A submission is identified by its ``instanceID`` — the
idempotency key: sending it again changes nothing — and moves through the
moderation states below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from quartier.errors import InvalidInput

_FORM_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,99}$")
_INSTANCE_ID = re.compile(r"^(uuid:)?[A-Za-z0-9_.:-]{1,200}$")


class Status(StrEnum):
    """Where a submission stands in moderation."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    HAS_ISSUES = "has_issues"


@dataclass(frozen=True)
class Form:
    form_id: str
    version: str
    title: str
    xml: str
    #: hex MD5 of ``xml`` (OpenRosa announces ``md5:<hex>``)
    md5: str
    #: the organisation responsible (its moderators review submissions)
    organisation: str
    #: the dataset approved submissions flow into, and form path → field
    dataset: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    campaign: str | None = None
    created: str = ""
    author: str = ""
    #: media files the form references (name → md5 hex)
    media: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Attachment:
    name: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Submission:
    instance_id: str
    form_id: str
    form_version: str
    xml: str
    submitter: str
    status: Status = Status.PENDING
    received: str = ""
    updated: str = ""
    reviewer: str = ""
    note: str = ""
    attachments: tuple[Attachment, ...] = ()


def check_form_id(form_id: str) -> str:
    """A form id as OpenRosa clients and URLs take it.

    >>> check_form_id("profil_quartier")
    'profil_quartier'
    """
    if not _FORM_ID.match(form_id):
        raise InvalidInput(
            f"form id {form_id!r}: letters, digits, '_', '.', '-' (≤ 100), "
            "starting with a letter or '_'"
        )
    return form_id


def check_instance_id(instance_id: str) -> str:
    """An ``instanceID`` (``uuid:…`` as ODK Collect makes them).

    >>> check_instance_id("uuid:6c1b8f3e-1d7a-4d55-9f0e-2b7f7a3d9e10")
    'uuid:6c1b8f3e-1d7a-4d55-9f0e-2b7f7a3d9e10'
    """
    if not _INSTANCE_ID.match(instance_id):
        raise InvalidInput(f"instanceID {instance_id[:80]!r} is not a valid identifier")
    return instance_id

"""Collecting data with forms: which forms a person may fill, and receiving
what they send (ODK Collect over OpenRosa, the portal's web forms).

A submission is checked before anything is stored — well-formed XML (parsed
with defusedxml), a known form and version, an ``instanceID``, files within
the size and type limits — then stored whole with its files in one
transaction (:meth:`~quartier.storage.forms.FormsMixin.add_submission`): an
accepted submission is durable, and the same ``instanceID`` again changes
nothing. Every submission arrives ``pending``, for the form's moderators.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeXML
from defusedxml import DefusedXmlException

from quartier import access
from quartier.access import Principal
from quartier.domain.forms import Form, Submission, check_instance_id
from quartier.errors import InvalidInput, NotFound, PermissionDenied, TooLarge
from quartier.storage.base import SqlStore
from quartier.storage.forms import File

#: one file of a submission, and all its files together (bytes)
MAX_FILE = 10 * 2**20
MAX_TOTAL = 50 * 2**20
#: content types a submission's files may have (ODK sends these); never SVG,
#: HTML or XML, which a browser would run
ALLOWED_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/gif",
        "audio/mpeg",
        "audio/mp4",
        "audio/ogg",
        "audio/amr",
        "audio/3gpp",
        "audio/x-wav",
        "audio/wav",
        "video/mp4",
        "video/3gpp",
        "video/webm",
        "application/pdf",
        "text/csv",
    }
)


@dataclass(frozen=True)
class Instance:
    """What a submission's XML says about itself."""

    form_id: str
    version: str
    instance_id: str
    xml: str


@dataclass(frozen=True)
class Received:
    submission: Submission
    #: False when this instanceID had already been received (nothing changed)
    created: bool


def forms_for(store: SqlStore, who: Principal) -> list[Form]:
    """The forms ``who`` may fill: those of organisations where they collect."""
    return [f for f in store.list_forms() if access.can_collect(who, f.organisation)]


def form_for(store: SqlStore, who: Principal, form_id: str) -> Form:
    """A form ``who`` may fill; one they may not is unknown to them."""
    try:
        form = store.get_form(form_id)
    except NotFound:
        raise NotFound(f"no form {form_id!r}") from None
    if not access.can_collect(who, form.organisation):
        raise NotFound(f"no form {form_id!r}")
    return form


def read_instance(data: bytes) -> Instance:
    """The form id, version and instanceID of a submission's XML."""
    try:
        root = SafeXML.fromstring(data)
        text = data.decode("utf-8")
    except (SafeXML.ParseError, DefusedXmlException, ValueError) as e:
        raise InvalidInput(
            f"xml_submission_file: not well-formed UTF-8 XML ({e})"
        ) from None
    form_id = root.get("id")
    if not form_id:
        raise InvalidInput(
            "xml_submission_file: the root element has no id attribute (the form id)"
        )
    instance_id = _instance_id(root)
    if not instance_id:
        raise InvalidInput("xml_submission_file: no meta/instanceID")
    check_instance_id(instance_id)
    return Instance(form_id, root.get("version") or "", instance_id, text)


def _instance_id(root: Element) -> str:
    for element in root.iter():
        if _local(element.tag) == "meta":
            for child in element:
                if _local(child.tag) in ("instanceID", "instanceId"):
                    return (child.text or "").strip()
    return ""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def receive(
    store: SqlStore,
    who: Principal,
    xml: bytes,
    files: list[File],
    *,
    now: str | None = None,
) -> Received:
    """Check, then store a submission and its files (all or nothing)."""
    access.require_signed_in(who)
    instance = read_instance(xml)
    form = form_for(store, who, instance.form_id)
    if instance.version and instance.version != form.version:
        try:
            store.get_form(instance.form_id, instance.version)
        except NotFound:
            raise InvalidInput(
                f"form {instance.form_id!r} has no version {instance.version!r}: "
                "get the form again on the device"
            ) from None
    _check_files(files)
    received = now or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    sub = Submission(
        instance_id=instance.instance_id,
        form_id=instance.form_id,
        form_version=instance.version or form.version,
        xml=instance.xml,
        submitter=who.label,
        received=received,
    )
    stored, created = store.add_submission(sub, files)
    if created:
        store.audit(
            actor=who.label,
            action="submission.received",
            target=f"{sub.form_id}/{sub.instance_id}",
            detail={"files": len(stored.attachments)},
        )
    return Received(stored, created)


def _check_files(files: list[File]) -> None:
    total = 0
    for name, content_type, data in files:
        if not name or "/" in name or "\\" in name or name.startswith("."):
            raise InvalidInput(f"attachment name {name!r}: a plain file name is needed")
        if content_type.split(";")[0].strip().lower() not in ALLOWED_TYPES:
            raise InvalidInput(
                f"attachment {name!r}: type {content_type!r} not accepted "
                "(images, audio, video, PDF, CSV)"
            )
        if len(data) > MAX_FILE:
            raise TooLarge(
                f"attachment {name!r}: {len(data) / 2**20:.1f} MB, "
                f"over the {MAX_FILE // 2**20} MB limit"
            )
        total += len(data)
    if total > MAX_TOTAL:
        raise TooLarge(
            f"attachments: {total / 2**20:.1f} MB in all, over the "
            f"{MAX_TOTAL // 2**20} MB limit"
        )


def require_moderator(who: Principal, form: Form) -> None:
    if not access.can_moderate(who, form.organisation):
        raise PermissionDenied(
            f"{who.label} may not moderate form {form.form_id!r}: it takes an admin, "
            "steward or moderator role in its organisation"
        )

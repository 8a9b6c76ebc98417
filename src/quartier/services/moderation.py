"""Moderation: moderators of a form's organisation review its submissions.

``approved`` puts the submission into the form's target dataset as a **new
version** (the dataset's history is kept; the feature carries the
submission's ``submission_id``, so approving again never adds it twice);
``rejected`` needs a reason, which the contributor sees; ``has_issues``
keeps it aside with comments. An approved submission is final. Nobody
reviews what they sent themselves (four eyes), except an administrator.

Values are read from the submission's XML by the form's mapping (form path
→ dataset field) and converted to the field's type; a geometry question
gives the geometry (ODK writes ``lat lon altitude accuracy``, points
separated by ``;`` for traces and shapes).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeXML
import pyarrow as pa
import shapely

from quartier import access
from quartier.access import Principal
from quartier.domain import Field, FieldType
from quartier.domain.catalogue import Version
from quartier.domain.fieldtypes import ARROW_TYPES
from quartier.domain.forms import Form, Status, Submission
from quartier.errors import Conflict, InvalidInput, PermissionDenied, StaleVersion
from quartier.forms.xform import read_xform
from quartier.services.collect import require_moderator
from quartier.storage.base import SqlStore

#: the field approved features carry: which submission they came from
SUBMISSION_FIELD = "submission_id"
#: the dataset field type of an XForm question type (others: text)
FIELD_OF = {
    "int": FieldType.INTEGER,
    "decimal": FieldType.REAL,
    "date": FieldType.DATE,
    "dateTime": FieldType.DATETIME,
}
#: approvals into one dataset at the same moment: each re-reads and retries
ATTEMPTS = 8


@dataclass(frozen=True)
class Review:
    submission: Submission
    #: the dataset version the approval wrote (None: nothing written)
    version: Version | None = None


def review(
    store: SqlStore,
    who: Principal,
    instance_id: str,
    status: Status,
    note: str = "",
    *,
    now: str | None = None,
) -> Review:
    sub = store.get_submission(instance_id)
    form = store.get_form(sub.form_id, sub.form_version)
    require_moderator(who, form)
    if not access.can_review(who, form.organisation, sub.submitter):
        raise PermissionDenied(
            "you sent this submission: another moderator of "
            f"{form.organisation!r} reviews it (four eyes)"
        )
    if sub.status is Status.APPROVED:
        raise Conflict(f"submission {instance_id!r} is already approved")
    if status is Status.PENDING:
        raise InvalidInput("a review sets approved, rejected or has_issues")
    if status is Status.REJECTED and not note.strip():
        raise InvalidInput("a rejection needs a reason, sent back to the contributor")
    at = now or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    version = None
    if status is Status.APPROVED and form.dataset:
        for attempt in range(ATTEMPTS):
            try:
                version = approve_into(store, form, sub, who)
                break
            except StaleVersion:
                # another approval (or import) landed meanwhile: rebuild on it
                if attempt == ATTEMPTS - 1:
                    raise
    done = store.set_submission_status(
        instance_id, status, reviewer=who.label, note=note.strip(), at=at
    )
    store.audit(
        actor=who.label,
        action=f"submission.{status.value}",
        target=f"{sub.form_id}/{instance_id}",
        detail={
            "dataset": form.dataset,
            "version": version.version if version else None,
        },
    )
    return Review(done, version)


def approve_into(
    store: SqlStore, form: Form, sub: Submission, who: Principal
) -> Version | None:
    """The dataset's current features plus this submission's, as a new
    version — unless a feature of this submission is already there."""
    assert form.dataset is not None
    ds = store.get_dataset(form.dataset)
    owners = {ds.producer, ds.steward}
    if form.organisation not in owners and not access.can_write(who, ds):
        raise PermissionDenied(
            f"form {form.form_id!r} of {form.organisation!r} may not feed dataset "
            f"{ds.slug!r}: it belongs to other organisations"
        )
    base = ds.current_version
    current = store.get_version(ds.slug, base) if base else None
    fields = list(current.fields) if current else []
    batches = list(store.read_batches(ds.slug)) if current else []
    table = pa.Table.from_batches(batches) if batches else None
    if table is not None and SUBMISSION_FIELD in table.column_names:
        if sub.instance_id in set(table.column(SUBMISSION_FIELD).to_pylist()):
            return None  # approved before (a retry): nothing to add
    if SUBMISSION_FIELD not in {f.name for f in fields}:
        fields.append(Field(SUBMISSION_FIELD, FieldType.TEXT))
    # a dataset made for the form gets its fields with the first approval,
    # typed by the form's questions
    have = {f.name for f in fields}
    xform = {q.path: q.type for q in read_xform(form.xml).fields}
    for path, target in form.mapping.items():
        if target != "geometry" and target not in have:
            fields.append(
                Field(target, FIELD_OF.get(xform.get(path, ""), FieldType.TEXT))
            )
            have.add(target)
    values = read_values(sub.xml)
    row: dict[str, object] = {SUBMISSION_FIELD: sub.instance_id}
    types = {f.name: f.type for f in fields}
    geometry = None
    for path, target in form.mapping.items():
        text = values.get(_relative(path))
        if target == "geometry":
            geometry = _geometry(text, ds.geometry_type) if text else None
        elif target in types and text not in (None, ""):
            row[target] = _value(text, types[target], target)
    if ds.kind == "features" and geometry is None:
        raise InvalidInput(
            f"submission {sub.instance_id!r} has no location for {ds.slug!r}"
        )
    new = {f.name: pa.array([row.get(f.name)], ARROW_TYPES[f.type]) for f in fields}
    if ds.kind == "features":
        new["geometry"] = pa.array([shapely.to_wkb(geometry)], pa.binary())
    addition = pa.table(new)
    if table is not None:
        old = table.drop(["fid"])
        for f in fields:
            if f.name not in old.column_names:
                old = old.append_column(
                    f.name, pa.nulls(old.num_rows, ARROW_TYPES[f.type])
                )
        combined = pa.concat_tables([old.select(addition.column_names), addition])
    else:
        combined = addition
    return store.write_version(
        ds.slug,
        combined.to_batches(),
        fields=fields,
        message=f"approved submission {sub.instance_id} (form {form.form_id})",
        source=f"form {form.form_id} v{form.version}",
        author=who.label,
        geometry_type=ds.geometry_type if ds.kind == "features" else None,
        expect_version=base,
    )


@dataclass(frozen=True)
class Answer:
    path: str
    #: the question's label in the form's default language (else its name)
    label: str
    value: str


def answers(form: Form, sub: Submission) -> list[Answer]:
    """What a submission says, question by question, for its moderators
    (the first entry of a repeat; elements the form does not know last)."""
    values = read_values(sub.xml)
    out = []
    for q in read_xform(form.xml).fields:
        key = _relative(q.path)
        if "/meta/" in q.path or key not in values or values[key] == "":
            continue
        out.append(Answer(q.path, q.label or q.name, values.pop(key)))
    out += [Answer(k, k, v) for k, v in values.items() if v and "meta/" not in k]
    return out


def read_values(xml: str) -> dict[str, str]:
    """Leaf values of a submission by path below its root (``group/name``)."""
    root = SafeXML.fromstring(xml.encode())
    out: dict[str, str] = {}

    def walk(element: Element, prefix: str) -> None:
        for child in element:
            name = child.tag.rsplit("}", 1)[-1]
            path = f"{prefix}/{name}" if prefix else name
            if len(child):
                walk(child, path)
            else:
                out.setdefault(path, (child.text or "").strip())

    walk(root, "")
    return out


def _relative(path: str) -> str:
    """``/data/group/name`` → ``group/name`` (the root's name varies)."""
    parts = [p for p in path.split("/") if p]
    return "/".join(parts[1:])


def _value(text: str, ftype: FieldType, name: str) -> object:
    try:
        if ftype is FieldType.INTEGER:
            return int(text)
        if ftype is FieldType.REAL:
            return float(text)
        if ftype is FieldType.BOOLEAN:
            return text.strip().lower() in ("1", "true", "yes", "oui")
    except ValueError:
        raise InvalidInput(f"{name}: {text!r} is not a {ftype.value}") from None
    if ftype in (FieldType.DATE, FieldType.DATETIME):
        try:
            return pa.scalar(text).cast(ARROW_TYPES[ftype]).as_py()
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise InvalidInput(f"{name}: {text!r} is not a {ftype.value}") from None
    return text


def _geometry(text: str, declared: str) -> shapely.Geometry:
    """ODK ``lat lon alt acc[; …]`` → a point, line or polygon (lon, lat)."""
    try:
        points = [
            (float(parts[1]), float(parts[0]))
            for parts in (p.split() for p in text.split(";") if p.strip())
        ]
    except (IndexError, ValueError):
        raise InvalidInput(f"location {text[:60]!r} is not an ODK geopoint") from None
    if not points:
        raise InvalidInput("empty location")
    kind = declared.upper()
    if len(points) == 1:
        geom: shapely.Geometry = shapely.Point(points[0])
    elif points[0] == points[-1] and len(points) >= 4:
        geom = shapely.Polygon(points)
    else:
        geom = shapely.LineString(points)
    if kind.startswith("MULTI") and not geom.geom_type.upper().startswith("MULTI"):
        geom = {
            "Point": shapely.MultiPoint,
            "LineString": shapely.MultiLineString,
            "Polygon": shapely.MultiPolygon,
        }[geom.geom_type]([geom])
    if kind not in ("GEOMETRY", "") and geom.geom_type.upper() != kind:
        raise InvalidInput(
            f"a {geom.geom_type} does not fit the dataset's {kind} geometries: "
            "map another question to the geometry"
        )
    return geom

"""Adding forms: an XLSForm converted (pyxform), checked, stored as a version.

A form belongs to an organisation (its moderators review what comes in) and
may target a dataset, with a mapping from the form's fields to the dataset's
(default: fields of the same name, by the last part of their path). Media
files the form references are stored with it and announced in its manifest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import mimetypes
from dataclasses import replace
from pathlib import Path

from quartier import access
from quartier.access import Principal
from quartier.domain import AccessLevel, Dataset
from quartier.domain.catalogue import validate_slug
from quartier.domain.forms import Form, check_form_id
from quartier.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from quartier.forms.xlsform import ConvertedForm, convert
from quartier.storage.base import SqlStore, now


def add_form(
    store: SqlStore,
    path: Path,
    *,
    organisation: str,
    actor: Principal,
    dataset: str | None = None,
    mapping: dict[str, str] | None = None,
    campaign: str | None = None,
    media: list[Path] | None = None,
    form_id: str | None = None,
) -> tuple[Form, bool, tuple[str, ...]]:
    """Convert and store an XLSForm; (form, new, warnings).

    Refused before anything is stored: a form pyxform refuses (file, sheet,
    row and reason), an unknown organisation, a dataset of another
    organisation, a mapping to fields the form or the dataset does not have,
    a location question that does not fit the dataset's geometry, a missing
    media file, a ``campaign`` that is not one of ``organisation``'s. A
    ``dataset`` that does not exist yet is created for the form — empty,
    restricted, produced and stewarded by ``organisation``, with the shape of
    the form's location question — and its fields come with the first
    approved submission.
    """
    try:
        store.get_organisation(organisation)
    except NotFound:
        raise InvalidInput(f"no organisation {organisation!r}") from None
    if not access.can_create(actor, organisation):
        raise PermissionDenied(
            f"{actor.label} may not add forms for {organisation!r}: it takes an "
            "admin or steward role there"
        )
    campaign = campaign or None
    if campaign is not None:
        _check_campaign(store, actor, organisation, campaign)
    target: Dataset | None = None
    if dataset is not None:
        try:
            target = store.get_dataset(dataset)
        except NotFound:
            target = None
        if target is not None and not access.can_read(actor, target):
            # a dataset the actor may not see: its name is taken, say no more
            raise InvalidInput(f"dataset name {dataset!r} is not available")
    if target is not None:
        access.require_write(actor, target)
        if organisation not in (target.producer, target.steward) and not actor.is_admin:
            raise PermissionDenied(
                f"dataset {dataset!r} is produced and stewarded by other "
                f"organisations: a form of {organisation!r} may not feed it"
            )
    converted = convert(path, form_id=form_id)
    check_form_id(converted.form_id)
    if dataset is not None and target is None:
        target = _new_target(validate_slug(dataset), converted, organisation)
    chosen = _mapping(store, converted, target, mapping)
    if target is not None:
        _check_geometry(target, converted, chosen)
    files = _media(converted, media or [])
    if target is not None and not target.created:
        _refuse_conflicts(store, converted, organisation)
        store.create_dataset(replace(target, created=now(), updated=now()))
        store.audit(
            actor=actor.label,
            action="dataset.create",
            target=target.slug,
            detail={"form": converted.form_id},
        )
    form = Form(
        form_id=converted.form_id,
        version=converted.version,
        title=converted.title,
        xml=converted.xml,
        md5=converted.md5,
        organisation=organisation,
        dataset=dataset,
        mapping=chosen,
        campaign=campaign,
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        author=actor.label,
        media={name: md5 for name, (_, _, md5) in files.items()},
    )
    stored, new = store.add_form(
        form, [(name, kind, data) for name, (kind, data, _) in files.items()]
    )
    if new:
        store.audit(
            actor=actor.label,
            action="form.add",
            target=f"{form.form_id}@{form.version}",
            detail={"file": Path(path).name, "dataset": dataset},
        )
    return stored, new, converted.warnings


def _check_campaign(
    store: SqlStore, actor: Principal, organisation: str, slug: str
) -> None:
    """A form may name only a campaign of its own organisation (``access``);
    an unknown or unseen campaign gets the same answer."""
    try:
        known = access.can_attach_form(actor, organisation, store.get_campaign(slug))
    except NotFound:
        known = False
    if not known:
        raise InvalidInput(
            f"campaign: no campaign {slug!r} of organisation {organisation!r}"
        )


def _new_target(slug: str, converted: ConvertedForm, organisation: str) -> Dataset:
    """The dataset a form creates: the shape of its first location question."""
    geo = next(
        (f for f in converted.fields if f.type in GEOMETRY_OF and not f.in_repeat),
        None,
    )
    return Dataset(
        slug=slug,
        title=converted.title or slug,
        theme="participation",
        producer=organisation,
        steward=organisation,
        access=AccessLevel.RESTRICTED,
        kind="features" if geo else "attributes",
        geometry_type=GEOMETRY_OF[geo.type] if geo else "GEOMETRY",
        description=f"Réponses validées du formulaire {converted.form_id}.",
        description_en=f"Approved answers to form {converted.form_id}.",
    )


def _refuse_conflicts(
    store: SqlStore, converted: ConvertedForm, organisation: str
) -> None:
    """What ``add_form`` in the store would refuse, checked before a target
    dataset is created for the form (so a refusal leaves nothing behind)."""
    try:
        stored = store.get_form(converted.form_id)
    except NotFound:
        return
    if stored.organisation != organisation:
        raise Conflict(
            f"form id {converted.form_id!r} belongs to organisation "
            f"{stored.organisation!r}: give this form another form_id"
        )
    try:
        same = store.get_form(converted.form_id, converted.version)
    except NotFound:
        return
    if same.md5 != converted.md5:
        raise Conflict(
            f"form {converted.form_id!r} version {converted.version!r} exists with "
            "other content: give the new form a new version"
        )


def _mapping(
    store: SqlStore,
    converted: ConvertedForm,
    ds: Dataset | None,
    given: dict[str, str] | None,
) -> dict[str, str]:
    if ds is None:
        if given:
            raise InvalidInput("a field mapping needs a target dataset (--dataset)")
        return {}
    dataset = ds.slug
    known = (
        {f.name for f in store.get_version(dataset, ds.current_version).fields}
        if ds.current_version
        else set()
    )
    paths = {f.path: f for f in converted.fields}
    if given:
        unknown = sorted(set(given) - set(paths))
        if unknown:
            raise InvalidInput(
                "mapping: the form has no field " + ", ".join(map(repr, unknown))
            )
        missing = sorted(set(given.values()) - known) if known else []
        if missing:
            raise InvalidInput(
                f"mapping: dataset {dataset!r} has no field "
                + ", ".join(map(repr, missing))
            )
        return dict(given)
    # default: a form field feeds the dataset field of its name; the first
    # geometry question gives the geometry
    # (a new dataset takes the questions and the start/end/today stamps, not
    # the calculations nor the meta block: its instanceID is the submission_id)
    out = {
        f.path: f.name
        for f in converted.fields
        if not f.in_repeat
        and f.type not in GEOMETRY_OF
        and (
            f.name in known
            if known
            else f.label is not None or f.type in ("date", "dateTime")
        )
        and "/meta/" not in f.path
    }
    geometry = next(
        (f.path for f in converted.fields if f.type in GEOMETRY_OF and not f.in_repeat),
        None,
    )
    if geometry:
        out[geometry] = "geometry"
    return out


#: the geometry a form question gives, as a dataset geometry family
GEOMETRY_OF = {"geopoint": "POINT", "geotrace": "LINESTRING", "geoshape": "POLYGON"}


def _check_geometry(
    ds: Dataset, converted: ConvertedForm, mapping: dict[str, str]
) -> None:
    """Refuse at publication what approval would refuse for every submission:
    a features dataset without a location question, or the wrong shape."""
    if ds.kind != "features":
        return
    path = next((p for p, target in mapping.items() if target == "geometry"), None)
    if path is None:
        raise InvalidInput(
            f"dataset {ds.slug!r} holds located features: the form needs a "
            "geopoint, geotrace or geoshape question mapped to its geometry"
        )
    question = next((f for f in converted.fields if f.path == path), None)
    family = GEOMETRY_OF.get(question.type if question else "")
    if family is None:
        raise InvalidInput(
            f"mapping: {path!r} is not a geopoint, geotrace or geoshape question: "
            "it cannot give the geometry"
        )
    declared = (ds.geometry_type or "").upper().removeprefix("MULTI")
    if declared not in ("", "GEOMETRY") and declared != family:
        assert question is not None
        raise InvalidInput(
            f"question {question.name!r} is a {question.type}: it cannot feed "
            f"dataset {ds.slug!r} of {ds.geometry_type} geometries (map another "
            "question to the geometry, or choose another dataset)"
        )


def _media(
    converted: ConvertedForm, given: list[Path]
) -> dict[str, tuple[str, bytes, str]]:
    files: dict[str, tuple[str, bytes, str]] = {}
    by_name = {p.name: p for p in given}
    wanted = list(converted.media)
    if converted.itemsets is not None:
        data = converted.itemsets.encode()
        files["itemsets.csv"] = ("text/csv", data, hashlib.md5(data).hexdigest())  # noqa: S324
    missing = [name for name in wanted if name not in by_name and name not in files]
    if missing:
        raise InvalidInput(
            "the form uses media files not given (--media FILE): " + ", ".join(missing)
        )
    for name in wanted:
        if name in files:
            continue
        data = by_name[name].read_bytes()
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        files[name] = (kind, data, hashlib.md5(data).hexdigest())  # noqa: S324
    return files

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
from pathlib import Path

from quartier import access
from quartier.access import Principal
from quartier.domain.forms import Form, check_form_id
from quartier.errors import InvalidInput, NotFound, PermissionDenied
from quartier.forms.xlsform import ConvertedForm, convert
from quartier.storage.base import SqlStore


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
    row and reason), an unknown organisation or dataset, a mapping to fields
    the form or the dataset does not have, a missing media file.
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
    if dataset is not None:
        try:
            target = store.get_dataset(dataset)
        except NotFound:
            raise InvalidInput(f"no dataset {dataset!r}") from None
        if not access.can_read(actor, target):  # hidden is unknown
            raise InvalidInput(f"no dataset {dataset!r}")
        access.require_write(actor, target)
        if organisation not in (target.producer, target.steward) and not actor.is_admin:
            raise PermissionDenied(
                f"dataset {dataset!r} is produced and stewarded by other "
                f"organisations: a form of {organisation!r} may not feed it"
            )
    converted = convert(path, form_id=form_id)
    check_form_id(converted.form_id)
    chosen = _mapping(store, converted, dataset, mapping)
    files = _media(converted, media or [])
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


def _mapping(
    store: SqlStore,
    converted: ConvertedForm,
    dataset: str | None,
    given: dict[str, str] | None,
) -> dict[str, str]:
    if dataset is None:
        if given:
            raise InvalidInput("a field mapping needs a target dataset (--dataset)")
        return {}
    ds = store.get_dataset(dataset)
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
    out = {
        f.path: f.name
        for f in converted.fields
        if not f.in_repeat
        and (not known or f.name in known)
        and f.type not in ("geopoint", "geotrace", "geoshape")
    }
    geometry = next(
        (
            f.path
            for f in converted.fields
            if f.type in ("geopoint", "geotrace", "geoshape") and not f.in_repeat
        ),
        None,
    )
    if geometry:
        out[geometry] = "geometry"
    return out


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

"""Residents' reports and contests of features: file, follow, moderate.

Anyone may file a report (signed in or not); the client's UUID makes a
retry a no-op. Moderators of the organisation a category names (and
platform admins) move it along ``received → in_progress → resolved |
rejected`` with a note, or hide it; every change is appended to its history.
A contest names a feature of a dataset the caller may read, with the
version they saw; the dataset's steward (else producer) organisation
handles it.

What the public sees of a report is :func:`public_view`; personal data is
added by :func:`report_view` only when ``access`` allows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely

from quartier import access
from quartier.access import Principal
from quartier.domain.catalogue import Dataset
from quartier.domain.reports import (
    DEFAULT_CATEGORIES,
    Category,
    Report,
    ReportEvent,
    ReportKind,
    ReportStatus,
    Verdict,
    check_id,
    check_point,
    check_transition,
    parse_categories,
)
from quartier.errors import InvalidInput, NotFound, PermissionDenied
from quartier.services import photos as photo_files
from quartier.storage.base import SqlStore, now

MAX_PHOTOS = 3
MAX_PHOTO_BYTES = 8 * 2**20
MAX_TEXT = 2000


def categories(setting: str = "") -> tuple[Category, ...]:
    """The configured categories (``QUARTIER_REPORT_CATEGORIES``: inline JSON
    or a path to a JSON file), else the defaults."""
    text = setting.strip()
    if not text:
        return DEFAULT_CATEGORIES
    if not text.startswith(("[", "{")):
        try:
            text = Path(text).read_text(encoding="utf-8")
        except OSError as e:
            raise InvalidInput(f"QUARTIER_REPORT_CATEGORIES: {e}") from None
    return parse_categories(text)


@dataclass(frozen=True)
class NewReport:
    """What a resident sends (validated by :func:`file_report`)."""

    id: str
    lon: float | None = None
    lat: float | None = None
    description: str = ""
    category: str = ""
    name: str = ""
    contact: str = ""
    # contests
    dataset: str | None = None
    feature_id: str | None = None
    dataset_version: int | None = None
    verdict: str | None = None


def file_report(
    store: SqlStore,
    who: Principal,
    new: NewReport,
    photos: list[tuple[str, bytes]],
    *,
    cats: tuple[Category, ...] = DEFAULT_CATEGORIES,
) -> tuple[Report, bool]:
    """Store a report (or a contest when ``new.dataset`` is set); (report, new).

    ``photos`` are (file name, bytes); their metadata is stripped."""
    report_id = check_id(new.id)
    lon = lat = None
    _both_or_neither(new.lon, new.lat)
    if new.lon is not None and new.lat is not None:
        lon, lat = check_point(new.lon, new.lat)
        _check_extent(store, lon, lat)
    elif new.dataset is None:
        raise InvalidInput("lon, lat: a report needs a position (tap the map or GPS)")
    description = _text("description", new.description, MAX_TEXT)
    name = _text("name", new.name, 100)
    contact = _text("contact", new.contact, 200)
    check_photo_sizes([(filename, len(data)) for filename, data in photos])
    clean = [
        photo_files.strip(data, _photo_label(i, filename))
        for i, (filename, data) in enumerate(photos, start=1)
    ]
    if new.dataset is None:
        kind, category = ReportKind.REPORT, new.category
        org = _category(cats, new.category)
        contest: dict[str, Any] = {}
        if not description and not clean:
            raise InvalidInput("description: say what the problem is (or add a photo)")
    else:
        kind, category = ReportKind.CONTEST, ""
        ds, contest = _contest(store, who, new)
        org = access.contest_handler(ds)
    report = Report(
        id=report_id,
        kind=kind,
        category=category,
        organisation=org,
        lon=lon,
        lat=lat,
        description=description,
        created=now(),
        name=name,
        contact=contact,
        reporter=who.username or "",
        **contest,
    )
    return store.add_report(report, clean)


def check_photo_sizes(photos: list[tuple[str, int | None]]) -> None:
    """At most :data:`MAX_PHOTOS` photos of :data:`MAX_PHOTO_BYTES` each,
    given (file name, size) — checked before the bytes are read."""
    if len(photos) > MAX_PHOTOS:
        raise InvalidInput(f"photos: at most {MAX_PHOTOS} photos per report")
    for i, (filename, size) in enumerate(photos, start=1):
        if size is not None and size > MAX_PHOTO_BYTES:
            raise InvalidInput(
                f"{_photo_label(i, filename)}: larger than "
                f"{MAX_PHOTO_BYTES // 2**20} MB"
            )


def _photo_label(i: int, filename: str) -> str:
    return f"photos[{i}] ({Path(filename).name[:80]})"


def change_status(
    store: SqlStore,
    who: Principal,
    report_id: str,
    status: ReportStatus,
    note: str = "",
) -> Report:
    report = readable(store, who, report_id)
    _require_handler(who, report)
    note = _text("note", note, MAX_TEXT)
    check_transition(report.status, status, note)
    event = ReportEvent(
        at=now(),
        action="status",
        status=status,
        note=note,
        actor=who.label,
        organisation=report.organisation,
    )
    # the transition was checked against what was read: written only if the
    # report is still in that state (two moderators at once → one 409)
    return store.add_report_event(report.id, event, expect_status=report.status)


def set_hidden(
    store: SqlStore, who: Principal, report_id: str, hidden: bool, note: str = ""
) -> Report:
    """Hide a report from public outputs (abuse…) or show it again; both
    are written to its history."""
    report = readable(store, who, report_id)
    _require_handler(who, report)
    if report.hidden == hidden:
        return report
    event = ReportEvent(
        at=now(),
        action="hidden" if hidden else "shown",
        status=report.status,
        note=_text("note", note, MAX_TEXT),
        actor=who.label,
        organisation=report.organisation,
    )
    # the event repeats the status read: both must still hold when written
    return store.add_report_event(
        report.id, event, expect_status=report.status, expect_hidden=report.hidden
    )


def readable(store: SqlStore, who: Principal, report_id: str) -> Report:
    """The report, if ``who`` may see it; else the same NotFound as unknown."""
    try:
        report = store.get_report(check_id(report_id))
    except InvalidInput:
        raise NotFound(f"no report {report_id!r}") from None
    if not may_see(store, who, report):
        raise NotFound(f"no report {report_id!r}")
    return report


def may_see(store: SqlStore, who: Principal, report: Report) -> bool:
    dataset = None
    if report.kind is ReportKind.CONTEST and report.dataset:
        try:
            dataset = store.get_dataset(report.dataset)
        except NotFound:
            return who.is_admin
    return access.can_see_report(
        who,
        organisation=report.organisation,
        reporter=report.reporter,
        hidden=report.hidden,
        contest_of=dataset,
    )


def history(store: SqlStore, who: Principal, report: Report) -> list[dict[str, Any]]:
    """The report's events; the account that acted only for its handlers."""
    private = access.can_handle_report(who, report.organisation)
    out = []
    for e in store.list_report_events(report.id):
        item = {
            "at": e.at,
            "action": e.action,
            "status": e.status.value,
            "note": e.note,
            "by": e.organisation if e.action != "created" else "",
        }
        if private:
            item["actor"] = e.actor
        out.append(item)
    return out


def public_view(report: Report) -> dict[str, Any]:
    """What anyone may see of a report: never its personal data."""
    out: dict[str, Any] = {
        "id": report.id,
        "kind": report.kind.value,
        "category": report.category,
        "organisation": report.organisation,
        "status": report.status.value,
        "description": report.description,
        "lon": report.lon,
        "lat": report.lat,
        "created": report.created,
        "updated": report.updated,
        "photos": [
            {"n": p.n, "type": p.content_type, "size": p.size} for p in report.photos
        ],
    }
    if report.kind is ReportKind.CONTEST:
        out |= {
            "dataset": report.dataset,
            "feature_id": report.feature_id,
            "dataset_version": report.dataset_version,
            "verdict": report.verdict,
        }
    return out


def report_view(who: Principal, report: Report) -> dict[str, Any]:
    """:func:`public_view`, plus personal data and visibility for those
    ``access`` allows."""
    out = public_view(report)
    if access.can_see_report_private(who, report.organisation, report.reporter):
        out |= {
            "hidden": report.hidden,
            "name": report.name,
            "contact": report.contact,
            "reporter": report.reporter,
        }
    return out


# ------------------------------------------------------------------ helpers
def _require_handler(who: Principal, report: Report) -> None:
    if not access.can_handle_report(who, report.organisation):
        raise PermissionDenied(
            f"{who.label} may not handle report {report.id!r}: it takes an admin, "
            "steward or moderator role in the organisation responsible for it"
        )


def _text(field: str, value: str, limit: int) -> str:
    value = (value or "").strip()
    if "\x00" in value:
        raise InvalidInput(f"{field}: must not contain NUL characters")
    if len(value) > limit:
        raise InvalidInput(f"{field}: at most {limit} characters")
    return value


def _category(cats: tuple[Category, ...], code: str) -> str:
    for c in cats:
        if c.code == code:
            return c.organisation or ""
    known = ", ".join(c.code for c in cats)
    raise InvalidInput(f"category: {code!r} is not a report category ({known})")


def _check_extent(store: SqlStore, lon: float, lat: float) -> None:
    try:
        wkt = store.get_workspace().boundary_wkt
    except NotFound:
        return
    if not wkt:
        return
    x0, y0, x1, y1 = shapely.from_wkt(wkt).bounds
    margin = 0.01  # about a kilometre: a GPS fix at the city's edge still counts
    if not (x0 - margin <= lon <= x1 + margin and y0 - margin <= lat <= y1 + margin):
        raise InvalidInput(
            f"lon, lat: ({lon}, {lat}) is outside the city's extent "
            f"({x0:.4f}, {y0:.4f}, {x1:.4f}, {y1:.4f})"
        )


def check_contest_target(
    store: SqlStore,
    ds: Dataset,
    feature_id: str,
    version: int,
    lon: float | None = None,
    lat: float | None = None,
) -> int:
    """What a contest names, checked: a version of ``ds``, a feature of that
    version, both coordinates or neither; the feature id."""
    if not 1 <= version <= ds.current_version:
        raise InvalidInput(
            f"dataset_version: {ds.slug!r} has versions 1 to {ds.current_version}"
        )
    _both_or_neither(lon, lat)
    return check_feature(store, ds, feature_id, version)


def _both_or_neither(lon: float | None, lat: float | None) -> None:
    if (lon is None) != (lat is None):
        missing = "lat" if lat is None else "lon"
        raise InvalidInput(f"{missing}: give both lon and lat, or neither")


def check_feature(store: SqlStore, ds: Dataset, feature_id: str, version: int) -> int:
    """The id of a feature that was part of ``version`` of ``ds``, else
    InvalidInput naming ``feature_id`` (a contest of an older version names
    a feature that version had, even if it is gone since)."""
    text = feature_id.strip()
    if not text.lstrip("-").isdigit() or len(text) > 20:
        raise InvalidInput(f"feature_id: {text[:40]!r} is not a feature id")
    fid = int(text)
    if not -(2**63) <= fid < 2**63:
        raise InvalidInput(f"feature_id: {text} is out of range (64-bit integer)")
    if not store.feature_exists(ds, fid, version=version):
        raise InvalidInput(
            f"feature_id: no feature {fid} in version {version} of {ds.slug!r}"
        )
    return fid


def _contest(
    store: SqlStore, who: Principal, new: NewReport
) -> tuple[Dataset, dict[str, Any]]:
    try:
        ds = access.require_read(who, store.get_dataset(new.dataset or ""))
    except NotFound:
        raise NotFound(f"no dataset {new.dataset!r}") from None
    try:
        verdict = Verdict(new.verdict or "")
    except ValueError:
        raise InvalidInput("verdict: 'correct' or 'wrong'") from None
    version = new.dataset_version or 0
    fid = check_contest_target(store, ds, new.feature_id or "", version)
    return ds, {
        "dataset": ds.slug,
        "feature_id": str(fid),
        "dataset_version": version,
        "verdict": verdict.value,
    }

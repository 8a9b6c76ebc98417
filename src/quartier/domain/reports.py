"""Residents' reports (signalements) and their status history: dataclasses and rules.

A report is sent by anyone, signed in or not. It is identified by a UUID the
client generates, so a retried POST never makes two reports. Its status moves
``received → in_progress → resolved | rejected`` (a closed report may be
reopened to ``in_progress``); every change is an event appended to its
history, never overwritten.

A **contest** is a report about one feature of an official dataset ("c'est
juste" / "c'est faux ici"): same table, ``kind = "contest"``, with the
dataset, the feature id, the version the resident saw and a verdict.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from dataclasses import dataclass, field
from enum import StrEnum

from quartier.errors import InvalidInput


class ReportStatus(StrEnum):
    RECEIVED = "received"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    REJECTED = "rejected"


class ReportKind(StrEnum):
    REPORT = "report"
    CONTEST = "contest"


class Verdict(StrEnum):
    """What a resident says of a feature: right, or wrong here."""

    CORRECT = "correct"
    WRONG = "wrong"


#: status → the statuses it may move to
TRANSITIONS: dict[ReportStatus, frozenset[ReportStatus]] = {
    ReportStatus.RECEIVED: frozenset(
        {ReportStatus.IN_PROGRESS, ReportStatus.RESOLVED, ReportStatus.REJECTED}
    ),
    ReportStatus.IN_PROGRESS: frozenset({ReportStatus.RESOLVED, ReportStatus.REJECTED}),
    ReportStatus.RESOLVED: frozenset({ReportStatus.IN_PROGRESS}),
    ReportStatus.REJECTED: frozenset({ReportStatus.IN_PROGRESS}),
}


@dataclass(frozen=True)
class Category:
    """A kind of problem; ``organisation`` (if any) handles its reports."""

    code: str
    label: str
    label_en: str = ""
    organisation: str | None = None


DEFAULT_CATEGORIES: tuple[Category, ...] = (
    Category("inondation", "Inondation, drainage bouché", "Flooding, blocked drain"),
    Category("erosion", "Érosion, ravine", "Erosion, gully"),
    Category("dechets", "Déchets", "Waste"),
    Category(
        "voirie", "Voirie (route, pont, nid-de-poule)", "Roads, bridges, potholes"
    ),
    Category("eclairage", "Éclairage public", "Street lighting"),
    Category("eau", "Eau potable", "Drinking water"),
    Category("assainissement", "Assainissement", "Sanitation"),
    Category("batiment", "Bâtiment menacé", "Building at risk"),
    Category("autre", "Autre", "Other"),
)

_CODE = re.compile(r"^[a-z][a-z0-9_]{0,47}$")


def parse_categories(text: str) -> tuple[Category, ...]:
    """Categories from JSON: ``[{"code", "label", "label_en", "organisation"}]``.

    >>> parse_categories('[{"code": "eau", "label": "Eau", "organisation": "regie"}]')
    (Category(code='eau', label='Eau', label_en='', organisation='regie'),)
    """
    try:
        items = json.loads(text)
    except ValueError as e:
        raise InvalidInput(f"report categories: not JSON ({e})") from None
    if not isinstance(items, list) or not items:
        raise InvalidInput("report categories: a non-empty JSON list is expected")
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not _CODE.match(str(item.get("code", ""))):
            raise InvalidInput(
                f"report categories: item {i} needs a code (lower-case letters, "
                "digits, _)"
            )
        out.append(
            Category(
                code=item["code"],
                label=str(item.get("label") or item["code"]),
                label_en=str(item.get("label_en") or ""),
                organisation=item.get("organisation") or None,
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class Photo:
    n: int
    content_type: str
    size: int


@dataclass(frozen=True)
class Report:
    id: str
    kind: ReportKind
    category: str
    #: the organisation whose moderators handle it ("" = admins only)
    organisation: str
    lon: float | None
    lat: float | None
    description: str
    created: str
    status: ReportStatus = ReportStatus.RECEIVED
    updated: str = ""
    hidden: bool = False
    # personal data: masked everywhere but for handlers and the reporter
    name: str = ""
    contact: str = ""
    reporter: str = ""
    # contests only
    dataset: str | None = None
    feature_id: str | None = None
    dataset_version: int | None = None
    verdict: str | None = None
    photos: tuple[Photo, ...] = field(default_factory=tuple)

    def same_request(self, other: Report) -> bool:
        """Is ``other`` a retry of the request that made this report?"""
        keys = (
            "kind", "category", "lon", "lat", "description", "name", "contact",
            "reporter", "dataset", "feature_id", "dataset_version", "verdict",
        )  # fmt: skip
        return all(getattr(self, k) == getattr(other, k) for k in keys)


@dataclass(frozen=True)
class ReportEvent:
    """One entry of a report's history (append-only)."""

    at: str
    #: "created", "status", "hidden" or "shown"
    action: str
    status: ReportStatus
    note: str = ""
    #: the account that did it (never shown publicly)
    actor: str = ""
    #: the organisation shown publicly as the author ("" = the platform)
    organisation: str = ""
    seq: int = 0


def check_id(report_id: str) -> str:
    """A client-generated UUID, in canonical lower-case form."""
    try:
        return str(uuid.UUID(report_id))
    except (ValueError, AttributeError, TypeError):
        raise InvalidInput(
            f"id: {report_id!r} is not a UUID (the client generates one per report)"
        ) from None


def check_point(lon: float, lat: float) -> tuple[float, float]:
    if not (math.isfinite(lon) and -180 <= lon <= 180):
        raise InvalidInput(f"lon: {lon} is not a longitude (-180 to 180, EPSG:4326)")
    if not (math.isfinite(lat) and -90 <= lat <= 90):
        raise InvalidInput(f"lat: {lat} is not a latitude (-90 to 90, EPSG:4326)")
    return round(lon, 7), round(lat, 7)


def check_transition(old: ReportStatus, new: ReportStatus, note: str) -> None:
    if new not in TRANSITIONS[old]:
        raise InvalidInput(
            f"status: a report {old.value!r} cannot become {new.value!r}"
        )
    if new is ReportStatus.REJECTED and not note.strip():
        raise InvalidInput("note: a rejection needs a reason")

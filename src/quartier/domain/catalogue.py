"""Catalogue entries, versions and their pure rules."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum

from quartier.errors import InvalidInput


class AccessLevel(StrEnum):
    PUBLIC = "public"
    PARTNERS = "partners"
    RESTRICTED = "restricted"
    CONFIDENTIAL = "confidential"

    @classmethod
    def parse(cls, value: str) -> AccessLevel:
        try:
            return cls(value.strip().lower())
        except ValueError:
            allowed = ", ".join(a.value for a in cls)
            raise InvalidInput(
                f"unknown access level {value!r}; expected one of: {allowed}"
            ) from None


class FieldType(StrEnum):
    """Logical field types, mapped to each store's column types."""

    BOOLEAN = "boolean"
    INTEGER = "integer"
    REAL = "real"
    TEXT = "text"
    DATE = "date"
    DATETIME = "datetime"
    JSON = "json"
    BLOB = "blob"


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType
    #: The name the field had in the source file, when it had to be renamed.
    source_name: str | None = None


@dataclass
class Dataset:
    """Metadata of a catalogued dataset (FR first, EN second)."""

    slug: str
    title: str
    title_en: str = ""
    description: str = ""
    description_en: str = ""
    theme: str = ""
    producer: str | None = None  # organisation slug
    steward: str | None = None  # organisation slug
    licence: str = ""
    attribution: str = ""
    access: AccessLevel = AccessLevel.PUBLIC
    sensitive_fields: list[str] = field(default_factory=list)
    update_frequency: str = ""
    lineage: str = ""
    temporal_start: str | None = None
    temporal_end: str | None = None
    key_field: str | None = None
    illustrative: bool = False
    #: "features" (with geometry) or "attributes" (a table).
    kind: str = "features"
    geometry_type: str = "GEOMETRY"
    table_name: str = ""
    current_version: int = 0
    feature_count: int = 0
    bbox: tuple[float, float, float, float] | None = None
    created: str = ""
    updated: str = ""


@dataclass(frozen=True)
class Version:
    """One version of a dataset. Versions are never modified once written."""

    dataset: str
    version: int
    created: str
    feature_count: int
    added: int
    removed: int
    changed: int
    fields: tuple[Field, ...] = ()
    message: str = ""
    source: str = ""
    checksum: str = ""
    restored_from: int | None = None
    author: str = ""
    bbox: tuple[float, float, float, float] | None = None


_SLUG_RE = re.compile(r"[^a-z0-9]+")


def make_slug(text: str, *, max_length: int = 48) -> str:
    """A URL- and SQL-safe identifier from any title or file name.

    >>> make_slug("Bâtiments — Kisenso (OSM) 2018")
    'batiments_kisenso_osm_2018'
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = _SLUG_RE.sub("_", ascii_text.lower()).strip("_")[:max_length].strip("_")
    if not slug:
        raise InvalidInput(f"cannot make an identifier from {text!r}")
    if slug[0].isdigit():
        slug = "d_" + slug
    return slug


def validate_slug(slug: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,47}", slug):
        raise InvalidInput(
            f"invalid dataset identifier {slug!r}: use lowercase letters, digits "
            "and underscores, starting with a letter (max 48 characters)"
        )
    return slug

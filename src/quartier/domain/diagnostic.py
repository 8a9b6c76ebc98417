"""The data self-diagnostic's rules: the reference list of essential data,
which catalogued dataset answers which entry, freshness and maturity.

Pure: no store, no web. The figures (coverage, completeness) are computed
by :mod:`quartier.analysis.coverage`; here they are judged.

**Maturity, 0 to 4** (the rule the reports state):

- 0 — no dataset;
- 1 — a dataset exists;
- 2 — and it is documented (a steward and a licence) and covers at least
  half of the quartiers;
- 3 — and it covers 80 % of the quartiers, its key attributes are 70 %
  filled, and it is not out of date (at most twice its expected update
  interval old);
- 4 — and it is open (public or partners, with a licence), covers 95 %,
  is 90 % filled and up to date (within its expected interval).

Where coverage cannot be computed (imagery registered without geometry),
an entry reaches at most level 2. The overall score is the mean level as a
percentage of 4.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

from quartier.errors import InvalidInput

#: the list shipped with Quartier (FR/EN); a city may give its own file
DEFAULT_REFERENCE = (
    Path(__file__).resolve().parent.parent / "reference" / ("essential_datasets.json")
)
KEY = re.compile(r"[a-z0-9_]{1,63}")
GEOMETRIES = ("point", "line", "polygon", "any", "raster")
CATEGORIES = ("planning", "crisis", "both")


@dataclass(frozen=True)
class Entry:
    """One kind of data a city needs."""

    key: str
    title: str
    title_en: str
    why: str
    why_en: str
    #: point, line, polygon, any (a table counts for "any"), raster
    geometry: str
    frequency_days: int
    category: str = "both"
    #: words looked for in a dataset's identifier, theme and title
    keywords: tuple[str, ...] = ()
    #: key attributes, each with the names it goes by (first: the usual one)
    attributes: tuple[tuple[str, ...], ...] = ()
    #: datasets the city assigned to this entry by hand (identifiers)
    datasets: tuple[str, ...] = ()


def fold(text: str) -> str:
    """Lower case without accents: ``"Bâti"`` → ``"bati"``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def load_reference(path: Path | None = None) -> list[Entry]:
    """The reference list from ``path`` (JSON), by default the shipped one.

    A malformed file is refused naming the entry and the field.
    """
    source = path or DEFAULT_REFERENCE
    try:
        data = json.loads(Path(source).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InvalidInput(f"{source}: not a readable JSON file ({e})") from None
    raw = data.get("entries") if isinstance(data, dict) else None
    return parse_entries(raw, str(source))


def shipped_documents() -> list[dict[str, Any]]:
    """The entries of the shipped list, as written in its file."""
    data = json.loads(DEFAULT_REFERENCE.read_text(encoding="utf-8"))
    return list(data["entries"])


def parse_entries(raw: Any, source: str) -> list[Entry]:
    """Entries from their JSON documents; ``source`` names them in errors."""
    if not isinstance(raw, list) or not raw:
        raise InvalidInput(f"{source}: needs a non-empty 'entries' list")
    entries = [_entry(item, i, source) for i, item in enumerate(raw, start=1)]
    keys = [e.key for e in entries]
    doubles = sorted({k for k in keys if keys.count(k) > 1})
    if doubles:
        raise InvalidInput(f"{source}: entry keys used twice: {', '.join(doubles)}")
    return entries


def _entry(item: Any, n: int, source: str) -> Entry:
    where = f"{source}, entry {n}"
    if not isinstance(item, dict):
        raise InvalidInput(f"{where}: not an object")

    def text(name: str, lang: str) -> str:
        value = item.get(name)
        value = value.get(lang, "") if isinstance(value, dict) else value
        if lang == "fr" and (not isinstance(value, str) or not value.strip()):
            raise InvalidInput(f"{where}: '{name}' needs a French text")
        return str(value or "")

    key = item.get("key")
    if not isinstance(key, str) or not key.strip():
        raise InvalidInput(f"{where}: 'key' is missing")
    if not KEY.fullmatch(key):
        raise InvalidInput(
            f"{where}: key {key!r} must be 1 to 63 lower-case letters, digits "
            "or underscores"
        )
    for name in ("keywords", "datasets"):
        listed = item.get(name, [])
        if not isinstance(listed, list) or not all(
            isinstance(x, str) and x.strip() for x in listed
        ):
            raise InvalidInput(f"{where} ({key}): '{name}' is a list of words")
    title, why = text("title", "fr"), text("why", "fr")
    geometry = item.get("geometry", "any")
    if geometry not in GEOMETRIES:
        raise InvalidInput(
            f"{where} ({key}): geometry {geometry!r} is not one of {GEOMETRIES}"
        )
    category = item.get("category", "both")
    if category not in CATEGORIES:
        raise InvalidInput(
            f"{where} ({key}): category {category!r} is not one of {CATEGORIES}"
        )
    days = item.get("frequency_days")
    if not isinstance(days, int) or days < 1:
        raise InvalidInput(
            f"{where} ({key}): 'frequency_days' must be a whole number ≥ 1"
        )
    attributes = item.get("attributes", [])
    if not isinstance(attributes, list) or not all(
        isinstance(a, list) and a and all(isinstance(n, str) for n in a)
        for a in attributes
    ):
        raise InvalidInput(f"{where} ({key}): 'attributes' is a list of name lists")
    return Entry(
        key=key,
        title=title,
        title_en=text("title", "en"),
        why=why,
        why_en=text("why", "en"),
        geometry=geometry,
        frequency_days=days,
        category=category,
        keywords=tuple(fold(k) for k in item.get("keywords", [])),
        attributes=tuple(tuple(a) for a in attributes),
        datasets=tuple(item.get("datasets", [])),
    )


# ------------------------------------------------------------------ matching
@dataclass(frozen=True)
class Candidate:
    """What matching needs to know of a catalogued dataset."""

    slug: str
    title: str = ""
    theme: str = ""
    #: "features" or "attributes"
    kind: str = "features"
    geometry_type: str = ""


def geometry_fits(entry: Entry, candidate: Candidate) -> bool:
    """Does the dataset's shape answer the entry? (A table answers "any".)"""
    if entry.geometry == "raster":
        return True
    if candidate.kind != "features":
        return entry.geometry == "any"
    if entry.geometry == "any":
        return True
    kind = candidate.geometry_type.upper().removeprefix("MULTI")
    family = {"POINT": "point", "LINESTRING": "line", "POLYGON": "polygon"}.get(kind)
    return family is None or family == entry.geometry


def assign(
    entries: Sequence[Entry], candidates: Iterable[Candidate]
) -> dict[str, list[str]]:
    """Entry key → the datasets answering it.

    A dataset named in an entry's ``datasets`` goes there; otherwise to the
    entry whose longest keyword appears in its identifier, theme or title
    (``"crue"`` beats ``"rue"``), if its shape fits. Each dataset answers one
    entry at most.
    """
    out: dict[str, list[str]] = {e.key: [] for e in entries}
    chosen = {slug: e.key for e in entries for slug in e.datasets}
    for c in candidates:
        if c.slug in chosen:
            out[chosen[c.slug]].append(c.slug)
            continue
        haystack = " ".join(fold(t) for t in (c.slug, c.theme, c.title))
        best: tuple[int, str] | None = None
        for e in entries:
            if not geometry_fits(e, c):
                continue
            hits = [len(k) for k in e.keywords if k and k in haystack]
            if hits and (best is None or max(hits) > best[0]):
                best = (max(hits), e.key)
        if best is not None:
            out[best[1]].append(c.slug)
    return out


# ----------------------------------------------------------------- judging
class Freshness(StrEnum):
    FRESH = "fresh"  # within the expected update interval
    AGEING = "ageing"  # up to twice the interval
    STALE = "stale"  # older
    UNKNOWN = "unknown"  # no date


def freshness(last_update: str | None, frequency_days: int, today: date) -> Freshness:
    """How recent data is against how often it should be updated.

    >>> from datetime import date
    >>> freshness("2026-01-10", 365, date(2026, 11, 26))
    <Freshness.FRESH: 'fresh'>
    >>> freshness("2024-06-01T00:00:00Z", 365, date(2026, 11, 26))
    <Freshness.STALE: 'stale'>
    """
    if not last_update:
        return Freshness.UNKNOWN
    try:
        then = date.fromisoformat(last_update[:10])
    except ValueError:
        return Freshness.UNKNOWN
    age = (today - then).days
    if age <= frequency_days:
        return Freshness.FRESH
    if age <= 2 * frequency_days:
        return Freshness.AGEING
    return Freshness.STALE


OPEN_ACCESS = ("public", "partners")


@dataclass(frozen=True)
class Facts:
    """What the diagnostic found about one entry's best dataset."""

    exists: bool
    documented: bool = False
    open: bool = False
    #: share of quartiers with data (None: cannot be computed)
    coverage: float | None = None
    #: mean filled share of the key attributes (None: no key attribute)
    completeness: float | None = None
    freshness: Freshness = Freshness.UNKNOWN


def maturity(f: Facts) -> int:
    """The level 0–4 of the module's rule.

    >>> maturity(Facts(exists=True, documented=True, coverage=0.6))
    2
    >>> maturity(Facts(True, True, True, 0.97, 0.95, Freshness.FRESH))
    4
    """
    if not f.exists:
        return 0
    if f.coverage is None:  # not computable: documented is as far as it goes
        return 2 if f.documented else 1
    if not (f.documented and f.coverage >= 0.5):
        return 1
    filled = 1.0 if f.completeness is None else f.completeness
    current = f.freshness in (Freshness.FRESH, Freshness.AGEING)
    if not (f.coverage >= 0.8 and filled >= 0.7 and current):
        return 2
    if (
        f.open
        and f.coverage >= 0.95
        and filled >= 0.9
        and f.freshness is Freshness.FRESH
    ):
        return 4
    return 3


def score(levels: Sequence[int]) -> float:
    """The overall score: mean level as a percentage of 4.

    >>> score([0, 2, 4, 2])
    50.0
    """
    return round(100 * sum(levels) / (4 * len(levels)), 1) if levels else 0.0


@dataclass
class EntryResult:
    entry: Entry
    datasets: list[str] = field(default_factory=list)
    facts: Facts = field(default_factory=lambda: Facts(exists=False))
    level: int = 0
    #: per dataset: holder, access, licence, dates, coverage, completeness…
    details: list[dict[str, Any]] = field(default_factory=list)

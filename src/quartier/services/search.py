"""Searching the catalogue: one filter for the API and the portal.

Accents and case are ignored, every word must match (like a search box):

>>> from quartier.domain import Dataset
>>> CatalogueQuery(q="batiment kisenso").matches(
...     Dataset(slug="b", title="Bâtiments de Kisenso"))
True
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from quartier.domain import AccessLevel, Dataset

#: Freshness classes: updated in the last N days (None: older than a year)
FRESHNESS = {"month": 31, "year": 366, "older": None}


def fold(text: str) -> str:
    """Lower case without accents: ``Écoles`` → ``ecoles``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True)
class CatalogueQuery:
    q: str | None = None
    theme: str | None = None
    producer: str | None = None
    access: AccessLevel | None = None
    #: actor kind of the producing organisation (``ngo``, ``authority``…)
    actor_kind: str | None = None
    #: a key of :data:`FRESHNESS`
    freshness: str | None = None

    def matches(
        self,
        ds: Dataset,
        kinds: Mapping[str, str] | None = None,
        today: dt.date | None = None,
    ) -> bool:
        """Whether ``ds`` passes; ``kinds`` maps organisation slug → actor kind."""
        if self.theme and fold(ds.theme) != fold(self.theme):
            return False
        if self.producer and ds.producer != self.producer:
            return False
        if self.access is not None and ds.access != self.access:
            return False
        if self.actor_kind and (kinds or {}).get(ds.producer or "") != self.actor_kind:
            return False
        if self.freshness and not _fresh(ds, self.freshness, today):
            return False
        if self.q:
            haystack = fold(
                " ".join(
                    (
                        ds.slug,
                        ds.title,
                        ds.title_en,
                        ds.description,
                        ds.description_en,
                        ds.theme,
                        ds.producer or "",
                    )
                )
            )
            return all(word in haystack for word in fold(self.q).split())
        return True

    def filter(
        self, datasets: Iterable[Dataset], kinds: Mapping[str, str] | None = None
    ) -> list[Dataset]:
        today = dt.date.today()
        return [ds for ds in datasets if self.matches(ds, kinds, today)]


def _fresh(ds: Dataset, freshness: str, today: dt.date | None) -> bool:
    stamp = (ds.updated or ds.created)[:10]
    try:
        age = ((today or dt.date.today()) - dt.date.fromisoformat(stamp)).days
    except ValueError:
        return freshness == "older"
    days = FRESHNESS.get(freshness)
    if days is None:
        return age > FRESHNESS["year"]  # type: ignore[operator]
    return age <= days

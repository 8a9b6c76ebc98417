"""Data-sharing agreements: an organisation that holds datasets lets partner
organisations read them, for a stated purpose, between two dates.

While an agreement is **in force** (active, and today within its dates) the
members of its partner organisations may read its datasets through the one
authorisation layer, on every output; the day after it ends, or once it is
suspended or ended, they may not. Sensitive fields stay masked: an
agreement shares the data, not the personal data in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from quartier.errors import InvalidInput

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


class AgreementStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    ENDED = "ended"


@dataclass(frozen=True)
class Agreement:
    id: str
    title: str
    #: the organisation that holds (produces or stewards) the datasets
    holder: str
    #: the organisations whose members may read them
    partners: tuple[str, ...]
    datasets: tuple[str, ...]
    purpose: str
    starts: str  # ISO date, first day in force
    ends: str  # ISO date, last day in force
    status: AgreementStatus = AgreementStatus.DRAFT
    created: str = ""
    author: str = ""
    updated: str = ""


def in_force(a: Agreement, today: date) -> bool:
    """Active, and ``today`` between its first and last day (both included).

    >>> a = Agreement("a", "A", "ville", ("ong",), ("d",), "p",
    ...               "2026-01-01", "2026-12-31", AgreementStatus.ACTIVE)
    >>> in_force(a, date(2026, 12, 31)), in_force(a, date(2027, 1, 1))
    (True, False)
    """
    if a.status is not AgreementStatus.ACTIVE:
        return False
    return date.fromisoformat(a.starts) <= today <= date.fromisoformat(a.ends)


def check(a: Agreement) -> Agreement:
    """Refuse an agreement that cannot mean anything, naming the field."""
    if not _ID.match(a.id):
        raise InvalidInput(
            f"id {a.id!r}: lower-case letters, digits, '-' and '_' (up to 63)"
        )
    if not a.title.strip():
        raise InvalidInput("title: an agreement needs a title")
    if not a.purpose.strip():
        raise InvalidInput("purpose: say what the data is shared for")
    if not a.partners:
        raise InvalidInput("partners: name at least one partner organisation")
    if a.holder in a.partners:
        raise InvalidInput("partners: the holder does not share with itself")
    if not a.datasets:
        raise InvalidInput("datasets: name at least one dataset")
    check_period(a.starts, a.ends)
    return a


def check_period(starts: str, ends: str) -> None:
    """Two ISO days, the last not before the first (agreements, requests)."""
    days = []
    for name, value in (("starts", starts), ("ends", ends)):
        try:
            days.append(date.fromisoformat(value))
        except (TypeError, ValueError):
            raise InvalidInput(
                f"{name}: {value!r} is not a date (YYYY-MM-DD)"
            ) from None
    if days[1] < days[0]:
        raise InvalidInput("ends: the last day comes before the first")

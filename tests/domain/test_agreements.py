"""Data-sharing agreements: when they are in force, what is refused."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from quartier.domain.agreements import Agreement, AgreementStatus, check, in_force
from quartier.errors import InvalidInput

A = Agreement(
    "convention-unikin",
    "Convention ville – UNIKIN",
    "ville",
    ("unikin",),
    ("zones_inondables",),
    "Thèse sur les inondations de Kisenso",
    "2026-03-01",
    "2026-12-31",
    AgreementStatus.ACTIVE,
)


@pytest.mark.parametrize(
    ("status", "today", "expected"),
    [
        (AgreementStatus.ACTIVE, date(2026, 3, 1), True),  # first day
        (AgreementStatus.ACTIVE, date(2026, 12, 31), True),  # last day
        (AgreementStatus.ACTIVE, date(2026, 2, 28), False),  # not yet
        (AgreementStatus.ACTIVE, date(2027, 1, 1), False),  # expired
        (AgreementStatus.DRAFT, date(2026, 6, 1), False),
        (AgreementStatus.SUSPENDED, date(2026, 6, 1), False),
        (AgreementStatus.ENDED, date(2026, 6, 1), False),
    ],
)
def test_in_force(status, today, expected):
    assert in_force(replace(A, status=status), today) is expected


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": "Pas Bon"}, "id 'Pas Bon'"),
        ({"title": " "}, "title"),
        ({"purpose": ""}, "purpose"),
        ({"partners": ()}, "partners"),
        ({"partners": ("ville",)}, "does not share with itself"),
        ({"datasets": ()}, "datasets"),
        ({"starts": "mars"}, "starts: 'mars' is not a date"),
        ({"ends": "2026-01-01"}, "ends: the last day comes before the first"),
    ],
)
def test_meaningless_agreements_are_refused_by_field(change, message):
    with pytest.raises(InvalidInput, match=message):
        check(replace(A, **change))
    assert check(A) is A

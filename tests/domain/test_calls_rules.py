"""When a gap gets a call for contributions, and in what order (a table)."""

from __future__ import annotations

import pytest

from quartier.domain.calls import needs_call, priority


@pytest.mark.parametrize(
    ("level", "missing", "expected"),
    [
        (0, 1.0, True),  # nothing anywhere
        (2, 0.0, True),  # everywhere but not reliable
        (3, 0.0, False),  # reliable everywhere
        (4, 0.0, False),
        (4, 0.25, True),  # reliable, but a quartier lacks it
    ],
)
def test_needs_call(level: int, missing: float, expected: bool) -> None:
    assert needs_call(level, missing) is expected


@pytest.mark.parametrize(
    ("level", "category", "missing", "expected"),
    [
        (0, "crisis", 1.0, 55.0),  # 40 + 5 + 10
        (0, "both", 1.0, 53.0),
        (0, "planning", 1.0, 50.0),
        (2, "both", 0.5, 28.0),  # 20 + 3 + 5
        (3, "crisis", 0.25, 17.5),
        (1, "planning", 2.0, 40.0),  # a share is at most 1
        (1, "unknown", 0.0, 30.0),
    ],
)
def test_priority(level: int, category: str, missing: float, expected: float) -> None:
    assert priority(level, category, missing) == expected

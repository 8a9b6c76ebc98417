"""Public calls for contributions: which gaps deserve one, and in what order.

Pure rules, tested as tables; the gaps themselves come from the diagnostic.

**When a call is made**: for an essential dataset whose maturity is below 3
(not yet reliable), or that is missing in at least one quartier; and one
for the grid cells where people live but no building is mapped.

**Priority** (higher first): ``10 × (4 − level)``, plus ``5`` for data
essential in a crisis (``3`` when it serves both planning and crises),
plus ``10 × the share of quartiers where it is missing`` (for buildings,
the larger of that share and the share of settled cells without a
building).
"""

from __future__ import annotations

#: reference entries residents can report on from the ground (a flooded
#: street, a broken water point…): their calls link to the report page
REPORTABLE = (
    "alea_inondation",
    "alea_erosion",
    "alea_incendie",
    "drainage",
    "points_eau",
    "assainissement",
    "routes",
    "abris",
)
CRISIS_WEIGHT = {"crisis": 5.0, "both": 3.0, "planning": 0.0}
#: below this level an entry gets a call wherever it is
RELIABLE = 3


def needs_call(level: int, missing_share: float) -> bool:
    """Is a call warranted? (``missing_share``: quartiers without the data.)

    >>> needs_call(3, 0.0), needs_call(2, 0.0), needs_call(4, 0.1)
    (False, True, True)
    """
    return level < RELIABLE or missing_share > 0


def priority(level: int, category: str, missing_share: float) -> float:
    """The order of calls (higher first).

    >>> priority(0, "crisis", 1.0)
    55.0
    >>> priority(2, "planning", 0.5)
    25.0
    """
    share = min(max(missing_share, 0.0), 1.0)
    return round(
        10.0 * (4 - level) + CRISIS_WEIGHT.get(category, 0.0) + 10.0 * share, 1
    )

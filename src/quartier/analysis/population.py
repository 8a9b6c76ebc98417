"""Spreading people from units to buildings (dasymetric mapping).

Each unit's population is shared among its buildings in proportion to their
footprint area; a building without area (a point) counts as 1 m².

>>> import pandas as pd
>>> dasymetric(pd.Series([1.0, 3.0, 2.0]), pd.Series(["A", "A", "B"]),
...            pd.Series({"A": 40.0, "B": 10.0})).tolist()
[10.0, 30.0, 10.0]
"""

from __future__ import annotations

import pandas as pd


def dasymetric(area: pd.Series, unit: pd.Series, population: pd.Series) -> pd.Series:
    """People per building: its unit's population × its share of the unit's area."""
    area = area.where(area > 0, 1.0)
    share = area / area.groupby(unit).transform("sum")
    return unit.map(population.astype(float)).fillna(0.0) * share


def unplaced(unit: pd.Series, population: pd.Series) -> float:
    """People of units that hold no building (left out of the spreading)."""
    return float(population[~population.index.isin(set(unit))].sum())

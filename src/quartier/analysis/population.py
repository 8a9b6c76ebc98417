"""Spreading people from units to buildings (dasymetric mapping).

Each unit's population is shared among its buildings in proportion to their
footprint area; a building without area (a point) counts as 1 m². Groups of
the census (by age, by sex…) are spread with the same shares.

>>> import pandas as pd
>>> dasymetric(pd.Series([1.0, 3.0, 2.0]), pd.Series(["A", "A", "B"]),
...            pd.Series({"A": 40.0, "B": 10.0})).tolist()
[10.0, 30.0, 10.0]
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def dasymetric(area: pd.Series, unit: pd.Series, population: pd.Series) -> pd.Series:
    """People per building: its unit's population × its share of the unit's area."""
    return unit.map(population.astype(float)).fillna(0.0) * shares(area, unit)


def dasymetric_groups(
    area: pd.Series, unit: pd.Series, groups: pd.DataFrame
) -> pd.DataFrame:
    """People of each group (a column of ``groups``, indexed by unit) per building.

    >>> import pandas as pd
    >>> dasymetric_groups(pd.Series([1.0, 3.0]), pd.Series(["A", "A"]),
    ...     pd.DataFrame({"f": [20.0], "h": [8.0]}, index=["A"])).to_dict("list")
    {'f': [5.0, 15.0], 'h': [2.0, 6.0]}
    """
    share = shares(area, unit).to_numpy(dtype=float)
    per_unit = groups.astype(float).reindex(pd.Index(unit)).fillna(0.0).to_numpy()
    return pd.DataFrame(
        per_unit * share[:, np.newaxis], index=unit.index, columns=groups.columns
    )


def shares(area: pd.Series, unit: pd.Series) -> pd.Series:
    """Each building's share of its unit's footprint area (they sum to 1)."""
    area = area.where(area > 0, 1.0)
    return area / area.groupby(unit).transform("sum")


def unplaced(unit: pd.Series, population: pd.Series) -> float:
    """People of units that hold no building (left out of the spreading)."""
    return float(population[~population.index.isin(set(unit))].sum())

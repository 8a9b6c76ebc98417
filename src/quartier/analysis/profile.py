"""Neighbourhood profiles: each unit's indicators next to the city's median.

The input is a table with one row per admin unit and one column per
indicator (missing values allowed: a figure the data cannot give). For each
unit and indicator :func:`compare` gives the value, the median over the
units where it is known, the rank (1 = highest value) among those units and
how many units were ranked.

>>> import pandas as pd
>>> t = pd.DataFrame({"density": [100.0, 300.0, None]}, index=["A", "B", "C"])
>>> c = compare(t)
>>> c.loc[("A", "density")].to_dict()
{'value': 100.0, 'median': 200.0, 'rank': 2.0, 'ranked': 2.0}
>>> bool(pd.isna(c.loc[("C", "density"), "rank"]))
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def compare(table: pd.DataFrame) -> pd.DataFrame:
    """(unit, indicator) → value, median, rank, ranked."""
    rows = []
    for column in table.columns:
        values = pd.to_numeric(table[column], errors="coerce").astype(float)
        known = values.dropna()
        median = float(known.median()) if len(known) else np.nan
        ranks = known.rank(method="min", ascending=False)
        for unit, value in values.items():
            rows.append(
                {
                    "unit": unit,
                    "indicator": column,
                    "value": value,
                    "median": median,
                    "rank": ranks.get(unit, np.nan),
                    "ranked": float(len(known)),
                }
            )
    frame = pd.DataFrame(
        rows, columns=["unit", "indicator", "value", "median", "rank", "ranked"]
    )
    return frame.set_index(["unit", "indicator"])

"""``quartier analyze suitability`` on the demo city, on both stores."""

from __future__ import annotations

import json

import pytest

from quartier.errors import InvalidInput
from quartier.services.suitability import SuitabilityParams, run_suitability
from quartier.storage.base import SqlStore


def test_cells_scored_ranked_and_kept(city: SqlStore):
    run = run_suitability(city, SuitabilityParams(cell_m=500, top=5))
    s = run.summary
    assert s["people"] == "dasymetric" and s["cells"] > 10
    assert len(s["top"]) == 5
    scores = [t["score"] for t in s["top"]]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
    rows = [r for b in city.read_batches("aptitude_sites") for r in b.to_pylist()]
    assert len(rows) == s["cells"]
    assert all(0 <= r["score"] <= 100 and 0 <= r["hazard_free"] <= 1 for r in rows)
    lineage = json.loads(city.get_dataset("aptitude_sites").lineage)
    assert lineage["inputs"]["competitors"]["dataset"] == "marches"
    assert lineage["parameters"]["cell_m"] == 500


def test_bad_parameters_are_named(city: SqlStore):
    with pytest.raises(InvalidInput, match="unknown criteria: loyer"):
        run_suitability(city, SuitabilityParams(cell_m=500, weights={"loyer": 1}))
    with pytest.raises(InvalidInput, match="larger cells"):
        run_suitability(city, SuitabilityParams(cell_m=5))

"""``quartier analyze expansion`` on the demo city, on both stores."""

from __future__ import annotations

import json

import pytest

from quartier.errors import InvalidInput
from quartier.services.expansion import ExpansionParams, run_expansion
from quartier.storage.base import SqlStore


def test_expansion_by_period_unit_and_ring(city: SqlStore):
    run = run_expansion(city, ExpansionParams(breaks=[1990, 2000, 2010]))
    s = run.summary
    # the demo's years are a separate, illustrative table joined on osm_id
    assert s["dated"] == s["buildings"] and s["undated"] == 0
    assert s["first_year"] < 1990 < 2010 <= s["last_year"]
    assert set(run.datasets) == {
        "expansion_batiments",
        "expansion_periodes",
        "expansion_unites",
        "expansion_anneaux",
    }
    periods = [
        r for b in city.read_batches("expansion_periodes") for r in b.to_pylist()
    ]
    assert [p["period"] for p in periods] == [
        "<1990",
        "1990–1999",
        "2000–2009",
        "≥2010",
    ]
    assert sum(p["buildings"] for p in periods) == s["dated"]
    assert periods[-1]["stock_m2"] == pytest.approx(s["built_m2"], abs=1)
    units = [r for b in city.read_batches("expansion_unites") for r in b.to_pylist()]
    assert sum(u["buildings"] for u in units) == s["dated"]
    result = city.get_dataset("expansion_batiments")
    assert result.illustrative  # built on the illustrative years
    lineage = json.loads(result.lineage)
    assert lineage["parameters"]["key"] == "osm_id"
    assert lineage["inputs"]["years"]["dataset"] == "batiments_annees_illustratives"
    # analysis results are never picked as default inputs of another run
    again = run_expansion(city, ExpansionParams(breaks=[1990, 2000, 2010]))
    assert again.datasets == run.datasets


def test_missing_years_are_named(city: SqlStore):
    with pytest.raises(InvalidInput, match="no year field 'annee'"):
        run_expansion(city, ExpansionParams(year_field="annee"))
    with pytest.raises(InvalidInput, match="increasing years"):
        run_expansion(city, ExpansionParams(breaks=[2010, 2000]))

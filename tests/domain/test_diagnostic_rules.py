"""The diagnostic's rules as tables: the reference list, which dataset answers
which entry, freshness, maturity and the score."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from quartier.domain.diagnostic import (
    Candidate,
    Facts,
    Freshness,
    assign,
    freshness,
    load_reference,
    maturity,
    score,
)
from quartier.errors import InvalidInput


def test_the_shipped_reference_list_is_complete_in_both_languages():
    entries = load_reference()
    assert len(entries) == 25
    keys = {e.key for e in entries}
    assert {"batiments", "routes", "population", "alea_inondation", "abris"} <= keys
    for e in entries:
        assert e.title and e.title_en and e.why and e.why_en, e.key
        assert e.frequency_days >= 365 and e.keywords, e.key


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not a readable JSON"),
        ('{"entries": []}', "non-empty 'entries'"),
        ('{"entries": [{"key": "x"}]}', "entry 1: 'title' needs a French text"),
        (
            '{"entries": [{"key": "x", "title": {"fr": "X"}, "why": {"fr": "Y"},'
            ' "geometry": "cube", "frequency_days": 30}]}',
            "entry 1 (x): geometry 'cube'",
        ),
        (
            '{"entries": [{"key": "x", "title": "X", "why": "Y",'
            ' "frequency_days": 0}]}',
            "'frequency_days' must be a whole number",
        ),
    ],
)
def test_a_broken_reference_file_is_refused_by_entry_and_field(
    tmp_path, content, message
):
    path = tmp_path / "reference.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInput, match=re.escape(message)):
        load_reference(path)


def test_a_city_extends_the_list_and_assigns_datasets_by_hand(tmp_path):
    data = json.loads(load_reference.__globals__["DEFAULT_REFERENCE"].read_text())
    data["entries"].append(
        {
            "key": "cimetieres",
            "title": {"fr": "Cimetières", "en": "Cemeteries"},
            "why": {"fr": "Planifier les inhumations.", "en": "Plan burials."},
            "geometry": "polygon",
            "frequency_days": 1825,
            "keywords": ["cimetiere"],
            "datasets": ["lieux_de_repos"],
        }
    )
    path = tmp_path / "ville.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    entries = load_reference(path)
    got = assign(entries, [Candidate("lieux_de_repos", kind="features")])
    assert got["cimetieres"] == ["lieux_de_repos"]


def entries_and(*candidates: Candidate) -> dict[str, list[str]]:
    found = assign(load_reference(), candidates)
    return {k: v for k, v in found.items() if v}


def test_datasets_find_their_entry_by_words_and_shape():
    got = entries_and(
        Candidate("batiments", "Bâtiments", "bâti", "features", "MULTIPOLYGON"),
        # a table of building years is not a building layer
        Candidate("batiments_annees", "Années", "bâti", "attributes", ""),
        Candidate("zones_crue", "Zones de crue", "risques", "features", "POLYGON"),
        Candidate("erosions", "Ravines", "risques", "features", "MULTIPOLYGON"),
        Candidate("population_2024", "Recensement", "", "attributes", ""),
        Candidate("routes", "Routes", "mobilité", "features", "LINESTRING"),
        # a point layer named like roads does not answer "roads" (lines)
        Candidate("routes_points", "Bornes", "", "features", "POINT"),
        Candidate(
            "occupation_fonciere", "Occupation foncière", "", "features", "POLYGON"
        ),
    )
    assert got == {
        "batiments": ["batiments"],
        "alea_inondation": ["zones_crue"],  # "crue" beats the "rue" of streets
        "alea_erosion": ["erosions"],
        "population": ["population_2024"],
        "routes": ["routes"],
        "foncier": ["occupation_fonciere"],  # the longer word wins over land use
    }


@pytest.mark.parametrize(
    ("last", "days", "expected"),
    [
        ("2026-11-01", 365, Freshness.FRESH),
        ("2025-11-26", 365, Freshness.FRESH),  # exactly one interval
        ("2025-06-01", 365, Freshness.AGEING),
        ("2023-01-01T10:00:00Z", 365, Freshness.STALE),
        (None, 365, Freshness.UNKNOWN),
        ("hier", 365, Freshness.UNKNOWN),
    ],
)
def test_freshness(last, days, expected):
    assert freshness(last, days, date(2026, 11, 26)) is expected


F, A, S = Freshness.FRESH, Freshness.AGEING, Freshness.STALE


@pytest.mark.parametrize(
    ("facts", "level"),
    [
        (Facts(exists=False), 0),
        (Facts(True), 1),
        (Facts(True, documented=False, coverage=1.0, completeness=1.0, freshness=F), 1),
        (Facts(True, documented=True, coverage=0.49), 1),
        (Facts(True, documented=True, coverage=0.5), 2),
        (Facts(True, documented=True, coverage=None), 2),  # not computable: ≤ 2
        (Facts(True, True, True, 0.8, 0.7, S), 2),  # out of date
        (Facts(True, True, True, 0.8, 0.69, F), 2),  # not filled enough
        (Facts(True, True, False, 0.8, 0.7, A), 3),
        (Facts(True, True, False, 1.0, 1.0, F), 3),  # closed: never 4
        (Facts(True, True, True, 0.95, 0.9, A), 3),  # ageing: not 4
        (Facts(True, True, True, 0.95, 0.9, F), 4),
        (Facts(True, True, True, 0.96, None, F), 4),  # no key attribute to fill
    ],
)
def test_maturity_rule(facts, level):
    assert maturity(facts) == level


def test_score_is_the_mean_level_over_four():
    assert score([4] * 25) == 100.0
    assert score([0, 1, 2, 3, 4]) == 50.0
    assert score([]) == 0.0

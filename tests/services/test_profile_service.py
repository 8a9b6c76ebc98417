"""Neighbourhood profiles on the demo city, on both stores."""

from __future__ import annotations

import json

import pytest

from quartier.access import ANONYMOUS
from quartier.domain import AccessLevel
from quartier.errors import NotFound
from quartier.i18n import Translator
from quartier.services.accessibility import AccessibilityParams, run_accessibility
from quartier.services.analyses import read_frame
from quartier.services.exposure import ExposureParams, run_exposure
from quartier.services.importer import ImportOptions, import_path
from quartier.services.profile import (
    build_profiles,
    cached_profiles,
    profile_json,
    write_profiles,
)
from quartier.storage.base import SqlStore


def messages(profiles) -> list[str]:
    return [g.message for g in profiles.gaps]


def test_base_figures_and_missing_analyses(city: SqlStore):
    p = build_profiles(city)
    assert len(p.table) == 17 and p.unit("MBUKU") == "Mbuku"
    row = p.table.loc["Mbuku"]
    assert row["buildings"] == 607 and row["population"] > 0
    assert row["density"] == pytest.approx(row["population"] / row["area_km2"])
    assert p.table["buildings"].sum() == 607  # every building in one unit
    # analyses not run yet are gaps, with the command to run them
    assert any("pas encore lancée" in m for m in messages(p))
    assert not any(k.startswith("exposed_") for k in p.table.columns)
    # the population is an illustrative estimate: said as a gap
    illustrative = [g for g in p.gaps if "illustrative" in g.message]
    assert any("Population" in dict(g.params)["title"] for g in illustrative)
    # units with no mapped building say so
    assert p.unit_gaps["Kabila"] and not p.unit_gaps["Mbuku"]
    with pytest.raises(NotFound, match="no admin unit 'Atlantis'"):
        p.unit("Atlantis")


def test_results_of_analyses_appear_and_are_traced(city: SqlStore):
    run_exposure(city, ExposureParams(buffer_m=30))
    run_accessibility(city, AccessibilityParams())
    p = build_profiles(city)
    assert p.table.loc["Mbuku", "exposed_erosions"] > 0
    assert p.table.loc["Mbuku", "beyond_sante"] >= 0
    slugs = {s.dataset.slug for s in p.sources}
    assert {"exposition_erosions", "acces_sante_synthese", "batiments"} <= slugs
    data = profile_json(p, "Mbuku", Translator("en"))
    labels = {i["key"]: i["label"] for i in data["indicators"]}
    assert labels["exposed_erosions"].startswith("Exposed buildings")
    version = write_profiles(city, p)
    lineage = json.loads(city.get_dataset("profils_quartiers").lineage)
    assert lineage["analysis"] == "profile"
    assert lineage["inputs"]["result:exposition_erosions"]["version"] == 1
    rows = [r for b in city.read_batches("profils_quartiers") for r in b.to_pylist()]
    assert len(rows) == 17 and version.version == 1
    mbuku = next(r for r in rows if r["unite"] == "Mbuku")
    assert mbuku["buildings_rang"] == 1


def test_a_result_older_than_its_inputs_is_a_gap(city: SqlStore, tmp_path):
    run_exposure(city, ExposureParams())
    gullies = read_frame(city, city.get_dataset("erosions"), 4326)
    path = tmp_path / "erosions.geojson"
    gullies.iloc[:-1].to_file(path)
    import_path(city, path, ImportOptions(dataset="erosions"))
    p = build_profiles(city)
    stale = [dict(g.params) for g in p.gaps if "relancez" in g.message]
    assert {
        "result": "exposition_erosions",
        "old": "1",
        "input": "erosions",
        "new": "2",
    } in stale


def test_only_what_the_reader_may_see(city: SqlStore):
    city.update_dataset("ecoles", access=AccessLevel.RESTRICTED)
    seen = build_profiles(city, ANONYMOUS)
    assert "ecoles" not in seen.table and "ecoles" not in seen.layers
    assert "ecoles" not in {s.dataset.slug for s in seen.sources}
    everything = build_profiles(city)
    assert "ecoles" in everything.table
    # the page cache keys on what the reader sees: no mix-up between readers
    assert "ecoles" not in cached_profiles(city, ANONYMOUS).table
    from quartier.access import LOCAL

    assert "ecoles" in cached_profiles(city, LOCAL).table


def test_a_sensitive_field_is_never_aggregated_for_those_who_may_not_see_it(
    city: SqlStore,
):
    from quartier.access import LOCAL

    # the demo's estimate (an illustrative figure) marked personal data
    column = "population_estimee"
    city.update_dataset("population_estimee", sensitive_fields=[column])
    hidden = build_profiles(city, ANONYMOUS)
    assert "population" not in hidden.table and "density" not in hidden.table
    assert "population" in build_profiles(city).table
    # the page cache keys on the hidden fields too
    assert "population" not in cached_profiles(city, ANONYMOUS).table
    assert "population" in cached_profiles(city, LOCAL).table

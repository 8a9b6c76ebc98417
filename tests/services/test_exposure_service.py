"""``quartier analyze exposure`` on the demo city, on both stores: results are
catalogued versions that record their inputs and parameters, reruns add
nothing, and a result is never more open than its inputs."""

from __future__ import annotations

import json

import pytest

from quartier.errors import InvalidInput
from quartier.services.exposure import ExposureParams, run_exposure
from quartier.storage.base import SqlStore


def test_exposure_of_the_demo_is_kept_as_traceable_datasets(city: SqlStore):
    run = run_exposure(city, ExposureParams(buffer_m=30), author="test")
    s = run.summary
    assert s["hazard"] == "erosions" and s["people_method"] == "dasymetric"
    assert 0 < s["buildings_exposed"] < s["buildings_total"]
    assert 0 < s["people_exposed"] < s["people_total"]
    assert set(run.datasets) == {"exposition_erosions", "exposition_erosions_synthese"}

    exposed = city.get_dataset("exposition_erosions")
    assert exposed.feature_count == s["buildings_exposed"]
    assert exposed.kind == "features" and "POLYGON" in exposed.geometry_type
    lineage = json.loads(exposed.lineage)
    assert lineage["analysis"] == "exposure"
    assert lineage["parameters"]["buffer_m"] == 30
    for role in ("hazard", "buildings", "units", "population", "roads"):
        slug = lineage["inputs"][role]["dataset"]
        assert (
            lineage["inputs"][role]["version"] == city.get_dataset(slug).current_version
        )
    assert "facilities.sante" in lineage["inputs"]
    assert exposed.illustrative  # the demo's population is illustrative

    table = city.get_dataset("exposition_erosions_synthese")
    assert table.kind == "attributes"
    rows = [r for b in city.read_batches(table.slug) for r in b.to_pylist()]
    assert sum(r["buildings"] for r in rows) == s["buildings_exposed"]
    assert sum(r["people"] for r in rows) == pytest.approx(s["people_exposed"], abs=1)

    # the same run again adds no version; another parameter does
    again = run_exposure(city, ExposureParams(buffer_m=30), author="test")
    assert again.datasets == run.datasets
    other = run_exposure(city, ExposureParams(buffer_m=10), author="test")
    assert other.datasets["exposition_erosions"] == 2
    assert other.summary["buildings_exposed"] <= s["buildings_exposed"]


def test_a_result_is_as_closed_as_its_most_closed_input(city: SqlStore):
    city.update_dataset("population_estimee", access="restricted")
    run_exposure(city, ExposureParams(buffer_m=30))
    for slug in ("exposition_erosions", "exposition_erosions_synthese"):
        assert city.get_dataset(slug).access.value == "restricted"


def test_a_result_never_opens_up_when_its_inputs_do(city: SqlStore):
    """The access level covers every version: a version computed from
    restricted data stays closed when the next run's inputs are public."""
    city.update_dataset("population_estimee", access="restricted")
    run_exposure(city, ExposureParams(buffer_m=30))
    city.update_dataset("population_estimee", access="public")
    later = run_exposure(city, ExposureParams(buffer_m=10))
    assert later.datasets["exposition_erosions"] == 2
    assert city.get_dataset("exposition_erosions").access.value == "restricted"


def test_unknown_inputs_are_named(city: SqlStore):
    from quartier.errors import InvalidInput

    with pytest.raises(InvalidInput, match="hazard: no dataset 'inondations'"):
        run_exposure(city, ExposureParams(hazard="inondations"))
    with pytest.raises(InvalidInput, match="population"):
        run_exposure(city, ExposureParams(population="population_estimee:habitants"))


def test_a_dataset_people_made_is_never_overwritten_by_a_result(city: SqlStore):
    from quartier.domain import Dataset
    from quartier.errors import Conflict

    city.create_dataset(
        Dataset(slug="exposition_erosions_synthese", title="Notre relevé")
    )
    with pytest.raises(Conflict, match="not written by the exposure analysis"):
        run_exposure(city, ExposureParams(buffer_m=30))
    # checked before anything is written: the other result was not written either
    assert city.get_dataset("exposition_erosions_synthese").current_version == 0
    assert "exposition_erosions" not in {d.slug for d in city.list_datasets()}


def _census(city: SqlStore, tmp_path) -> None:
    """A census table by quartier with women, men and under-fives (fixture data:
    the demo has no breakdown; women + men = the demo's estimate)."""
    from quartier.services.importer import ImportOptions, import_path

    rows = [r for b in city.read_batches("population_estimee") for r in b.to_pylist()]
    lines = ["code,population,femmes,hommes,moins_5_ans,menages"]
    for r in rows:
        total = r["population_estimee"]
        women = total * 52 // 100
        lines.append(f"{r['code']},{total},{women},{total - women},{total // 6},1")
    path = tmp_path / "recensement.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    import_path(
        city,
        path,
        ImportOptions(dataset="recensement", theme="population", join_by="code"),
    )


def test_census_groups_are_counted_per_unit_and_class(city: SqlStore, tmp_path):
    _census(city, tmp_path)
    spec = "recensement:population"
    run = run_exposure(city, ExposureParams(buffer_m=30, population=spec))
    s = run.summary
    exposed = s["people_exposed_by_group"]
    assert list(exposed) == ["femmes", "hommes", "moins_5_ans"]  # not "menages"
    assert exposed["femmes"] + exposed["hommes"] == pytest.approx(
        s["people_exposed"], abs=0.2
    )
    assert 0 < exposed["moins_5_ans"] < exposed["femmes"]
    table = city.get_dataset("exposition_erosions_synthese")
    rows = [r for b in city.read_batches(table.slug) for r in b.to_pylist()]
    for group, value in exposed.items():
        assert sum(r[f"people_{group}"] for r in rows) == pytest.approx(value, abs=1)
    lineage = json.loads(table.lineage)
    assert lineage["inputs"]["population"]["dataset"] == "recensement"

    chosen = ExposureParams(buffer_m=30, population=spec, breakdown=["femmes"])
    assert list(run_exposure(city, chosen).summary["people_exposed_by_group"]) == [
        "femmes"
    ]
    none = ExposureParams(buffer_m=30, population=spec, breakdown=[])
    assert "people_exposed_by_group" not in run_exposure(city, none).summary
    with pytest.raises(InvalidInput, match="breakdown: 'recensement' has no numeric"):
        run_exposure(city, ExposureParams(population=spec, breakdown=["enfants"]))

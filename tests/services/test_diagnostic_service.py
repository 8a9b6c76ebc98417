"""The self-diagnostic on a small city computed by hand, and on the demo,
on both stores."""

from __future__ import annotations

import json
from datetime import date

import pyarrow as pa
import pytest

from quartier.access import ANONYMOUS
from quartier.domain import ActorKind, Dataset, FieldType, Organisation, Workspace
from quartier.domain import Field as F
from quartier.services.diagnostic import diagnose, missing_by_unit, save, to_json
from quartier.services.importer import ImportOptions, import_path
from quartier.storage.base import SqlStore

X0, Y0, D = 15.30, -4.40, 0.001  # four quartiers 0.001° (≈ 111 m) wide, in a row


def square(i: int) -> list:
    x = X0 + i * D
    return [[[x, Y0], [x + D, Y0], [x + D, Y0 + D], [x, Y0 + D], [x, Y0]]]


def point(i: int, dx: float = 0.5) -> list:
    return [X0 + (i + dx) * D, Y0 + D / 2]


def geojson(path, features) -> None:  # type: ignore[no-untyped-def]
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": p, "geometry": g}
                    for p, g in features
                ],
            }
        ),
        encoding="utf-8",
    )


@pytest.fixture
def town(store: SqlStore, tmp_path) -> SqlStore:  # type: ignore[no-untyped-def]
    store.ensure_schema()
    store.add_organisation(Organisation("ville", "Ville", ActorKind.LOCAL_AUTHORITY))
    files = {
        "quartiers": [
            ({"code": c, "name": n}, {"type": "Polygon", "coordinates": square(i)})
            for i, (c, n) in enumerate(
                zip("ABCD", ["Ada", "Bel", "Cap", "Dor"], strict=True)
            )
        ],
        # buildings in A (2, one with levels) and in D (1): 2 of 4 quartiers
        "batiments": [
            (
                {"building": "house", "building:levels": 2},
                {"type": "Polygon", "coordinates": _tiny(0, 0.2)},
            ),
            ({"building": "yes"}, {"type": "Polygon", "coordinates": _tiny(0, 0.6)}),
            ({"building": "school"}, {"type": "Polygon", "coordinates": _tiny(3, 0.5)}),
        ],
        # a road through A, B and C; named over half its length
        "routes": [
            (
                {"highway": "residential", "name": "Av. 1"},
                {"type": "LineString", "coordinates": [point(0, 0.1), point(2, 0.9)]},
            ),
            (
                {"highway": "track", "name": ""},
                {"type": "LineString", "coordinates": [point(1, 0.2), point(1, 0.8)]},
            ),
        ],
    }
    meta = {
        "quartiers": {"theme": "limites", "licence": "ODbL-1.0"},
        "batiments": {"theme": "bâti", "licence": "ODbL-1.0"},
        # the roads are restricted and undocumented (no licence)
        "routes": {"theme": "mobilité", "licence": "", "access": "restricted"},
    }
    for name, features in files.items():
        path = tmp_path / f"{name}.geojson"
        geojson(path, features)
        import_path(
            store,
            path,
            ImportOptions(
                dataset=name,
                title=name.title(),
                producer="ville",
                steward="ville",
                **meta[name],
            ),
        )
    store.set_workspace(Workspace("Ville", 32733, admin_dataset="quartiers"))
    # population for A and B only
    store.create_dataset(
        Dataset(
            "recensement",
            "Recensement",
            theme="population",
            kind="attributes",
            steward="ville",
            licence="CC-BY-4.0",
        )
    )
    store.write_version(
        "recensement",
        [
            pa.record_batch(
                {
                    "code": pa.array(["A", "B"]),
                    "population": pa.array([120, 80], pa.int64()),
                }
            )
        ],
        fields=[F("code", FieldType.TEXT), F("population", FieldType.INTEGER)],
    )
    return store


def _tiny(i: int, dx: float) -> list:
    x, y = point(i, dx)
    e = D / 20
    return [[[x, y], [x + e, y], [x + e, y + e], [x, y + e], [x, y]]]


def by_key(d) -> dict:  # type: ignore[no-untyped-def]
    return {r.entry.key: r for r in d.entries}


def test_figures_computed_from_the_data(town: SqlStore):
    d = diagnose(town, grid_m=50, today=date(2026, 11, 26))
    r = by_key(d)
    # buildings: in 2 of 4 quartiers; "building" filled 3/3, levels 1/3 → 2/3
    b = r["batiments"]
    assert b.datasets == ["batiments"]
    assert b.facts.coverage == 0.5
    assert b.facts.completeness == pytest.approx((1 + 1 / 3) / 2)
    assert b.facts.documented and b.facts.open
    assert b.level == 2  # covers half, not 80 %
    # roads: A, B, C; highway 2/2, name 1/2 (blank), surface 0/2 → 1/2
    ro = r["routes"]
    assert ro.facts.coverage == 0.75
    assert ro.facts.completeness == pytest.approx((1 + 0.5 + 0) / 3)
    assert not ro.facts.documented and not ro.facts.open and ro.level == 1
    # population table joined by code: A and B
    assert r["population"].facts.coverage == 0.5 and r["population"].level == 2
    # admin units: everywhere, complete, documented, open, fresh
    assert r["limites_administratives"].level == 4
    assert r["alea_inondation"].level == 0 and r["alea_inondation"].datasets == []
    assert d.score == pytest.approx(100 * (2 + 1 + 2 + 4) / (4 * 25), abs=0.05)
    # per quartier: C has roads but no buildings nor population
    missing = dict(zip(d.units["name"], missing_by_unit(d), strict=True))
    assert {"batiments", "population"} <= set(missing["Cap"])
    assert "batiments" not in missing["Ada"] and "routes" in missing["Dor"]
    # where buildings are missing: 50 m cells crossed by the road, without a building
    cells = d.cells
    assert cells["missing"].sum() > 0
    assert not (cells["missing"] & cells["buildings"]).any()
    assert set(cells.loc[cells["missing"], "unit"]) <= {"Ada", "Bel", "Cap"}


def test_the_public_diagnostic_knows_only_public_data(town: SqlStore):
    seen = by_key(diagnose(town, ANONYMOUS, grid_m=50))
    assert seen["routes"].datasets == [] and seen["routes"].level == 0
    text = json.dumps(to_json(diagnose(town, ANONYMOUS, grid_m=50)))
    assert '"dataset": "routes"' not in text


def test_saved_results_are_versions_and_their_history_a_time_series(town: SqlStore):
    d = diagnose(town, grid_m=50)
    assert save(town, d, author="test") == [
        "diagnostic_niveaux",
        "diagnostic_quartiers",
        "diagnostic_lacunes_batiments",
    ]
    levels = town.get_dataset("diagnostic_niveaux")
    # a restricted input (the roads) makes the results restricted
    assert levels.access.value == "restricted"
    # the same findings again: no new version
    save(town, diagnose(town, grid_m=50), author="test")
    assert town.get_dataset("diagnostic_niveaux").current_version == 1
    # the diagnostic never reads its own results back as data
    assert "diagnostic_quartiers" not in json.dumps(to_json(diagnose(town, grid_m=50)))


def test_the_demo_city(city: SqlStore):
    d = to_json(diagnose(city))
    assert len(d["entries"]) == 25 and 0 < d["score"] < 100
    for e in d["entries"]:
        assert {"level", "coverage", "completeness", "freshness", "datasets"} <= set(e)
        for x in e["datasets"]:
            assert x["coverage"] is not None and x["completeness"] is not None
    found = {e["key"]: e for e in d["entries"]}
    assert [x["dataset"] for x in found["batiments"]["datasets"]] == ["batiments"]
    assert found["batiments"]["coverage"] > 50
    assert d["building_gaps"]["missing"] > 0
    assert len(d["units"]) == 17


def test_entries_named_like_the_units_columns_change_nothing(town: SqlStore):
    """An entry keyed ``name``, ``code`` or ``geometry`` is one more entry,
    not a column of the admin units (it once broke every diagnostic page)."""
    from quartier.access import LOCAL
    from quartier.domain.diagnostic import shipped_documents
    from quartier.services import reference

    docs = shipped_documents()
    roads = next(d for d in docs if d["key"] == "routes")
    odd = [roads | {"key": k, "keywords": ["route"]} for k in ("name", "geometry")]
    reference.replace_all(town, LOCAL, {"entries": [*docs, *odd]}, "f.json")
    d = diagnose(town, grid_m=50, today=date(2026, 11, 26))
    r = by_key(d)
    assert list(d.units["name"]) == ["Ada", "Bel", "Cap", "Dor"]
    assert d.units.geometry.notna().all()
    missing = dict(zip(d.units["name"], missing_by_unit(d), strict=True))
    assert "batiments" in missing["Cap"]
    assert r["name"].entry.key == "name" and len(to_json(d)["entries"]) == 27

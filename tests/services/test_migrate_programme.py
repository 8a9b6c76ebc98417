"""Objectives, roadmap items and their history travel with ``quartier
migrate`` from a GeoPackage to PostGIS."""

from __future__ import annotations

from pathlib import Path

from quartier.domain import ActorKind, Organisation
from quartier.domain.programme import (
    Indicator,
    Objective,
    ObjectiveStatus,
    Priority,
    RoadmapItem,
)
from quartier.services.migrate import migrate
from quartier.storage import open_store


def test_objectives_and_roadmap_travel(pg_url: str, tmp_path: Path) -> None:
    with open_store(str(tmp_path / "v.gpkg")) as source, open_store(pg_url) as pg:
        source.ensure_schema()
        source.add_organisation(Organisation("ville", "Ville", ActorKind.NGO))
        source.add_objective(
            Objective(
                "o1",
                "Objectif",
                "ville",
                indicators=(Indicator("Score", "score", 80.0),),
                created="2026-01-01",
                author="a",
            )  # fmt: skip
        )
        source.set_objective_status(
            "o1", ObjectiveStatus.ACTIVE, expected=ObjectiveStatus.PROPOSED,
            actor="b", at="2026-01-02", note="voté",
        )  # fmt: skip
        source.add_roadmap_item(
            RoadmapItem(
                "r1", "Élément", "ville", priority=Priority.HIGH, created="2026-01-03"
            )  # fmt: skip
        )
        migrate(source, pg)
        assert pg.get_objective("o1") == source.get_objective("o1")
        assert pg.get_roadmap_item("r1") == source.get_roadmap_item("r1")
        assert pg.list_programme_events("objective", "o1") == (
            source.list_programme_events("objective", "o1")
        )
        assert len(pg.list_programme_events("roadmap", "r1")) == 1


def test_the_city_reference_list_travels(pg_url: str, tmp_path: Path) -> None:
    from quartier.access import LOCAL
    from quartier.domain.diagnostic import shipped_documents
    from quartier.services import reference

    with open_store(str(tmp_path / "v.gpkg")) as source, open_store(pg_url) as pg:
        source.ensure_schema()
        docs = shipped_documents()[:3]
        reference.replace_all(source, LOCAL, {"entries": docs}, "f.json")
        migrate(source, pg)
        assert reference.documents(pg) == (True, docs)
        # and the target's list is editable at once
        reference.remove_entry(pg, LOCAL, docs[0]["key"])
        assert [d["key"] for d in reference.documents(pg)[1]] == [
            d["key"] for d in docs[1:]
        ]

"""``migrate`` carries the ecosystem's tables (capacities, access requests)
from the GeoPackage to PostGIS, ids and decisions included."""

from __future__ import annotations

from quartier.domain import ActorKind, Organisation
from quartier.domain.ecosystem import (
    AccessRequest,
    Capacity,
    CapacityKind,
    RequestStatus,
)
from quartier.services.migrate import migrate
from quartier.storage import open_store


def test_capacities_and_requests_are_migrated(tmp_path, make_pg_db):
    with open_store(str(tmp_path / "ville.gpkg")) as source:
        source.ensure_schema()
        source.add_organisation(Organisation("unikin", "UNIKIN", ActorKind.UNIVERSITY))
        source.add_capacity(
            Capacity(0, "unikin", CapacityKind.CAPACITY, label="Drone", created="t")
        )
        first = source.add_access_request(
            AccessRequest(0, "zones", "u", "unikin", "Thèse", "2026-01-01",
                          "2026-12-31", created="t")
        )  # fmt: skip
        source.add_access_request(
            AccessRequest(0, "routes", "u", "unikin", "Plan", "2026-01-01",
                          "2026-12-31", created="t2")
        )  # fmt: skip
        source.decide_access_request(
            first.id, RequestStatus.REFUSED, by="cheffe", at="t3", reason="non"
        )
        with open_store(make_pg_db()) as target:
            target.ensure_schema()
            migrate(source, target)
            assert [c.label for c in target.list_capacities()] == ["Drone"]
            assert target.list_access_requests() == source.list_access_requests()
            # the numbering goes on after the copied requests
            made = target.add_access_request(
                AccessRequest(0, "x", "u", "unikin", "p", "2026-01-01", "2026-01-02")
            )
            assert made.id == 3

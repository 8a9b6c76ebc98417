"""A tiny city for the programme tests: two quartiers, buildings in one of
them (coverage 50 %), and a restricted dataset of an NGO whose name must
never reach those who may not read it."""

from __future__ import annotations

import pyarrow as pa
import shapely

from quartier.access import LOCAL
from quartier.domain import (
    AccessLevel,
    ActorKind,
    Dataset,
    Field,
    FieldType,
    Organisation,
)
from quartier.domain.workspace import Workspace
from quartier.services import accounts

X0, Y0 = 15.34, -4.41
SECRET = "QZ-RESERVE-ZONES"
PASSWORD = "un-mot-de-passe"


def _polygons(store, slug: str, title: str, shapes, access="public", org="ville"):  # type: ignore[no-untyped-def]
    store.create_dataset(
        Dataset(
            slug=slug,
            title=title,
            access=AccessLevel(access),
            producer=org,
            steward=org,
        )
    )
    batch = pa.record_batch(
        {
            "geometry": pa.array([s.wkb for s in shapes], pa.binary()),
            "code": pa.array([f"C{i}" for i in range(len(shapes))]),
            "name": pa.array([f"Quartier {i}" for i in range(len(shapes))]),
        }
    )
    store.write_version(
        slug,
        [batch],
        fields=[Field("code", FieldType.TEXT), Field("name", FieldType.TEXT)],
        geometry_type="POLYGON",
    )


def build_city(store) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    """The city; returns bearer headers per user name."""
    store.ensure_schema()
    for slug, kind in (
        ("ville", "local_authority"),
        ("ong", "ngo"),
        ("unikin", "university"),
    ):
        store.add_organisation(Organisation(slug, slug.upper(), ActorKind(kind)))
    west = shapely.box(X0 - 0.02, Y0 - 0.01, X0, Y0 + 0.01)
    east = shapely.box(X0, Y0 - 0.01, X0 + 0.02, Y0 + 0.01)
    _polygons(store, "unites", "Quartiers", [west, east])
    store.set_workspace(Workspace("Ville", 32733, admin_dataset="unites"))
    house = shapely.box(X0 - 0.011, Y0 - 0.001, X0 - 0.01, Y0)
    _polygons(store, "batiments", "Bâtiments", [house])
    _polygons(store, "zones_secretes", f"Zones {SECRET}", [house], "restricted", "ong")
    headers = {}
    for name, org, role, display in (
        ("cheffe", "ville", "steward", "Awa Diop"),
        ("lecteur", "ville", "viewer", ""),
        ("gardien", "ong", "steward", ""),
        ("partenaire", "unikin", "viewer", ""),
    ):
        accounts.create_user(
            store, name, password=PASSWORD, display_name=display, actor=LOCAL
        )
        accounts.grant_role(store, name, org, role, actor=LOCAL)
        secret = accounts.issue_token(store, name, actor=LOCAL).secret
        headers[name] = {"Authorization": f"Bearer {secret}"}
    headers["anonyme"] = {}
    return headers

"""``GET /api/isochrone``: areas reached from a point, on both stores, through
the one authorisation layer (restricted roads do not exist for anonymous)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pytest
import shapely
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import shape
from webutil import make_client

from quartier.access import LOCAL
from quartier.analysis.grid_shapes import _cells_polygon
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
from quartier.services import analyses as an
from quartier.storage.base import SqlStore

# Kisenso, Kinshasa; 0.01° ≈ 1.1 km
X0, Y0 = 15.34, -4.41


def _point_on_demo_roads(store: SqlStore) -> tuple[float, float]:
    roads = an.read_frame(store, store.get_dataset("routes"), 4326)
    longest = roads.geometry.iloc[int(roads.to_crs(32733).length.argmax())]
    xy = shapely.get_coordinates(longest)  # a vertex: a node of the graph
    return float(xy[len(xy) // 2, 0]), float(xy[len(xy) // 2, 1])


def _areas(body: dict) -> list:
    return [shape(f["geometry"]) for f in body["features"]]


def test_areas_hold_the_point_and_the_smaller_ones(demo_client, demo_store):
    lon, lat = _point_on_demo_roads(demo_store)
    url = f"/api/isochrone?lon={lon}&lat={lat}&minutes=10,5&profile=walk"
    r = demo_client.get(url)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/geo+json"
    body = r.json()
    assert body["type"] == "FeatureCollection"
    assert [f["properties"]["minutes"] for f in body["features"]] == [5, 10]
    assert body["roads"] == {"dataset": "routes", "version": 1}
    assert body["walk_m"] < 1
    five, ten = _areas(body)
    assert five.is_valid and ten.is_valid
    assert five.contains(shapely.Point(lon, lat))
    # nested exactly in the working CRS; in lon/lat, up to the rounding (1e-6°)
    assert ten.buffer(2e-6).contains(five)
    assert ten.area > five.area
    # the graph is kept: the same answer again
    assert demo_client.get(url).json() == body

    drive = demo_client.get(f"/api/isochrone?lon={lon}&lat={lat}&profile=drive")
    assert drive.status_code == 200, drive.text
    assert [f["properties"]["minutes"] for f in drive.json()["features"]] == [
        5,
        10,
        15,
    ]
    assert _areas(drive.json())[0].contains(shapely.Point(lon, lat))


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("lat=-4.4", "lon"),
        ("lon=200&lat=-4.4", "lon"),
        ("lon=15.3&lat=-95", "lat"),
        ("lon=nan&lat=-4.4", "lon"),
        ("lon=15.3&lat=-4.4&minutes=0", "minutes"),
        ("lon=15.3&lat=-4.4&minutes=121", "minutes"),
        ("lon=15.3&lat=-4.4&minutes=1,2,3,4,5,6", "minutes"),
        ("lon=15.3&lat=-4.4&minutes=dix", "minutes"),
        ("lon=15.3&lat=-4.4&minutes=", "minutes"),
        ("lon=15.3&lat=-4.4&profile=bike", "profile"),
        # far from every road of Kisenso
        ("lon=15.0&lat=-4.4", "from the nearest road"),
        ("lon=0&lat=0", "from the nearest road"),
    ],
)
def test_bad_parameters_are_refused_clearly(demo_client, query, says):
    r = demo_client.get(f"/api/isochrone?{query}")
    assert r.status_code == 400, r.text
    assert says in r.json()["description"]


# ---------------------------------------------- roads that are not public
def _roads_batch(length_deg: float) -> pa.RecordBatch:
    lines = [
        shapely.LineString([(X0, Y0), (X0 + length_deg, Y0)]),
        shapely.LineString([(X0 + 0.005, Y0), (X0 + 0.005, Y0 + 0.01)]),
    ]
    return pa.record_batch(
        {
            "geometry": pa.array([g.wkb for g in lines], pa.binary()),
            "highway": pa.array(["primary", "residential"]),
        }
    )


@pytest.fixture
def town(store: SqlStore) -> Iterator[tuple[TestClient, SqlStore, dict]]:
    """A small town whose only roads dataset is restricted to the city's staff."""
    store.ensure_schema()
    store.set_workspace(Workspace(name="Ville", working_crs=32733))
    store.add_organisation(Organisation("ville", "Ville", ActorKind.LOCAL_AUTHORITY))
    store.create_dataset(
        Dataset(
            slug="voies",
            title="Voies",
            theme="mobilité",
            access=AccessLevel.RESTRICTED,
            producer="ville",
        )
    )
    store.write_version(
        "voies",
        [_roads_batch(0.01)],
        fields=[Field("highway", FieldType.TEXT)],
        geometry_type="LINESTRING",
    )
    accounts.create_user(store, "agent", password="un-mot-de-passe", actor=LOCAL)
    accounts.grant_role(store, "agent", "ville", "viewer", actor=LOCAL)
    token = accounts.issue_token(store, "agent", actor=LOCAL).secret
    with make_client(store, webhook_interval=0) as client:
        yield client, store, {"Authorization": f"Bearer {token}"}


URL = f"/api/isochrone?lon={X0 + 0.002}&lat={Y0}&minutes=5,10"


def test_restricted_roads_are_not_found_for_anonymous(town):
    client, store, agent = town
    r = client.get(URL)
    assert r.status_code == 404
    assert "voies" not in r.text
    seen = client.get(URL, headers=agent)
    assert seen.status_code == 200, seen.text
    assert seen.json()["roads"] == {"dataset": "voies", "version": 1}
    # made public: anonymous callers get it too
    store.update_dataset("voies", access="public")
    assert client.get(URL).status_code == 200
    # restricted again: the graph kept in the process gives nothing away
    store.update_dataset("voies", access="restricted")
    assert client.get(URL).status_code == 404


def test_a_new_version_of_the_roads_is_used_at_once(town):
    client, store, agent = town
    # by car, 10 minutes go past the end of the main road (1.1 km)
    url = f"/api/isochrone?lon={X0}&lat={Y0}&minutes=10&profile=drive"
    before = client.get(url, headers=agent).json()
    store.write_version(
        "voies",
        [_roads_batch(0.03)],  # the main road three times as long
        fields=[Field("highway", FieldType.TEXT)],
        geometry_type="LINESTRING",
    )
    after = client.get(url, headers=agent).json()
    assert after["roads"]["version"] == 2
    assert _areas(after)[0].area > 2 * _areas(before)[0].area


def test_no_roads_dataset_is_not_found(client):
    r = client.get("/api/isochrone?lon=15.3&lat=-4.4")
    assert r.status_code == 404
    assert "roads" in r.json()["description"]


# ------------------------------- the areas' geometry, behind the endpoint
@settings(max_examples=200, deadline=None)
@given(
    cells=st.lists(
        st.lists(st.booleans(), min_size=12, max_size=12), min_size=12, max_size=12
    )
)
def test_cells_become_valid_polygons_of_the_same_area(cells):
    """Cells touching by a corner only, holes, islands in holes: the rings
    followed from the grid make valid polygons covering exactly the cells
    (GEOS's polygonize of every unit edge is the reference)."""
    grid = np.pad(np.array(cells, dtype=bool), 1)
    if not grid.any():
        return
    area = _cells_polygon(grid)
    assert area.is_valid, shapely.is_valid_reason(area)
    assert area.area == grid.sum()
    rows, cols = np.nonzero(grid)
    reference = shapely.union_all(shapely.box(cols, rows, cols + 1, rows + 1))
    assert area.symmetric_difference(reference).area == 0

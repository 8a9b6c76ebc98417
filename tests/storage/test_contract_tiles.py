"""Storage contract, vector tiles: ``tile`` and ``dataset_stamp`` on both stores.

Features are placed at known tile coordinates of one z16 tile over Kisenso,
so both stores must give exactly the same features, ids, properties and
coordinates (decoded with mapbox-vector-tile, y down).
"""

from __future__ import annotations

import datetime as dt
import math

import mapbox_vector_tile
import numpy as np
import pyarrow as pa
import pytest
import shapely

from quartier.domain import Dataset, Field, FieldType
from quartier.domain.fieldtypes import ARROW_TYPES
from quartier.errors import InvalidInput, NotFound
from quartier.io import mvt

Z, X, Y = 16, 35562, 33571  # a tile of Kisenso, Kinshasa
EXTENT = 4096


def lonlat(px: float, py: float, z: int = Z, x: int = X, y: int = Y) -> tuple:
    """Longitude and latitude of tile coordinates (inverse Web Mercator)."""
    n = 2**z
    lon = (x + px / EXTENT) / n * 360 - 180
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y + py / EXTENT) / n))))
    return lon, lat


def at(wkt_tile: str) -> bytes:
    """WKB in EPSG:4326 of a geometry written in tile coordinates."""
    g = shapely.transform(
        shapely.from_wkt(wkt_tile),
        lambda c: np.array([lonlat(px, py) for px, py in c]).reshape(-1, 2),
    )
    return shapely.to_wkb(g, flavor="iso")


SQUARE = "POLYGON ((500 500, 1500 500, 1500 1500, 500 1500, 500 500), (800 800, 900 800, 900 900, 800 900, 800 800))"
FEATURES = [  # (tile WKT or None, name, n): fids 1…7
    ("POINT (100 200)", "inside", 1),
    ("POINT (4126 10)", "in the buffer", 2),
    ("POINT (4196 10)", "beyond the buffer", 3),
    ("LINESTRING (-500 1000, 1000 1000)", "crossing the edge", 4),
    (SQUARE, "with a hole", 5),
    ("POINT (-9000 -9000)", "another tile", 6),
    (None, "no geometry", 7),
]
FIELDS = [
    Field("name", FieldType.TEXT),
    Field("n", FieldType.INTEGER),
    Field("v", FieldType.REAL),
    Field("ok", FieldType.BOOLEAN),
    Field("day", FieldType.DATE),
    Field("at", FieldType.DATETIME),
    Field("raw", FieldType.BLOB),
]


def write(store, slug="lieux", features=FEATURES, geometry_type="GEOMETRY"):
    if slug not in {d.slug for d in store.list_datasets()}:
        store.create_dataset(Dataset(slug=slug, title=slug))
    n = len(features)
    values = {
        "name": [f[1] for f in features],
        "n": [f[2] for f in features],
        "v": [f[2] / 2 for f in features],
        "ok": [f[2] % 2 == 0 for f in features],
        "day": [dt.date(2024, 5, f[2]) for f in features],
        "at": [dt.datetime(2024, 5, 1, 10, f[2], tzinfo=dt.UTC) for f in features],
        "raw": [b"\x00"] * n,
    }
    arrays = {f.name: pa.array(values[f.name], ARROW_TYPES[f.type]) for f in FIELDS}
    geoms = pa.array(
        [None if f[0] is None else at(f[0]) for f in features], pa.binary()
    )
    batch = pa.record_batch({"geometry": geoms, **arrays})
    return store.write_version(
        slug, [batch], fields=FIELDS, geometry_type=geometry_type
    )


def decode(data: bytes, name: str = "lieux") -> dict[int, dict]:
    if not data:
        return {}
    layer = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})
    return {f["id"]: f for f in layer[name]["features"]}


def shape(feature: dict):
    return shapely.normalize(shapely.geometry.shape(feature["geometry"]))


def test_tile_holds_the_features_meeting_the_tile_and_its_buffer(store):
    write(store)
    names = [f.name for f in FIELDS]
    tile = store.tile("lieux", Z, X, Y, columns=names)
    assert not tile.aggregated
    feats = decode(tile.data)
    assert sorted(feats) == [1, 2, 4, 5]
    assert feats[1]["geometry"] == {"type": "Point", "coordinates": [100, 200]}
    assert feats[2]["geometry"] == {"type": "Point", "coordinates": [4126, 10]}
    assert feats[4]["geometry"] == {
        "type": "LineString",
        "coordinates": [[-64, 1000], [1000, 1000]],
    }
    assert shape(feats[5]).equals(shapely.from_wkt(SQUARE))
    assert feats[5]["properties"] == {
        "name": "with a hole",
        "n": 5,
        "v": 2.5,
        "ok": False,
        "day": "2024-05-05",
        "at": "2024-05-01T10:05:00Z",
    }  # the blob field has no MVT type


def test_tile_properties_are_only_the_columns_asked_for(store):
    write(store)
    feats = decode(store.tile("lieux", Z, X, Y, columns=["n"]).data)
    assert {k: f["properties"] for k, f in feats.items()} == {
        1: {"n": 1},
        2: {"n": 2},
        4: {"n": 4},
        5: {"n": 5},
    }
    assert decode(store.tile("lieux", Z, X, Y, columns=[]).data)[1]["properties"] == {}
    with pytest.raises(InvalidInput, match="nope"):
        store.tile("lieux", Z, X, Y, columns=["nope"])


def test_neighbouring_tiles_share_features_in_their_buffers(store):
    write(store)
    right = decode(store.tile("lieux", Z, X + 1, Y, columns=[]).data)
    # the point 30 units past the right edge is 30 units into the next tile
    assert right[2]["geometry"]["coordinates"] == [30, 10]
    assert right[3]["geometry"]["coordinates"] == [100, 10]
    assert 1 not in right
    left = decode(store.tile("lieux", Z, X - 1, Y, columns=[]).data)
    assert sorted(left) == [4]  # only the line reaches back over the edge


def test_lower_zooms_give_the_same_ids_on_both_stores(store):
    write(store)
    # z12 covers the z16 tile and its neighbours: every feature with a geometry
    feats = decode(store.tile("lieux", 12, X // 16, Y // 16, columns=["name"]).data)
    assert sorted(feats) == [1, 2, 3, 4, 5, 6]
    assert feats[3]["properties"] == {"name": "beyond the buffer"}


def test_empty_tiles_and_datasets_without_tiles(store):
    write(store)
    assert store.tile("lieux", Z, X, Y + 5, columns=[]).data == b""
    store.create_dataset(Dataset(slug="vide", title="vide"))
    assert store.tile("vide", Z, X, Y, columns=[]).data == b""  # no version yet
    store.create_dataset(Dataset(slug="table", title="table", kind="attributes"))
    with pytest.raises(NotFound, match="no geometry"):
        store.tile("table", 0, 0, 0, columns=[])
    with pytest.raises(NotFound):
        store.tile("inconnu", 0, 0, 0, columns=[])
    for z, x, y in ((25, 0, 0), (-1, 0, 0), (2, 4, 0), (2, 0, -1)):
        with pytest.raises(InvalidInput):
            store.tile("lieux", z, x, y, columns=[])


def test_tiles_show_the_current_version_only(store):
    write(store)
    moved = [("POINT (3000 3000)", "moved", 1)]
    write(store, features=moved)
    feats = decode(store.tile("lieux", Z, X, Y, columns=["name"]).data)
    assert [f["properties"]["name"] for f in feats.values()] == ["moved"]
    assert next(iter(feats.values()))["geometry"]["coordinates"] == [3000, 3000]


def test_over_full_tiles_are_aggregated_not_truncated(store):
    grid = [
        (f"POINT ({100 + 37 * i} {100 + 41 * j})", f"p{i}-{j}", 1)
        for i in range(10)
        for j in range(10)
    ]
    write(
        store,
        features=grid + [("POINT (4130 10)", "in the buffer", 1)],
        geometry_type="POINT",
    )
    full = store.tile("lieux", Z, X, Y, columns=[], max_features=200)
    assert not full.aggregated and len(decode(full.data)) == 101
    tile = store.tile("lieux", Z, X, Y, columns=["name"], max_features=50)
    assert tile.aggregated
    cells = _features(tile.data)
    # each feature counted once, in the tile holding its centre
    assert sum(f["properties"][mvt.COUNT_PROPERTY] for f in cells) == 100
    assert {f["geometry"]["type"] for f in cells} == {"Point"}
    assert all(set(f["properties"]) == {mvt.COUNT_PROPERTY} for f in cells)


def test_aggregated_polygons_are_drawn_as_cells(store):
    squares = [
        (f"POLYGON (({x} 10, {x + 20} 10, {x + 20} 30, {x} 30, {x} 10))", "b", 1)
        for x in range(0, 4000, 100)
    ]
    write(store, slug="bati", features=squares, geometry_type="POLYGON")
    tile = store.tile("bati", Z, X, Y, columns=[], max_features=10)
    cells = _features(tile.data, "bati")
    assert tile.aggregated
    assert sum(f["properties"][mvt.COUNT_PROPERTY] for f in cells) == 40
    assert {f["geometry"]["type"] for f in cells} == {"Polygon"}


def _features(data: bytes, name: str = "lieux") -> list[dict]:
    layer = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})
    return layer[name]["features"]


def test_dataset_stamp_moves_with_versions_and_metadata(store):
    store.create_dataset(Dataset(slug="lieux", title="Lieux"))
    first = store.dataset_stamp("lieux")
    assert first[0] == 0
    write(store)
    second = store.dataset_stamp("lieux")
    assert second[0] == 1 and second != first
    store.update_dataset("lieux", sensitive_fields=["name"])
    third = store.dataset_stamp("lieux")
    assert third[0] == 1 and third != second
    with pytest.raises(NotFound):
        store.dataset_stamp("inconnu")

"""The MVT encoder, checked with an independent decoder (mapbox-vector-tile).

Geometries are given in tile units (extent 4096, y down) unless a test says
otherwise; tiles are decoded with ``y_coord_down`` so coordinates compare as
written.
"""

from __future__ import annotations

import datetime as dt

import mapbox_vector_tile
import numpy as np
import pyarrow as pa
import pytest
import shapely

from quartier.io import mvt
from quartier.io.mvt_wire import varint, varints


def decode(data: bytes, name: str = "t") -> list[dict]:
    tile = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})
    assert list(tile) == [name]
    assert tile[name]["extent"] == 4096
    assert tile[name]["version"] == 2
    return tile[name]["features"]


def encode(wkts: list[str | None], **kw) -> bytes:
    return mvt.encode_layer("t", shapely.from_wkt(wkts), **kw)


def shoelace(ring: list[list[float]]) -> float:
    """Twice the signed area in tile coordinates (y down), as the spec says."""
    return sum(
        ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1]
        for i in range(len(ring) - 1)
    )


def fields(data: bytes) -> dict[int, list]:
    """The raw fields of the (single) layer: a minimal protobuf walk."""

    def read_varint(buf: bytes, i: int) -> tuple[int, int]:
        n = shift = 0
        while True:
            b = buf[i]
            n |= (b & 0x7F) << shift
            i += 1
            shift += 7
            if b < 0x80:
                return n, i

    def walk(buf: bytes) -> dict[int, list]:
        out: dict[int, list] = {}
        i = 0
        while i < len(buf):
            key, i = read_varint(buf, i)
            field, wire = key >> 3, key & 7
            if wire == 0:
                value, i = read_varint(buf, i)
            elif wire == 2:
                size, i = read_varint(buf, i)
                value, i = buf[i : i + size], i + size
            else:
                assert wire == 1
                value, i = buf[i : i + 8], i + 8
            out.setdefault(field, []).append(value)
        return out

    (layer,) = walk(data)[3]
    return walk(layer)


# ------------------------------------------------------------------ geometry
def test_points_and_multipoints_keep_their_coordinates():
    feats = decode(encode(["POINT (10 20)", "MULTIPOINT ((1 1), (4000 5))"]))
    assert [f["geometry"] for f in feats] == [
        {"type": "Point", "coordinates": [10, 20]},
        {"type": "MultiPoint", "coordinates": [[1, 1], [4000, 5]]},
    ]


def test_lines_and_multilines_continue_the_cursor_across_parts():
    feats = decode(
        encode(
            [
                "LINESTRING (0 0, 100 0, 100 100)",
                "MULTILINESTRING ((5 5, 9 9), (20 5, 30 5))",
            ]
        )
    )
    assert feats[0]["geometry"] == {
        "type": "LineString",
        "coordinates": [[0, 0], [100, 0], [100, 100]],
    }
    assert feats[1]["geometry"] == {
        "type": "MultiLineString",
        "coordinates": [[[5, 5], [9, 9]], [[20, 5], [30, 5]]],
    }


@pytest.mark.parametrize("reverse", [False, True])
def test_polygon_rings_are_oriented_as_the_spec_says(reverse):
    outer = [(0, 0), (0, 100), (100, 100), (100, 0), (0, 0)]
    hole = [(20, 20), (40, 20), (40, 40), (20, 40), (20, 20)]
    if reverse:  # the encoder must fix either input orientation
        outer, hole = outer[::-1], hole[::-1]
    (feat,) = decode(mvt.encode_layer("t", [shapely.Polygon(outer, [hole])]))
    rings = feat["geometry"]["coordinates"]
    assert feat["geometry"]["type"] == "Polygon" and len(rings) == 2
    assert shoelace(rings[0]) > 0  # exterior: clockwise on screen
    assert shoelace(rings[1]) < 0  # hole
    assert shapely.geometry.shape(feat["geometry"]).area == 100 * 100 - 20 * 20


def test_multipolygons_with_holes_keep_every_ring():
    wkt = (
        "MULTIPOLYGON (((0 0, 100 0, 100 100, 0 100, 0 0), (10 10, 20 10, 20 20, "
        "10 20, 10 10)), ((200 200, 300 200, 300 300, 200 300, 200 200), (210 210, "
        "220 210, 220 220, 210 220, 210 210), (250 250, 260 250, 260 260, 250 260, "
        "250 250)))"
    )
    (feat,) = decode(encode([wkt]))
    polys = feat["geometry"]["coordinates"]
    assert feat["geometry"]["type"] == "MultiPolygon"
    assert [len(p) for p in polys] == [2, 3]
    for poly in polys:
        assert shoelace(poly[0]) > 0
        assert all(shoelace(h) < 0 for h in poly[1:])
    assert shapely.geometry.shape(feat["geometry"]).equals(shapely.from_wkt(wkt))


def test_geometries_are_clipped_to_the_buffer():
    line = "LINESTRING (-1000 50, 5000 50)"
    square = "POLYGON ((-500 -500, 500 -500, 500 500, -500 500, -500 -500))"
    feats = decode(encode([line, square], buffer=64))
    assert feats[0]["geometry"]["coordinates"] == [[-64, 50], [4160, 50]]
    clipped = shapely.geometry.shape(feats[1]["geometry"])
    assert clipped.bounds == (-64, -64, 500, 500)


def test_points_on_the_buffer_edge_stay_and_beyond_it_go():
    feats = decode(
        encode(
            [
                "POINT (-64 10)",
                "POINT (4160 4160)",
                "POINT (-65 10)",
                "POINT (10 4161)",
            ],
            ids=np.arange(4),
            buffer=64,
        )
    )
    assert [f["id"] for f in feats] == [0, 1]


def test_geometries_that_collapse_on_the_grid_are_dropped():
    data = encode(
        [
            "POLYGON ((10.1 10.1, 10.3 10.1, 10.3 10.3, 10.1 10.1))",  # a speck
            "LINESTRING (5.1 5.1, 5.2 5.2)",  # one point once rounded
            "POLYGON ((0 0, 0 4, 0 8, 0 0))",  # no area
            "POINT (7 7)",
        ],
        ids=np.arange(4),
    )
    assert [f["id"] for f in decode(data)] == [3]


def test_an_empty_layer_is_no_tile():
    assert encode([]) == b""
    assert encode([None, "POINT EMPTY", "POINT (99999 99999)"]) == b""


def test_simplification_removes_vertices_only_below_the_tolerance():
    xs = np.linspace(0, 4000, 200)
    wiggly = shapely.LineString(np.column_stack([xs, 100 + 0.3 * np.sin(xs)]))
    kinked = shapely.LineString([(0, 0), (2000, 0), (2000, 2000)])
    full, simple = (
        decode(mvt.encode_layer("t", [wiggly, kinked], tolerance=t)) for t in (0, 1)
    )
    assert len(simple[0]["geometry"]["coordinates"]) < len(
        full[0]["geometry"]["coordinates"]
    )
    assert simple[1]["geometry"] == full[1]["geometry"]  # a real corner stays


# ---------------------------------------------------------------- properties
def test_properties_of_every_type_and_ids():
    props = {
        "text": pa.array(["été", None]),
        "int": pa.array([-3, 2**40], pa.int64()),
        "real": pa.array([1.5, None]),
        "flag": pa.array([True, False]),
        "day": pa.array([dt.date(2024, 5, 1), None]),
        "when": pa.array(
            [dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC), None], pa.timestamp("s", "UTC")
        ),
        "blob": pa.array([b"\x00", b"\x01"]),  # no MVT type: left out
        "nothing": pa.array([None, None], pa.string()),
    }
    feats = decode(
        encode(
            ["POINT (1 1)", "POINT (2 2)"], ids=np.array([7, 2**40]), properties=props
        )
    )
    assert [f["id"] for f in feats] == [7, 2**40]
    assert feats[0]["properties"] == {
        "text": "été",
        "int": -3,
        "real": 1.5,
        "flag": True,
        "day": "2024-05-01",
        "when": "2024-05-01T10:00:00Z",
    }
    assert feats[1]["properties"] == {"int": 2**40, "flag": False}


@pytest.mark.parametrize("n", [3, 300])  # value by value, and dictionary-encoded
def test_keys_and_values_are_deduplicated(n):
    props = {
        "a": ["x"] * n,
        "b": ["x"] * n,  # the same value in another column: one value entry
        "c": [1] * n,
        "d": [True] * n,
    }
    data = encode(["POINT (1 1)"] * n, properties=props)
    layer = fields(data)
    assert layer[3] == [b"a", b"b", b"c", b"d"]  # keys
    assert len(layer[4]) == 3  # values: "x", 1, True
    assert len(layer[2]) == n  # features


def test_many_distinct_values_are_encoded_in_bulk_and_decode_exactly():
    n = 500
    rng = np.random.default_rng(3)
    texts = [f"nom-{i}-é{'x' * (i % 150)}" for i in range(n)]  # some over 127 bytes
    ints = rng.integers(-(2**40), 2**40, n)
    reals = rng.normal(size=n)
    props = {"t": texts, "i": pa.array(ints), "r": pa.array(reals)}
    feats = decode(encode(["POINT (1 1)"] * n, ids=np.arange(n), properties=props))
    assert [f["properties"]["t"] for f in feats] == texts
    assert [f["properties"]["i"] for f in feats] == ints.tolist()
    assert [f["properties"]["r"] for f in feats] == reals.tolist()


def test_features_keep_their_input_order_across_geometry_types():
    wkts = [
        "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0))",
        "POINT (1 1)",
        "LINESTRING (0 0, 5 5)",
    ]
    feats = decode(encode(wkts * 3, ids=np.arange(9)))
    assert [f["id"] for f in feats] == list(range(9))
    assert [f["geometry"]["type"] for f in feats[:3]] == [
        "Polygon",
        "Point",
        "LineString",
    ]


# ----------------------------------------------------------------- WKB path
def test_wkb_and_shapely_inputs_give_the_same_tile():
    z, x, y = 14, 8890, 8392
    w, s, e, n = mvt.tile_bbox(z, x, y)
    dx, dy = (e - w) / 10, (n - s) / 10
    box = shapely.box(w + dx, s + dy, w + 3 * dx, s + 3 * dy)
    holed = shapely.Polygon(
        box.exterior.coords,
        [
            shapely.box(
                w + 1.5 * dx, s + 1.5 * dy, w + 2 * dx, s + 2 * dy
            ).exterior.coords
        ],
    )
    geoms = [
        shapely.Point(w + dx, n - dy),
        shapely.MultiPoint([(w + dx, s + dy), (e - dx, n - dy)]),
        shapely.LineString([(w - dx, s + 5 * dy), (e + dx, s + 5 * dy)]),  # crossing
        shapely.MultiLineString([[(w + dx, s + dy), (w + 2 * dx, s + 2 * dy)]]),
        holed,
        shapely.MultiPolygon(
            [holed, shapely.box(e - 2 * dx, n - 2 * dy, e + dx, n + dy)]
        ),
        shapely.GeometryCollection([shapely.Point(w + dx, s + dy)]),
        shapely.Point(),
        None,
        shapely.from_wkt(f"POINT Z ({w + 2 * dx} {s + 2 * dy} 5)"),
    ]
    wkb = [None if g is None else shapely.to_wkb(g, flavor="iso") for g in geoms]
    wkb.append(shapely.to_wkb(holed, byte_order=0))  # big-endian: the GEOS path
    geoms.append(holed)
    args = {"ids": np.arange(len(geoms)), "tile": (z, x, y), "tolerance": 1.0}
    from_wkb = mvt.encode_layer("t", wkb=wkb, **args)
    from_geoms = mvt.encode_layer("t", np.array(geoms, dtype=object), **args)
    assert from_wkb == from_geoms
    ids = [f["id"] for f in decode(from_wkb)]
    assert ids == [0, 1, 2, 3, 4, 5, 6, 9, 10]


def test_malformed_wkb_is_skipped_not_fatal():
    good = shapely.to_wkb(shapely.Point(10, 10))
    data = mvt.encode_layer(
        "t", wkb=[b"\x01\x03\x00", good[:10], good], ids=np.arange(3)
    )
    assert [f["id"] for f in decode(data)] == [2]


# -------------------------------------------------------------- tile space
def test_tile_space_matches_the_tile_grid():
    z, x, y = 12, 2222, 2098
    w, s, e, n = mvt.tile_bbox(z, x, y)
    px, py = mvt.lonlat_to_tile(np.array([w, e]), np.array([n, s]), z, x, y)
    assert np.allclose(px, [0, 4096]) and np.allclose(py, [0, 4096])
    bw, bs, be, bn = mvt.tile_bbox(z, x, y, buffer=64)
    assert bw < w and bs < s and be > e and bn > n
    assert mvt.tile_bbox(0, 0, 0) == (-180.0, -mvt.MAX_LAT, 180.0, mvt.MAX_LAT)


def test_lonlat_geometries_are_projected_when_the_tile_is_given():
    z, x, y = 10, 555, 524
    w, s, e, n = mvt.tile_bbox(z, x, y)
    (feat,) = decode(mvt.encode_layer("t", [shapely.Point(w, n)], tile=(z, x, y)))
    assert feat["geometry"]["coordinates"] == [0, 0]


# ------------------------------------------------------------- aggregation
@pytest.mark.parametrize("points", [True, False])
def test_cells_count_features_once(points):
    rng = np.random.default_rng(1)
    px, py = rng.uniform(-100, 4200, 5000), rng.uniform(-100, 4200, 5000)
    cx, cy, counts = mvt.cell_counts(px, py)
    inside = ((px >= 0) & (px < 4096) & (py >= 0) & (py < 4096)).sum()
    assert counts.sum() == inside
    feats = decode(mvt.encode_cells("t", cx, cy, counts, points=points))
    assert sum(f["properties"][mvt.COUNT_PROPERTY] for f in feats) == inside
    kind = {f["geometry"]["type"] for f in feats}
    assert kind == ({"Point"} if points else {"Polygon"})
    if not points:
        assert all(shoelace(f["geometry"]["coordinates"][0]) > 0 for f in feats)


# ------------------------------------------------------------------ varints
def test_varints_match_the_protobuf_encoding():
    values = [0, 1, 127, 128, 300, 16383, 16384, 2**32 - 1, 2**32, 2**63, 2**64 - 1]
    data, sizes = varints(np.array(values, dtype=np.uint64))
    assert data.tobytes() == b"".join(varint(v) for v in values)
    assert varint(300) == b"\xac\x02"
    assert sizes.tolist() == [len(varint(v)) for v in values]

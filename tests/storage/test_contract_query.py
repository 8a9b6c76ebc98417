"""Storage contract, query part: keyset pages, exact bbox, filters, by id.

Run on both stores through the ``store`` fixture: the same calls must give
the same rows, in the same (fid) order, on the GeoPackage and on PostGIS.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
import shapely

from quartier.domain import Dataset, Field, FieldType
from quartier.domain.fieldtypes import ARROW_TYPES
from quartier.domain.filters import Compare, parse_cql2
from quartier.errors import InvalidInput, NotFound

UTC = dt.UTC
TEXT, INT, REAL = FieldType.TEXT, FieldType.INTEGER, FieldType.REAL
BOOL, DATE, STAMP = FieldType.BOOLEAN, FieldType.DATE, FieldType.DATETIME


def write(store, slug, geoms, kind="features", **cols):
    """A dataset holding ``geoms`` (shapely or None) and ``cols`` = (type, values)."""
    store.create_dataset(Dataset(slug=slug, title=slug, kind=kind))
    arrays = {n: pa.array(v, ARROW_TYPES[t]) for n, (t, v) in cols.items()}
    if kind == "features":
        wkb = [None if g is None else shapely.to_wkb(g, flavor="iso") for g in geoms]
        arrays = {"geometry": pa.array(wkb, pa.binary()), **arrays}
    fields = [Field(n, t) for n, (t, _) in cols.items()]
    store.write_version(slug, [pa.record_batch(arrays)], fields=fields)


def fids(page):
    return page.batch.column("fid").to_pylist()


def grid(n):
    """Points (i, i/2) with a name, a count and a flag."""
    return dict(
        geoms=[shapely.Point(i, i / 2) for i in range(n)],
        name=(TEXT, [f"p{i}" for i in range(n)]),
        n=(INT, list(range(n))),
    )


# ------------------------------------------------------------------- pages
def test_keyset_pages_walk_every_feature_in_fid_order(store):
    write(store, "points", **grid(23))
    every = [r["fid"] for b in store.read_batches("points") for r in b.to_pylist()]
    seen, after, pages = [], None, 0
    while True:
        page = store.query_features("points", limit=5, after=after)
        seen += fids(page)
        pages += 1
        if not page.more:
            break
        after = fids(page)[-1]
    assert seen == every and pages == 5
    assert len(fids(store.query_features("points", limit=100))) == 23
    # backwards from the end, the same pages
    back = store.query_features("points", limit=5, before=every[10])
    assert fids(back) == every[5:10] and back.more
    first = store.query_features("points", limit=5, before=every[3])
    assert fids(first) == every[:3] and not first.more
    # offset starts at that position among the matches
    assert fids(store.query_features("points", limit=4, offset=20)) == every[20:23]
    assert fids(store.query_features("points", limit=4, offset=99)) == []


def test_page_columns_and_types(store):
    write(store, "points", **grid(3))
    page = store.query_features("points", limit=2, columns=["n"])
    assert page.batch.schema.names == ["fid", "geometry", "n"]
    assert page.batch.column("n").to_pylist() == [0, 1]
    assert shapely.from_wkb(page.batch.column("geometry")[1].as_py()) == shapely.Point(
        1, 0.5
    )
    assert store.feature_fields("points") == [Field("name", TEXT), Field("n", INT)]
    with pytest.raises(InvalidInput, match="unknown property 'nope'"):
        store.query_features("points", columns=["nope"])
    with pytest.raises(InvalidInput, match="at most one"):
        store.query_features("points", after=1, offset=2)
    with pytest.raises(InvalidInput, match="limit"):
        store.query_features("points", limit=0)


def test_feature_by_id(store):
    write(store, "points", **grid(3))
    one = store.get_feature("points", 2, columns=["name"]).to_pylist()
    assert [(r["fid"], r["name"]) for r in one] == [(2, "p1")]
    for missing in (0, 99, 2**70, -(2**70)):
        with pytest.raises(NotFound, match=f"no feature {missing} in dataset 'points'"):
            store.get_feature("points", missing)


def test_only_the_current_version_is_queried(store):
    write(store, "points", **grid(4))
    batch = pa.record_batch(
        {
            "geometry": pa.array([shapely.Point(9, 9).wkb], pa.binary()),
            "name": pa.array(["neuf"]),
            "extra": pa.array([1.5]),
        }
    )
    fields = [Field("name", TEXT), Field("extra", REAL)]
    store.write_version("points", [batch], fields=fields)
    assert store.feature_fields("points") == fields
    page = store.query_features("points")
    assert page.batch.column("name").to_pylist() == ["neuf"]
    assert page.batch.schema.names == ["fid", "geometry", "name", "extra"]
    with pytest.raises(InvalidInput, match="unknown property 'n'"):
        store.query_features("points", where=Compare("n", "=", 1))


def test_empty_and_attribute_datasets(store):
    store.create_dataset(Dataset(slug="vide", title="vide"))
    assert store.query_features("vide").batch.num_rows == 0
    assert store.feature_fields("vide") == []
    write(store, "table", None, kind="attributes", code=(TEXT, ["a", "b"]))
    page = store.query_features("table")
    assert page.batch.schema.names == ["fid", "code"]
    assert page.batch.column("code").to_pylist() == ["a", "b"]
    assert store.query_features("table", bbox=(-180, -90, 180, 90)).batch.num_rows == 0


# -------------------------------------------------------------------- bbox
def test_bbox_selects_exactly_what_intersects(store):
    box = (0.0, 0.0, 10.0, 10.0)
    geoms = [
        shapely.Point(5, 5),  # inside
        shapely.Point(10, 10),  # on the corner: intersects
        shapely.Point(10 + 1e-9, 5),  # outside by less than a float32 step
        # an L whose envelope covers the box but which stays outside it
        shapely.Polygon([(-5, -5), (20, -5), (20, -1), (-1, -1), (-1, 20), (-5, 20)]),
        shapely.LineString([(-5, 5.5), (5, 15.5)]),  # passes the corner (0, 10)
        shapely.LineString([(-5, 5), (5, 15)]),  # touches the corner (0, 10)
        shapely.Polygon([(10, 0), (12, 0), (12, 2), (10, 2)]),  # touches an edge
        None,
        shapely.Polygon([(-50, -50), (50, -50), (50, 50), (-50, 50)]),  # contains it
    ]
    write(store, "formes", geoms, k=(INT, list(range(len(geoms)))))
    hits = store.query_features("formes", bbox=box, limit=100)
    assert hits.batch.column("k").to_pylist() == [0, 1, 5, 6, 8]
    assert not hits.more
    # pages of one stay exact: no candidate that fails the exact test counts
    seen, after = [], None
    while True:
        page = store.query_features("formes", bbox=box, limit=1, after=after)
        seen += page.batch.column("k").to_pylist()
        if not page.more:
            break
        after = fids(page)[-1]
    assert seen == [0, 1, 5, 6, 8]
    page = store.query_features("formes", bbox=box, limit=2, offset=2)
    assert page.batch.column("k").to_pylist() == [5, 6]
    assert page.more
    assert store.query_features("formes", bbox=(100, 100, 101, 101)).batch.num_rows == 0
    with pytest.raises(InvalidInput, match="bbox"):
        store.query_features("formes", bbox=(10, 0, 0, 10))


def test_bbox_pages_match_shapely_on_many_features(store):
    """Small and wide boxes (the two query plans) agree with a plain scan."""
    n = 400
    geoms = [
        shapely.box(x, y, x + 0.7, y + 0.3)
        for x, y in ((i * 7.3 % 50, i * 3.1 % 40) for i in range(n))
    ]
    write(store, "carres", geoms, k=(INT, list(range(n))))
    for box in ((10, 10, 14, 12), (-1, -1, 60, 60), (0, 0, 30, 30)):
        want = [k for k, g in enumerate(geoms) if g.intersects(shapely.box(*box))]
        for limit in (7, 1000):
            got, after = [], None
            while True:
                page = store.query_features(
                    "carres", bbox=box, limit=limit, after=after
                )
                got += page.batch.column("k").to_pylist()
                assert page.batch.num_rows <= limit
                if not page.more:
                    break
                after = fids(page)[-1]
            assert got == want, (box, limit)


# ----------------------------------------------------------------- filters
@pytest.fixture
def shops(store):
    write(
        store,
        "shops",
        [shapely.Point(i, 0) for i in range(6)],
        name=(TEXT, ["Alpha", "alpha", "B_ta", "50%", "[x]*?", None]),
        n=(INT, [1, 2, 3, 4, 5, None]),
        area=(REAL, [0.5, 1.5, 2.5, 3.5, None, 5.5]),
        open=(BOOL, [True, False, True, None, False, True]),
        day=(DATE, [dt.date(2018, 1, d) for d in (1, 2, 3, 4, 5)] + [None]),
        seen=(
            STAMP,
            [dt.datetime(2018, 1, 1, h, 0, 0, 250000, tzinfo=UTC) for h in range(5)]
            + [None],
        ),
        **{"@user": (TEXT, ["u1", "u2", None, None, "u1", "u3"])},
        **{'sûr "oui"': (INT, [1, 0, 1, 0, 1, 0])},
    )
    return store


@pytest.mark.parametrize(
    ("cql", "names"),
    [
        ("name = 'alpha'", ["alpha"]),
        ("name <> 'alpha'", ["Alpha", "B_ta", "50%", "[x]*?"]),
        ("name LIKE 'a%'", ["alpha"]),  # case-sensitive on both stores
        ("name LIKE '_lpha'", ["Alpha", "alpha"]),
        ("name LIKE 'B\\_ta'", ["B_ta"]),
        ("name LIKE '50\\%'", ["50%"]),
        ("name LIKE '[x]*?'", ["[x]*?"]),
        ("name LIKE '%?'", ["[x]*?"]),
        ("name IS NULL", [None]),
        ("name IN ('Alpha', 'B_ta', 'zz')", ["Alpha", "B_ta"]),
        ("n > 2 AND n <= 4", ["B_ta", "50%"]),
        ("n BETWEEN 2 AND 3", ["alpha", "B_ta"]),
        ("NOT n BETWEEN 2 AND 3", ["Alpha", "50%", "[x]*?"]),
        ("area >= 2.5", ["B_ta", "50%", None]),
        ("area < 2", ["Alpha", "alpha"]),
        ("n = 2.0", ["alpha"]),
        ("open = TRUE", ["Alpha", "B_ta", None]),
        ("open <> TRUE", ["alpha", "[x]*?"]),
        ("day > DATE('2018-01-03')", ["50%", "[x]*?"]),
        ("day = '2018-01-02'", ["alpha"]),
        ("seen >= TIMESTAMP('2018-01-01T02:00:00.250Z')", ["B_ta", "50%", "[x]*?"]),
        ("seen > TIMESTAMP('2018-01-01T02:00:00.250Z')", ["50%", "[x]*?"]),
        ("seen < '2018-01-01T01:00:00Z'", ["Alpha"]),
        ("seen > DATE('2018-01-01')", ["Alpha", "alpha", "B_ta", "50%", "[x]*?"]),
        ("\"@user\" = 'u1'", ["Alpha", "[x]*?"]),
        ('"sûr ""oui""" = 1', ["Alpha", "B_ta", "[x]*?"]),
        ("n = 1 OR area > 5 OR name = '50%'", ["Alpha", "50%", None]),
        ("NOT (n < 3) AND open = FALSE", ["[x]*?"]),
        ("FALSE", []),
        ("TRUE AND n = 5", ["[x]*?"]),
    ],
)
def test_filters_select_the_same_rows_on_both_stores(shops, cql, names):
    page = shops.query_features("shops", where=parse_cql2(cql), limit=100)
    assert page.batch.column("name").to_pylist() == names


def test_filters_combine_with_bbox_and_pages(shops):
    where = parse_cql2("n >= 2")
    first = shops.query_features("shops", where=where, bbox=(0, -1, 3, 1), limit=2)
    assert first.batch.column("n").to_pylist() == [2, 3] and first.more
    rest = shops.query_features(
        "shops", where=where, bbox=(0, -1, 3, 1), limit=2, after=fids(first)[-1]
    )
    assert rest.batch.column("n").to_pylist() == [4] and not rest.more
    before = shops.query_features(
        "shops", where=where, bbox=(0, -1, 3, 1), limit=2, before=fids(rest)[0]
    )
    assert before.batch.column("n").to_pylist() == [2, 3] and not before.more


def test_filter_errors_are_invalid_input(shops):
    for cql, message in (
        ("nope = 1", "unknown property 'nope'"),
        ("n = 'deux'", "expected a value of type integer"),
        ("day = 'demain'", "is not a date"),
    ):
        with pytest.raises(InvalidInput, match=message):
            shops.query_features("shops", where=parse_cql2(cql))

"""The storage contract: every public store method, on every backend.

One suite, run through the ``store`` fixture against the GeoPackage and the
PostGIS store (GeoPandas' engine-fixture style): small explicit calls with
keyword arguments, tiny inline data, geometries as ISO WKB in EPSG:4326 built
with shapely. A meta-test fails when a public store method has no test here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import json
import math
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pyarrow as pa
import pytest
import shapely

from quartier.domain import (
    AccessLevel,
    ActorKind,
    Dataset,
    Field,
    FieldType,
    Organisation,
    Workspace,
)
from quartier.domain.fieldtypes import ARROW_TYPES
from quartier.errors import Conflict, InvalidInput, NotFound, StaleVersion
from quartier.storage import open_store
from quartier.storage.base import SqlStore
from quartier.storage.gpkg import GeoPackageStore
from quartier.storage.postgis import PostGISStore

TEXT, INT, REAL = FieldType.TEXT, FieldType.INTEGER, FieldType.REAL
UTC = dt.UTC
STAMP = "2024-05-01T10:00:00.000000Z"


# ------------------------------------------------------------------ builders
def wkb(wkt: str | None) -> bytes | None:
    """ISO WKB (little endian) of a WKT, None for None."""
    return None if wkt is None else shapely.to_wkb(shapely.from_wkt(wkt), flavor="iso")


def pt(x: float, y: float) -> str:
    return f"POINT ({x} {y})"


def make(*, wkt: list[str | None] | None = None, **cols: tuple[FieldType, list]):
    """``(batch, fields)``: columns given as ``name=(FieldType, values)``."""
    fields = [Field(name, ftype) for name, (ftype, _) in cols.items()]
    arrays = {name: pa.array(v, type=ARROW_TYPES[t]) for name, (t, v) in cols.items()}
    if wkt is not None:
        arrays = {"geometry": pa.array([wkb(w) for w in wkt], pa.binary()), **arrays}
    return pa.record_batch(arrays), fields


def put(store: SqlStore, slug: str, *, wkt=None, chunks: int = 1, **cols):
    """Write one version made of ``chunks`` batches; returns the Version."""
    batch, fields = make(wkt=wkt, **cols)
    size = max(1, math.ceil(batch.num_rows / chunks))
    batches = [batch.slice(i, size) for i in range(0, batch.num_rows, size)]
    return store.write_version(slug, batches, fields=fields)


def rows(store: SqlStore, slug: str, **kw) -> list[dict]:
    """Every row a read gives back, as dicts, in the store's (fid) order."""
    return [r for b in store.read_batches(slug, **kw) for r in b.to_pylist()]


def content(store: SqlStore, slug: str, **kw) -> list[dict]:
    """The rows without fid, sorted: what a version *holds*."""
    return sorted(
        ({k: v for k, v in r.items() if k != "fid"} for r in rows(store, slug, **kw)),
        key=repr,
    )


def expected(*, wkt=None, **cols) -> list[dict]:
    batch, _ = make(wkt=wkt, **cols)
    return sorted(batch.to_pylist(), key=repr)


def dataset(store: SqlStore, slug: str = "routes", **kw) -> Dataset:
    return store.create_dataset(Dataset(slug=slug, title=kw.pop("title", slug), **kw))


def roads(names: list[str], xs: list[float] | None = None) -> dict:
    """Point features keyed by ``name`` (the key field of most tests)."""
    xs = xs if xs is not None else list(range(len(names)))
    return {"wkt": [pt(x, x / 2) for x in xs], "name": (TEXT, names)}


def gdal_tool(name: str) -> str:
    exe = shutil.which(name)
    if exe is None:
        pytest.fail(f"{name} is missing: apt-get install gdal-bin", pytrace=False)
    return exe


# ------------------------------------------------------ workspace, actors
def test_workspace_get_set_update(store):
    with pytest.raises(NotFound):
        store.get_workspace()
    ws = Workspace(
        name="Kinshasa",
        working_crs=32733,
        created=STAMP,
        boundary_wkt="POLYGON ((15 -5, 16 -5, 16 -4, 15 -4, 15 -5))",
    )
    store.set_workspace(ws)
    assert store.get_workspace() == ws
    moved = dataclasses.replace(ws, name="Kinshasa-Est", admin_dataset="quartiers")
    store.set_workspace(moved)
    assert store.get_workspace() == moved


def test_workspace_update_keeps_its_creation_stamp(store):
    store.set_workspace(Workspace(name="Sans date", working_crs=32628))
    created = store.get_workspace().created
    assert created.endswith("Z")
    store.set_workspace(Workspace(name="Saint-Louis", working_crs=32628))
    assert store.get_workspace() == Workspace(
        name="Saint-Louis", working_crs=32628, created=created
    )


def test_organisations_add_list_get(store):
    ville = Organisation(
        slug="ville",
        name="Ville de Kinshasa",
        kind=ActorKind.LOCAL_AUTHORITY,
        description="Hôtel de ville",
        website="https://kinshasa.cd",
    )
    assert store.add_organisation(ville, created=STAMP) == ville
    store.add_organisation(Organisation(slug="asso", name="Asso", kind=ActorKind.NGO))
    assert [o.slug for o in store.list_organisations()] == ["asso", "ville"]
    assert store.get_organisation("ville") == ville
    assert store.get_organisation("asso").kind is ActorKind.NGO
    with pytest.raises(Conflict):
        store.add_organisation(dataclasses.replace(ville, name="Autre"))
    with pytest.raises(NotFound):
        store.get_organisation("personne")
    with pytest.raises(InvalidInput):
        store.add_organisation(dataclasses.replace(ville, slug="Ville Centre"))
    assert [o.name for o in store.list_organisations()] == ["Asso", ville.name]


# ------------------------------------------------------------------ datasets
def test_dataset_metadata_round_trip(store):
    for slug, kind in (("ville", "local_authority"), ("unikin", "university")):
        store.add_organisation(Organisation(slug, slug.title(), ActorKind(kind)))
    ds = Dataset(
        slug="ecoles",
        title="Écoles « primaires »",
        title_en="Primary schools",
        description="Établissements, 2024",
        description_en="Schools, 2024",
        theme="education",
        producer="ville",
        steward="unikin",
        licence="ODbL-1.0",
        attribution="© Ville",
        access=AccessLevel.PARTNERS,
        sensitive_fields=["phone", "director"],
        update_frequency="annual",
        lineage="terrain",
        temporal_start="2024-01-01",
        temporal_end="2024-12-31",
        key_field="code",
        illustrative=True,
        geometry_type="POINT",
        created=STAMP,
    )
    got = store.create_dataset(ds)
    want = dataclasses.replace(ds, table_name="ecoles", updated=STAMP)
    assert got == want
    assert isinstance(got.access, AccessLevel) and got.illustrative is True
    assert store.get_dataset("ecoles") == want
    dataset(store, "arbres")
    assert [d.slug for d in store.list_datasets()] == ["arbres", "ecoles"]
    plain = store.get_dataset("arbres")
    assert (plain.access, plain.sensitive_fields, plain.illustrative) == (
        AccessLevel.PUBLIC,
        [],
        False,
    )
    assert (plain.current_version, plain.feature_count, plain.bbox) == (0, 0, None)


def test_create_dataset_errors(store):
    dataset(store, "routes")
    with pytest.raises(Conflict):
        dataset(store, "routes")
    with pytest.raises(NotFound):
        dataset(store, "ecoles", producer="personne")
    with pytest.raises(NotFound):
        dataset(store, "ecoles", steward="personne")
    for slug in ("gpkg_x", "rtree_x", "sqlite_x", "quartier_x"):
        with pytest.raises(InvalidInput):
            dataset(store, slug)
    for slug in ("Routes", "1routes", "rou-tes", "", "x" * 49):
        with pytest.raises(InvalidInput):
            dataset(store, slug)
    assert [d.slug for d in store.list_datasets()] == ["routes"]


def test_update_dataset(store):
    dataset(store, "routes", created=STAMP)
    got = store.update_dataset(
        "routes",
        title="Voirie",
        title_en="Roads",
        access="restricted",
        sensitive_fields=["owner"],
        illustrative=True,
        key_field="name",
    )
    assert got == store.get_dataset("routes")
    assert (got.title, got.title_en, got.access, got.sensitive_fields) == (
        "Voirie",
        "Roads",
        AccessLevel.RESTRICTED,
        ["owner"],
    )
    assert got.illustrative is True and got.key_field == "name"
    assert got.created == STAMP and got.updated > STAMP and got.slug == "routes"


def test_update_dataset_errors(store):
    before = dataset(store, "routes")
    for change in (
        {"kind": "attributes"},
        {"geometry_type": "POINT"},
        {"current_version": 3},
        {"feature_count": 9},
        {"table_name": "x"},
        {"colour": "red"},
    ):
        with pytest.raises(InvalidInput):
            store.update_dataset("routes", **change)
    with pytest.raises(NotFound):
        store.update_dataset("personne", title="x")
    assert store.get_dataset("routes") == before


def test_unknown_access_level_is_invalid_input(store):
    """Not a bare ValueError from the enum: the web layer maps InvalidInput."""
    with pytest.raises(InvalidInput):
        dataset(store, "ecoles", access="secret")
    before = dataset(store, "routes")
    with pytest.raises(InvalidInput):
        store.update_dataset("routes", access="secret")
    assert store.list_datasets() == [before]


def test_update_dataset_checks_organisations(store):
    """The rule of create_dataset: producer and steward must exist."""
    before = dataset(store, "routes")
    for change in ({"producer": "personne"}, {"steward": "personne"}):
        with pytest.raises(NotFound):
            store.update_dataset("routes", **change)
    assert store.get_dataset("routes") == before


# ------------------------------------------------------------------ versions
def test_first_version_counts(store):
    dataset(store, "routes", key_field="name")
    v = put(store, "routes", wkt=[pt(0, 0), pt(2, 1), None], name=(TEXT, list("abc")))
    assert (v.dataset, v.version, v.feature_count) == ("routes", 1, 3)
    assert (v.added, v.removed, v.changed) == (3, 0, 0)
    assert v.fields == (Field("name", TEXT),) and v.bbox == (0, 0, 2, 1)
    ds = store.get_dataset("routes")
    assert (ds.current_version, ds.feature_count, ds.bbox) == (1, 3, (0, 0, 2, 1))
    assert store.count_features("routes") == 3


def test_same_import_twice_is_an_empty_version(store):
    dataset(store, "routes", key_field="name")
    data = roads(["a", "b", "c"])
    put(store, "routes", **data)
    v2 = put(store, "routes", chunks=3, **data)
    assert (v2.version, v2.feature_count, v2.added, v2.removed, v2.changed) == (
        2,
        3,
        0,
        0,
        0,
    )
    assert content(store, "routes", version=1) == expected(**data)
    assert content(store, "routes") == expected(**data)


@pytest.mark.parametrize("key, summary", [("name", (1, 1, 1)), (None, (2, 2, 0))])
def test_change_summary_with_and_without_key_field(store, key, summary):
    dataset(store, "routes", key_field=key)
    put(store, "routes", **roads(["a", "b", "c"]), lanes=(INT, [1, 2, 3]))
    v = put(
        store, "routes", **roads(["b", "c", "d"], [1, 2, 3]), lanes=(INT, [4, 3, 1])
    )  # a removed, b changed, c same, d added
    assert (v.added, v.removed, v.changed, v.feature_count) == (*summary, 3)


def test_identical_rows_are_matched_as_a_multiset(store):
    dataset(store, "arbres")
    same = {"wkt": [pt(1, 1)] * 2, "kind": (TEXT, ["baobab"] * 2)}
    put(store, "arbres", **same)
    v2 = put(store, "arbres", wkt=[pt(1, 1)] * 3, kind=(TEXT, ["baobab"] * 3))
    assert (v2.added, v2.removed, v2.changed, v2.feature_count) == (1, 0, 0, 3)
    v3 = put(store, "arbres", wkt=[pt(1, 1)], kind=(TEXT, ["baobab"]))
    assert (v3.added, v3.removed, v3.feature_count) == (0, 2, 1)
    assert [store.count_features("arbres", version=n) for n in (1, 2, 3)] == [2, 3, 1]
    assert content(store, "arbres", version=1) == expected(**same)


def test_null_geometries_are_kept(store):
    dataset(store, "routes")
    data = {"wkt": [None, pt(1, 1), None], "name": (TEXT, ["x", "y", "z"])}
    v = put(store, "routes", **data)
    assert v.feature_count == 3 and v.bbox == (1, 1, 1, 1)
    assert content(store, "routes") == expected(**data)
    v2 = put(store, "routes", **data)
    assert (v2.added, v2.removed, v2.feature_count) == (0, 0, 3)


def test_empty_versions(store):
    dataset(store, "routes")
    v1 = store.write_version("routes", [], fields=[Field("name", TEXT)])
    assert (v1.version, v1.feature_count, v1.added, v1.bbox) == (1, 0, 0, None)
    assert rows(store, "routes") == [] and store.count_features("routes") == 0
    put(store, "routes", **roads(["a", "b"]))
    empty, fields = make(wkt=[], name=(TEXT, []))
    v3 = store.write_version("routes", [empty], fields=fields)
    assert (v3.feature_count, v3.removed, v3.bbox) == (0, 2, None)
    ds = store.get_dataset("routes")
    assert (ds.feature_count, ds.bbox) == (0, None)
    assert content(store, "routes", version=2) == expected(**roads(["a", "b"]))


def test_schema_evolution(store):
    dataset(store, "routes", key_field="name")
    put(store, "routes", **roads(["a", "b"]))
    v2 = put(store, "routes", **roads(["a", "b"]), lanes=(INT, [2, None]))
    assert v2.fields == (Field("name", TEXT), Field("lanes", INT)) and v2.changed == 2
    v3 = put(store, "routes", wkt=[pt(0, 0)], lanes=(INT, [4]))  # name dropped
    assert v3.fields == (Field("lanes", INT),)
    assert content(store, "routes", version=1) == expected(**roads(["a", "b"]))
    assert content(store, "routes", version=2) == expected(
        **roads(["a", "b"]), lanes=(INT, [2, None])
    )
    assert content(store, "routes") == expected(wkt=[pt(0, 0)], lanes=(INT, [4]))


def test_field_type_change_is_rejected_atomically(store):
    dataset(store, "routes", key_field="name")
    data = {**roads(["a", "b"]), "lanes": (INT, [1, 2])}
    put(store, "routes", **data)
    with pytest.raises(InvalidInput):
        put(store, "routes", **roads(["a", "b", "c"]), lanes=(TEXT, ["1", "2", "3"]))
    with pytest.raises(InvalidInput):  # a reserved column name
        put(store, "routes", **roads(["a"]), quartier_version=(INT, [1]))
    assert [v.version for v in store.list_versions("routes")] == [1]
    ds = store.get_dataset("routes")
    assert (ds.current_version, ds.feature_count, ds.bbox) == (1, 2, (0, 0, 1, 0.5))
    assert content(store, "routes") == expected(**data)
    assert put(store, "routes", **roads(["a"]), lanes=(INT, [1])).version == 2


@pytest.mark.parametrize("first", [True, False], ids=["v1", "v2"])
def test_failed_import_leaves_store_unchanged(store, first):
    dataset(store, "routes")
    if not first:
        put(store, "routes", **roads(["a", "b"]))
    before = (
        store.get_dataset("routes"),
        store.list_versions("routes"),
        content(store, "routes"),
    )
    batch, fields = make(**roads(["x", "y", "z"]))

    def broken():
        yield batch
        raise OSError("source file truncated")

    with pytest.raises(OSError):
        store.write_version("routes", broken(), fields=fields)
    assert (
        store.get_dataset("routes"),
        store.list_versions("routes"),
        content(store, "routes"),
    ) == before
    v = store.write_version("routes", [batch], fields=fields)
    assert v.version == (1 if first else 2) and v.feature_count == 3


def test_attribute_only_dataset(store):
    dataset(store, "menages", kind="attributes", key_field="code")
    data = {"code": (TEXT, ["Q1", "Q2"]), "n": (INT, [120, 80])}
    v = put(store, "menages", **data)
    assert (v.feature_count, v.bbox) == (2, None)
    got = rows(store, "menages")
    assert [sorted(r) for r in got] == [["code", "fid", "n"]] * 2
    assert content(store, "menages") == expected(**data)
    v2 = put(store, "menages", code=(TEXT, ["Q1", "Q2"]), n=(INT, [120, 81]))
    assert (v2.added, v2.removed, v2.changed) == (0, 0, 1)
    assert store.get_dataset("menages").bbox is None


def test_large_integer_change_is_detected(store):
    """Past 2**53 an int64 is not a float64: a change must still be seen."""
    dataset(store, "compteurs", key_field="name")
    put(store, "compteurs", **roads(["a"]), total=(INT, [2**53]))
    v2 = put(store, "compteurs", **roads(["a"]), total=(INT, [2**53 + 1]))
    assert (v2.added, v2.removed, v2.changed) == (0, 0, 1)
    assert [r["total"] for r in rows(store, "compteurs")] == [2**53 + 1]


# ---------------------------------------------------------------- field types
ALL_TYPES = {
    "wkt": [pt(0, 0), pt(1, 1), pt(2, 2), pt(3, 3), None],
    "ok": (FieldType.BOOLEAN, [True, False, None, True, False]),
    "n": (INT, [2**63 - 1, -(2**63), -1, None, 0]),
    "x": (REAL, [1.5, -2.25, 1e308, 5e-324, None]),
    "s": (
        TEXT,
        ["Ngaliema, « Kin » ‘é’", 'a "quoted",\nline\r\nx\ty\\.', "😀🏙️", "", None],
    ),
    "d": (
        FieldType.DATE,
        [
            dt.date(2024, 2, 29),
            dt.date(1900, 1, 1),
            dt.date(2099, 12, 31),
            None,
            dt.date(1970, 1, 1),
        ],
    ),
    "t": (
        FieldType.DATETIME,
        [
            dt.datetime(2024, 2, 29, 23, 59, 59, 999000, UTC),
            dt.datetime(1969, 12, 31, 23, 59, 59, 1000, UTC),
            dt.datetime(2000, 1, 1, tzinfo=UTC),
            None,
            dt.datetime(2038, 1, 19, 3, 14, 8, 500000, UTC),
        ],
    ),
    "j": (FieldType.JSON, ['{"a": [1, 2.5], "é": null}', "[]", "null", None, '"x"']),
    "b": (FieldType.BLOB, [b"", bytes(range(256)), b"\x00", None, b'\\x00,\n"']),
}


def test_every_field_type_round_trips_exactly(store):
    dataset(store, "types")
    put(store, "types", **ALL_TYPES)
    got = pa.Table.from_batches(list(store.read_batches("types")))
    for name, (ftype, _) in ((k, v) for k, v in ALL_TYPES.items() if k != "wkt"):
        assert got.schema.field(name).type == ARROW_TYPES[ftype], name
    assert got.schema.field("geometry").type == pa.binary()
    assert content(store, "types") == expected(**ALL_TYPES)


def test_read_back_content_reimports_as_no_change(store):
    """Stores give values back so that they hash as they did when written."""
    dataset(store, "types")
    floats = [math.nan, math.inf, -math.inf, -0.0, 0.0]
    put(store, "types", **ALL_TYPES, f=(REAL, floats))
    back = pa.Table.from_batches(list(store.read_batches("types"))).drop(["fid"])
    fields = store.get_version("types", 1).fields
    v2 = store.write_version("types", back.to_batches(), fields=list(fields))
    assert (v2.added, v2.removed, v2.changed) == (0, 0, 0)


def test_special_floats(store):
    """Decision: NaN comes back as null on every store (SQLite cannot hold a
    NaN, GIS formats read it as missing); infinities come back as written and
    -0.0 as a zero (its sign is the reimport test's business)."""
    dataset(store, "mesures")
    put(
        store,
        "mesures",
        wkt=[pt(i, i) for i in range(4)],
        v=(REAL, [math.nan, math.inf, -math.inf, -0.0]),
    )
    got = [r["v"] for r in rows(store, "mesures")]
    assert got[0] is None
    assert got[1:3] == [math.inf, -math.inf]
    assert got[3] == 0.0


GEOMETRIES = {
    "point": "POINT (15.3 -4.4)",
    "line": "LINESTRING (0 0, 1 1, 2 0.5)",
    "polygon_hole": "POLYGON ((0 0, 4 0, 4 4, 0 4, 0 0), (1 1, 2 1, 2 2, 1 1))",
    "multipolygon": "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 5)))",
    "multipoint": "MULTIPOINT ((0 0), (1 2))",
    "collection": "GEOMETRYCOLLECTION (POINT (1 1), LINESTRING (0 0, 1 0))",
    "point_z": "POINT Z (15.3 -4.4 280.5)",
    "line_z": "LINESTRING Z (0 0 1, 1 1 2)",
    "polygon_z": "POLYGON Z ((0 0 1, 1 0 1, 1 1 2, 0 0 1))",
    "multipolygon_z": "MULTIPOLYGON Z (((0 0 0, 1 0 0, 1 1 0, 0 0 0)))",
    "point_empty": "POINT EMPTY",
    "line_empty": "LINESTRING EMPTY",
    "polygon_empty": "POLYGON EMPTY",
    "multipolygon_empty": "MULTIPOLYGON EMPTY",
    "collection_empty": "GEOMETRYCOLLECTION EMPTY",
}


@pytest.mark.parametrize("kind", list(GEOMETRIES))
def test_geometry_wkb_round_trips_exactly(store, kind):
    dataset(store, "formes")
    wkt = [GEOMETRIES[kind], pt(9, 9)]
    v = put(store, "formes", wkt=wkt, kind=(TEXT, [kind, "ref"]))
    assert v.feature_count == 2
    got = {r["kind"]: r["geometry"] for r in rows(store, "formes")}
    assert got[kind] == wkb(GEOMETRIES[kind])
    assert store.get_dataset("formes").bbox == pytest.approx(
        shapely.GeometryCollection([shapely.from_wkt(w) for w in wkt]).bounds
    )


# --------------------------------------------------------------------- reads
def test_read_current_and_historical_versions(store):
    dataset(store, "routes", key_field="name")
    v1 = {**roads(["a", "b", "c"]), "lanes": (INT, [1, 2, None])}
    v2 = {**roads(["b", "c", "d"], [1, 2, 3]), "lanes": (INT, [2, 3, 1])}
    put(store, "routes", **v1)
    put(store, "routes", **v2)
    assert content(store, "routes", version=1) == expected(**v1)
    assert content(store, "routes", version=2) == expected(**v2)
    assert rows(store, "routes") == rows(store, "routes", version=2)
    assert rows(store, "routes") == rows(store, "routes", version=None)
    fids = [r["fid"] for r in rows(store, "routes", version=1)]
    assert fids == sorted(fids)


def test_bbox_filter_on_current_and_historical_versions(store):
    dataset(store, "routes")
    put(
        store,
        "routes",
        wkt=[pt(0, 0), pt(10, 10), None, "POINT EMPTY"],
        name=(TEXT, list("abcd")),
    )
    put(store, "routes", wkt=[pt(10, 10), pt(20, 20)], name=(TEXT, ["b", "e"]))
    near = (9, 9, 21, 21)
    assert {r["name"] for r in rows(store, "routes", bbox=near)} == {"b", "e"}
    assert {r["name"] for r in rows(store, "routes", version=1, bbox=near)} == {"b"}
    assert {
        r["name"] for r in rows(store, "routes", version=1, bbox=(-1, -1, 1, 1))
    } == {"a"}
    assert rows(store, "routes", bbox=(100, 100, 101, 101)) == []


def test_bbox_filter_means_the_same_on_every_version(store):
    """A line whose envelope meets the box (but not the line itself) is
    selected, or not, the same way for current and historical reads."""
    dataset(store, "routes")
    data = {"wkt": ["LINESTRING (0 0, 10 10)", pt(9, 1)], "name": (TEXT, ["diag", "p"])}
    put(store, "routes", **data)
    put(store, "routes", **data)
    box = (8, 0, 10, 2)
    current = sorted(r["name"] for r in rows(store, "routes", bbox=box))
    historical = sorted(r["name"] for r in rows(store, "routes", version=1, bbox=box))
    assert current == historical == ["diag", "p"]  # index (envelope) semantics


def test_batch_size_is_respected(store):
    dataset(store, "arbres", key_field="n")
    n = list(range(2500))
    put(store, "arbres", chunks=4, wkt=[pt(i / 100, i / 200) for i in n], n=(INT, n))
    sizes = [b.num_rows for b in store.read_batches("arbres", batch_size=1000)]
    assert sizes == [1000, 1000, 500]
    assert [b.num_rows for b in store.read_batches("arbres")] == [2500]
    n = n[:2400]  # 100 removed
    put(store, "arbres", wkt=[pt(i / 100, i / 200) for i in n], n=(INT, n))
    old = [b.num_rows for b in store.read_batches("arbres", version=1, batch_size=1000)]
    assert old == [1000, 1000, 500]
    assert store.count_features("arbres") == 2400


def test_fids_are_stable_for_unchanged_features(store):
    dataset(store, "routes", key_field="name")
    put(store, "routes", **roads(["a", "b", "c"]))
    v1 = {r["name"]: r["fid"] for r in rows(store, "routes")}
    put(store, "routes", **roads(["a", "B", "c"]))
    v2 = {r["name"]: r["fid"] for r in rows(store, "routes")}
    assert (v2["a"], v2["c"]) == (v1["a"], v1["c"])
    assert v2["B"] not in v1.values()
    assert {r["name"]: r["fid"] for r in rows(store, "routes", version=1)} == v1


def test_read_errors_and_dataset_without_versions(store):
    batch, fields = make(**roads(["a"]))
    for call in (
        lambda: store.write_version("nope", [batch], fields=fields),
        lambda: store.get_dataset("nope"),
        lambda: store.list_versions("nope"),
        lambda: store.get_version("nope", 1),
        lambda: store.count_features("nope"),
        lambda: list(store.read_batches("nope")),
    ):
        with pytest.raises(NotFound):
            call()
    dataset(store, "routes")
    assert rows(store, "routes") == [] and store.list_versions("routes") == []
    with pytest.raises(NotFound):
        store.get_version("routes", 1)
    put(store, "routes", **roads(["a"]))
    with pytest.raises(NotFound):
        store.count_features("routes", version=7)
    for version in (2, -1, 0):  # version 0 is not "current"
        with pytest.raises(NotFound):
            list(store.read_batches("routes", version=version))


# --------------------------------------------------- version bookkeeping
def test_list_and_get_versions(store):
    dataset(store, "routes", key_field="name")
    written = [
        put(store, "routes", **roads(names)) for names in (["a"], ["a", "b"], ["b"])
    ]
    assert store.list_versions("routes") == written
    assert [v.version for v in written] == [1, 2, 3]
    assert store.get_version("routes", 2) == written[1]
    with pytest.raises(NotFound):
        store.get_version("routes", 4)
    with pytest.raises(NotFound):
        store.get_version("routes", 0)


def test_count_bbox_and_feature_count_after_each_version(store):
    dataset(store, "routes")
    steps = [
        ([pt(0, 0), pt(2, 1), pt(1, 1)], (0, 0, 2, 1)),
        ([pt(1, 1), pt(3, 5), pt(-1, 2), pt(0, 0), pt(2, 2)], (-1, 0, 3, 5)),
        ([None], None),
        ([pt(15.3, -4.4)], (15.3, -4.4, 15.3, -4.4)),
    ]
    for n, (wkt, bbox) in enumerate(steps, start=1):
        v = put(store, "routes", wkt=wkt, name=(TEXT, list("abcde")[: len(wkt)]))
        ds = store.get_dataset("routes")
        assert (ds.current_version, ds.feature_count, v.feature_count) == (
            n,
            len(wkt),
            len(wkt),
        )
        for got in (ds.bbox, v.bbox):
            if bbox is None:
                assert got is None
            else:  # exact, or the index's slightly padded extent
                assert got == pytest.approx(bbox, abs=1e-5)
                assert got[0] <= bbox[0] and got[1] <= bbox[1]
                assert got[2] >= bbox[2] and got[3] >= bbox[3]
    counts = [store.count_features("routes", version=n) for n in range(1, 5)]
    assert counts == [3, 5, 1, 1] and store.count_features("routes", version=None) == 1


def test_write_version_passthrough(store):
    dataset(store, "routes")
    put(store, "routes", **roads(["a"]))
    batch, fields = make(**roads(["a", "b", "c"]))
    seen: list[int] = []
    v = store.write_version(
        "routes",
        [batch.slice(0, 2), batch.slice(2)],
        fields=fields,
        message="restauration",
        source="routes.geojson",
        checksum="sha256:ab12",
        author="ines",
        restored_from=1,
        created=STAMP,
        progress=seen.append,
    )
    assert seen == [2, 1]
    assert (v.message, v.source, v.checksum, v.author, v.restored_from, v.created) == (
        "restauration",
        "routes.geojson",
        "sha256:ab12",
        "ines",
        1,
        STAMP,
    )
    assert store.get_version("routes", 1).restored_from is None
    assert store.get_dataset("routes").updated == STAMP


def test_write_version_refuses_a_stale_base(store):
    """A read-modify-write names the version it read; if another landed
    since, nothing is written and the caller learns it (to retry)."""
    dataset(store, "routes")
    put(store, "routes", **roads(["a"]))
    batch, fields = make(**roads(["a", "b"]))
    v2 = store.write_version("routes", [batch], fields=fields, expect_version=1)
    assert v2.version == 2
    later, _ = make(**roads(["a", "c"]))
    with pytest.raises(StaleVersion, match="version 2"):
        store.write_version("routes", [later], fields=fields, expect_version=1)
    assert store.get_dataset("routes").current_version == 2
    assert content(store, "routes") == expected(**roads(["a", "b"]))


def test_field_names_are_kept_as_given(store):
    dataset(store, "noms")
    names = ["Nom complet", "NOM", "école", 'a"b', "@timestamp", "x;y", "é" * 31]
    data = {n: (TEXT, [f"v{i}"]) for i, n in enumerate(names)}
    put(store, "noms", wkt=[pt(1, 1)], **data)
    assert content(store, "noms") == expected(wkt=[pt(1, 1)], **data)


def test_long_field_names_are_kept_or_refused(store):
    """Two names alike in their first 63 bytes (PostgreSQL's identifier limit):
    kept apart, or refused as InvalidInput — never a driver error."""
    dataset(store, "noms")
    data = {"é" * 40 + "_a": (TEXT, ["a"]), "é" * 40 + "_b": (TEXT, ["b"])}
    try:
        put(store, "noms", wkt=[pt(1, 1)], **data)
    except InvalidInput:
        assert store.get_dataset("noms").current_version == 0
    else:
        assert content(store, "noms") == expected(wkt=[pt(1, 1)], **data)


def test_table_name_of_another_dataset_is_a_conflict(store):
    dataset(store, "routes", table_name="voirie")
    assert put(store, "routes", **roads(["a"])).feature_count == 1
    assert store.get_dataset("routes").table_name == "voirie"
    for slug, table in (("voirie", ""), ("ecoles", "voirie")):
        with pytest.raises(Conflict):
            dataset(store, slug, table_name=table)
    assert [d.slug for d in store.list_datasets()] == ["routes"]


def test_table_names_are_checked_like_slugs(store):
    for table in ("gpkg_contents", "quartier_datasets", "rtree_x_geom", "Voirie Sud"):
        with pytest.raises(InvalidInput):
            dataset(store, "ecoles", table_name=table)
    assert store.list_datasets() == []


def test_datasets_may_share_a_title(store):
    for slug in ("routes_2023", "routes_2024"):
        dataset(store, slug, title="Routes")
        assert put(store, slug, **roads(["a"])).feature_count == 1


# ------------------------------------------------------- audit, backup, life
def test_audit(store):
    assert store.list_audit() == []
    store.audit(
        actor="ines",
        action="import",
        target="routes",
        detail={"version": 1, "when": dt.date(2024, 5, 1)},
    )
    store.audit(actor="joel", action="delete", target="ecoles")
    log = store.list_audit()
    assert [(e["actor"], e["action"], e["target"]) for e in log] == [
        ("joel", "delete", "ecoles"),
        ("ines", "import", "routes"),
    ]
    assert log[1]["detail"] == {"version": 1, "when": "2024-05-01"}
    assert log[0]["detail"] == {} and log[0]["at"].endswith("Z")
    assert len(store.list_audit(limit=1)) == 1
    assert [e["actor"] for e in store.list_audit(limit=1, offset=1)] == ["ines"]


def test_audit_filters(store):
    for actor, action, target in (
        ("Awa", "user.add", "joel"),
        ("awa", "user.grant", "joel"),
        ("joel", "import", "routes@1"),
        ("joel", "import", "routes_2@1"),
        ("joel", "read.tiles", "routes"),
        ("ines", "users", "x_y"),
        ("ines", "user%", "x%y"),
    ):
        store.audit(actor=actor, action=action, target=target)

    def find(**filters):
        return [(e["action"], e["target"]) for e in store.list_audit(**filters)]

    assert len(find(actor="AWA")) == 2
    assert find(action="user") == [("user.grant", "joel"), ("user.add", "joel")]
    assert find(action="read") == [("read.tiles", "routes")]
    # a dataset's slug finds its versions, not a dataset whose name starts alike
    assert find(target="routes") == [("read.tiles", "routes"), ("import", "routes@1")]
    # wildcards are taken literally
    assert find(action="user%") == [("user%", "x%y")]
    assert find(target="x_y") == [("users", "x_y")]
    assert find(actor="joel", action="import", limit=1, offset=1) == [
        ("import", "routes@1")
    ]


def test_backup(store, tmp_path):
    dataset(store, "routes", title="Routes")
    put(store, "routes", **roads(["a", "b"]))
    put(store, "routes", **roads(["b", "c"]))
    taken = tmp_path / "existant.gpkg"
    taken.write_bytes(b"keep me")
    for path in (taken, tmp_path):
        with pytest.raises(InvalidInput):
            store.backup(str(path))
    assert taken.read_bytes() == b"keep me"
    target = tmp_path / ("copie.gpkg" if store.kind == "gpkg" else "copie.dump")
    store.backup(str(target))
    assert target.stat().st_size > 0
    if store.kind == "gpkg":
        with open_store(str(target), create=False) as copy:
            assert copy.list_datasets() == store.list_datasets()
            assert copy.list_versions("routes") == store.list_versions("routes")
            assert content(copy, "routes", version=1) == content(
                store, "routes", version=1
            )
    else:
        listing = subprocess.run(
            ["pg_restore", "--list", str(target)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "TABLE public routes" in listing
        assert "TABLE quartier_history routes" in listing


def test_reopen_keeps_everything(store, store_url):
    dataset(store, "routes")
    put(store, "routes", **roads(["a", "b"]))
    store.ensure_schema()  # idempotent
    before = store.list_datasets(), store.list_versions("routes"), rows(store, "routes")
    store.close()
    with open_store(store_url) as again:
        again.ensure_schema()
        assert (
            again.list_datasets(),
            again.list_versions("routes"),
            rows(again, "routes"),
        ) == before
        assert type(again) is type(store)


def _public_methods() -> set[str]:
    names = set()
    classes = {
        c
        for store_cls in (SqlStore, GeoPackageStore, PostGISStore)
        for c in store_cls.__mro__
        if c.__module__.startswith("quartier.storage")
    }
    for cls in classes:
        for name, obj in vars(cls).items():
            if name.startswith("_"):
                continue
            if inspect.isfunction(obj) or isinstance(obj, staticmethod | classmethod):
                names.add(name)
    return names


def test_every_public_store_method_is_exercised_here():
    names = _public_methods()
    assert {"write_version", "read_batches", "backup"} <= names
    # the contract is split over test_contract*.py (catalogue, query, tiles, accounts…)
    source = "".join(
        f.read_text(encoding="utf-8")
        for f in Path(__file__).parent.glob("test_contract*.py")
    )
    missing = sorted(n for n in names if not re.search(rf"\.{n}\(", source))
    assert not missing, f"store methods without a contract test: {missing}"


# ------------------------------------------------------- GeoPackage and GDAL
def _written_gpkg(path: str) -> None:
    with open_store(path) as st:
        dataset(st, "routes")
        put(
            st,
            "routes",
            wkt=[pt(0, 0), pt(1, 1), None, "POINT EMPTY"],
            name=(TEXT, list("abcd")),
        )
        put(
            st,
            "routes",
            wkt=[pt(0, 0), pt(2, 2), None, "POINT EMPTY", "LINESTRING (0 0, 3 3)"],
            name=(TEXT, list("abcde")),
        )


def _rtree_and_geoms(path: str) -> tuple[int, int]:
    with sqlite3.connect(path) as db:
        rtree = db.execute("SELECT count(*) FROM rtree_routes_geom").fetchone()[0]
        blobs = [r[0] for r in db.execute("SELECT geom FROM routes")]
    full = sum(1 for b in blobs if b is not None and not b[3] & 0b10000)
    return rtree, full


@pytest.mark.gdal
def test_gdal_sees_the_layer(gpkg_url):
    ogrinfo = gdal_tool("ogrinfo")
    _written_gpkg(gpkg_url)
    done = subprocess.run(
        [ogrinfo, "-so", "-al", gpkg_url], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "ERROR" not in done.stderr
    assert "Layer name: routes" in done.stdout
    assert "Feature Count: 5" in done.stdout


def test_gpkg_file_level(gpkg_url):
    _written_gpkg(gpkg_url)
    with sqlite3.connect(gpkg_url) as db:
        assert db.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert _rtree_and_geoms(gpkg_url) == (3, 3)


@pytest.mark.gdal
def test_gdal_append_fires_standard_rtree_triggers(gpkg_url, tmp_path):
    ogr2ogr = gdal_tool("ogr2ogr")
    _written_gpkg(gpkg_url)
    src = tmp_path / "nouveau.geojson"
    src.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [7, 8]},
                        "properties": {
                            "name": "gdal",
                            "quartier_version": 2,
                            "quartier_hash": 0,
                        },
                    }
                ],
            }
        )
    )
    done = subprocess.run(
        [ogr2ogr, "-append", "-nln", "routes", gpkg_url, str(src)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert _rtree_and_geoms(gpkg_url) == (4, 4)
    with sqlite3.connect(gpkg_url) as db:
        box = db.execute(
            "SELECT minx, maxx, miny, maxy FROM rtree_routes_geom "
            "WHERE id = (SELECT max(fid) FROM routes)"
        ).fetchone()
    assert box == (7, 7, 8, 8)


def test_percent_and_quotes_in_field_names(store):
    """``taux_%`` is a real census column name; psycopg reads ``%`` as a
    placeholder unless the store doubles it where (and only where) it parses."""
    dataset(store, "stats", key_field="code")
    put(
        store,
        "stats",
        wkt=[pt(0, 0), pt(1, 1)],
        code=(TEXT, ["a", "b"]),
        **{"taux_%": (REAL, [1.5, 2.5])},
    )
    v2 = put(
        store,
        "stats",
        wkt=[pt(0, 0), pt(1, 1)],
        code=(TEXT, ["a", "b"]),
        **{"taux_%": (REAL, [1.5, 3.0]), 'nom "court" 100%': (TEXT, ["x", "y"])},
    )
    assert v2.changed == 1 + 1  # b's rate changed; the new column counts for both rows
    assert [r["taux_%"] for r in rows(store, "stats", version=1)] == [1.5, 2.5]
    assert [r['nom "court" 100%'] for r in rows(store, "stats")] == ["x", "y"]

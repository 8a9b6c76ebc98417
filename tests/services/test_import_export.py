"""Import, history, restore and export through the services, on every store.

Real files from ``shared/data/demo``; modified copies are written with pyogrio
into ``tmp_path``. Exports are read back with pyogrio / pyarrow and compared
with what the store holds (counts, geometries with a tolerance).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
import pytest
import shapely

from quartier.domain import Dataset, Field, FieldType
from quartier.errors import InvalidInput
from quartier.services.catalogue import export_dataset, restore_version
from quartier.services.importer import ImportOptions, import_path
from quartier.storage import open_store
from quartier.storage.base import SqlStore

DEMO = Path(__file__).resolve().parents[3] / "shared" / "data" / "demo"
KIN = DEMO / "kinshasa"
MARKETS = KIN / "kinshasa_markets_osm.geojson"  # 71 points, osm_id unique
EROSIONS = KIN / "kisenso_erosions_opencities.geojson"  # 58 multipolygons
OVERLAPS = KIN / "kisenso_osm_overlaps_2018-08-16.geojson"  # mixed types
BUILDINGS = KIN / "kisenso_osm_buildings_irregular_2018-08-16.geojson"
PPR = DEMO / "hazard_bourg_doisans_fr" / "PPRn_BourgOisans_38DDT20200002.zip"
PPR_2001 = DEMO.parent / "corpus" / "ppr_fr" / "38DDT20010005.zip"
TOLERANCE = 1e-7


@pytest.fixture(autouse=True)
def _data(shared_data: Path) -> None:
    """Fail (never skip) when the shared data is missing."""


# ----------------------------------------------------------------- helpers
def rows(store: SqlStore, slug: str, version: int | None = None) -> list[dict]:
    return [r for b in store.read_batches(slug, version=version) for r in b.to_pylist()]


def content(store: SqlStore, slug: str, version: int | None = None) -> Counter:
    """A version's features as a multiset, fid left out."""
    out: Counter = Counter()
    for r in rows(store, slug, version):
        r.pop("fid")
        geom = r.pop("geometry", None)
        key = tuple(sorted((k, repr(v)) for k, v in r.items()))
        out[key + (("geometry", geom),)] += 1
    return out


def snapshot(store: SqlStore) -> list[tuple]:
    return [
        (
            d.slug,
            d.current_version,
            d.feature_count,
            d.geometry_type,
            tuple(
                (v.version, v.feature_count, v.added, v.removed, v.changed, v.fields)
                for v in store.list_versions(d.slug)
            ),
        )
        for d in store.list_datasets()
    ]


def modified_markets(tmp_path: Path) -> tuple[Path, set[int], set[int], set[int]]:
    """Markets with 3 removed, 2 renamed and 4 new: (path, removed, changed, added)."""
    df = pyogrio.read_dataframe(MARKETS)
    removed = set(df["osm_id"].iloc[[0, 10, 20]])
    changed = set(df["osm_id"].iloc[[1, 2]])
    df = df[~df["osm_id"].isin(removed)].copy()
    df.loc[df["osm_id"].isin(changed), "name"] = "Marché renommé"
    extra = df.iloc[:4].copy()
    extra["osm_id"] = [9_000_000_001 + i for i in range(4)]
    extra["geometry"] = shapely.points([15.3 + i / 100 for i in range(4)], [-4.4] * 4)
    import pandas as pd

    out = pd.concat([df, extra], ignore_index=True)
    path = tmp_path / "marches_v2.geojson"
    pyogrio.write_dataframe(out, path, driver="GeoJSON")
    return path, removed, changed, set(extra["osm_id"])


# ----------------------------------------------------------------- imports
def test_retrying_the_same_file_is_idempotent(store: SqlStore, tmp_path: Path) -> None:
    (first,) = import_path(store, MARKETS)
    (again,) = import_path(store, MARKETS)
    assert (first.version, first.added, first.unchanged) == (1, 71, False)
    assert (again.version, again.unchanged) == (1, True)
    assert "identical to version 1" in again.notes[-1]
    assert [v.version for v in store.list_versions(first.dataset)] == [1]
    assert store.list_versions(first.dataset)[0].checksum.startswith("sha256:")
    # the same bytes after another version are a real revert: a new version
    path, *_ = modified_markets(tmp_path)
    (second,) = import_path(store, path, ImportOptions(dataset=first.dataset))
    (back,) = import_path(store, MARKETS, ImportOptions(dataset=first.dataset))
    assert (second.version, back.version, back.unchanged) == (2, 3, False)
    assert content(store, first.dataset, 3) == content(store, first.dataset, 1)


def test_key_field_gives_added_removed_changed(store: SqlStore, tmp_path: Path) -> None:
    path, removed, changed, added = modified_markets(tmp_path)
    (v1,) = import_path(
        store, MARKETS, ImportOptions(dataset="marches", key_field="osm_id")
    )
    (v2,) = import_path(store, path, ImportOptions(dataset="marches"))
    assert v1.dataset == v2.dataset == "marches"
    assert (v2.version, v2.added, v2.removed, v2.changed) == (2, 4, 3, 2)
    ids = {r["osm_id"] for r in rows(store, "marches")}
    assert removed.isdisjoint(ids) and added <= ids and changed <= ids
    assert store.get_dataset("marches").feature_count == 71 - 3 + 4
    # without a key field a change is a removal plus an addition
    (w1,) = import_path(store, MARKETS, ImportOptions(dataset="sans_cle"))
    (w2,) = import_path(store, path, ImportOptions(dataset="sans_cle"))
    assert (w2.added, w2.removed, w2.changed) == (6, 5, 0)


def test_old_versions_still_export_and_restore(store: SqlStore, tmp_path: Path) -> None:
    path, *_ = modified_markets(tmp_path)
    import_path(store, MARKETS, ImportOptions(dataset="marches", key_field="osm_id"))
    import_path(store, path, ImportOptions(dataset="marches"))
    v1 = content(store, "marches", 1)
    assert v1 != content(store, "marches", 2)

    out = export_dataset(store, "marches", tmp_path / "v1.geojson", version=1)
    back = pyogrio.read_dataframe(out)
    source = pyogrio.read_dataframe(MARKETS)
    assert len(back) == len(source) == 71
    assert sorted(back["osm_id"]) == sorted(source["osm_id"])
    assert all(
        shapely.equals_exact(a, b, tolerance=TOLERANCE)
        for a, b in zip(
            back.sort_values("osm_id").geometry,
            source.sort_values("osm_id").geometry,
            strict=True,
        )
    )

    restored = restore_version(store, "marches", 1)
    assert restored.version == 3 and restored.restored_from == 1
    assert (restored.added, restored.removed, restored.changed) == (3, 4, 2)
    assert restored.feature_count == 71 == store.get_dataset("marches").feature_count
    assert content(store, "marches", 3) == v1
    assert content(store, "marches") == v1  # the current version
    assert content(store, "marches", 2) != v1  # history stays
    assert [v.version for v in store.list_versions("marches")] == [1, 2, 3]


def test_field_changing_type_leaves_the_store_unchanged(
    store: SqlStore, tmp_path: Path
) -> None:
    import_path(store, MARKETS, ImportOptions(dataset="marches", key_field="osm_id"))
    df = pyogrio.read_dataframe(MARKETS)
    df["osm_id"] = "node/" + df["osm_id"].astype(str)  # integer -> text
    bad = tmp_path / "marches_texte.geojson"
    pyogrio.write_dataframe(df, bad, driver="GeoJSON")
    before = snapshot(store)
    tables = _tables(store)
    with pytest.raises(InvalidInput, match="osm_id") as err:
        import_path(store, bad, ImportOptions(dataset="marches"))
    assert "\n" not in str(err.value) and "marches_texte.geojson" in str(err.value)
    assert snapshot(store) == before
    assert _tables(store) == tables
    assert content(store, "marches") == content(store, "marches", 1)


def test_failed_multi_layer_import_leaves_the_store_unchanged(
    store: SqlStore, tmp_path: Path
) -> None:
    """Layer 2 of a GeoPackage changes a field's type: layer 1 must not land."""
    import_path(store, MARKETS, ImportOptions(dataset="b_marches"))
    df = pyogrio.read_dataframe(MARKETS)
    two = tmp_path / "deux.gpkg"
    pyogrio.write_dataframe(df, two, layer="a_nouveau")
    df["osm_id"] = df["osm_id"].astype(str)
    pyogrio.write_dataframe(df, two, layer="b_marches")
    before, tables = snapshot(store), _tables(store)
    with pytest.raises(InvalidInput, match="osm_id"):
        import_path(store, two)
    assert snapshot(store) == before
    assert _tables(store) == tables


def _tables(store: SqlStore) -> set[str]:
    if store.kind == "gpkg":
        with sqlite3.connect(store.url) as conn:
            return {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    with store.engine.connect() as conn:
        return {
            r[0]
            for r in conn.exec_driver_sql(
                "SELECT schemaname || '.' || tablename FROM pg_tables"
            )
        }


def test_lambert93_zip_is_reprojected_to_lon_lat(store: SqlStore) -> None:
    reports = import_path(store, PPR)
    by_layer = {r.layer: r for r in reports}
    alea = next(r for name, r in by_layer.items() if name.startswith("N_ZONE_ALEA"))
    assert alea.crs == "EPSG:2154" and alea.stored == 646 and alea.repaired == 0
    reg = next(r for name, r in by_layer.items() if name.startswith("N_ZONE_REG"))
    assert reg.stored == 584
    for r in reports:
        minx, miny, maxx, maxy = store.get_dataset(r.dataset).bbox
        # Le Bourg-d'Oisans: about 6.03 E, 45.05 N
        assert 5.9 < minx < maxx < 6.2 and 44.9 < miny < maxy < 45.2
        for row in rows(store, r.dataset)[:50]:
            x, y = shapely.from_wkb(row["geometry"]).representative_point().coords[0]
            assert 5.9 < x < 6.2 and 44.9 < y < 45.2


def test_invalid_geometries_are_repaired_and_counted(store: SqlStore) -> None:
    (report,) = import_path(store, BUILDINGS)
    assert report.read == report.stored == 328
    assert report.repaired == 13
    # 324 polygons and 4 points in the file; some repairs split a polygon in parts
    assert report.geometry_types == {"Point": 4, "Polygon": 314, "MultiPolygon": 10}
    geoms = shapely.from_wkb([r["geometry"] for r in rows(store, report.dataset)])
    assert shapely.is_valid(geoms).all()
    assert store.list_audit(limit=1)[0]["detail"]["repaired"] == 13


# ----------------------------------------------------------------- exports
EXPORTS = [
    ("gpkg", "gpkg"),
    ("geojson", "geojson"),
    ("shp", "shp"),
    ("shp", "zip"),
    ("csv", "csv"),
    ("parquet", "parquet"),
    ("kml", "kml"),
]


def _read_back(path: Path, fmt: str) -> tuple[list, list]:
    """(geometries, table rows) of an exported file."""
    if fmt == "parquet":
        table = pq.read_table(path)
        meta = json.loads(table.schema.metadata[b"geo"])
        assert meta["primary_column"] == "geometry"
        assert meta["columns"]["geometry"]["encoding"] == "WKB"
        geoms = shapely.from_wkb(table.column("geometry").to_pylist())
        return list(geoms), table.drop_columns(["geometry"]).to_pylist()
    meta, table = pyogrio.read_arrow(path)
    gcol = meta["geometry_name"] or "wkb_geometry"
    geoms = shapely.from_wkb(table.column(gcol).to_pylist())
    return list(geoms), table.drop_columns([gcol]).to_pylist()


def _same(a: shapely.Geometry | None, b: shapely.Geometry | None) -> bool:
    """Equal within TOLERANCE; empty and null geometries are all the same.

    (The erosions file has two empty MultiPolygons: a shapefile stores them as
    null shapes, KML as an empty collection.)
    """
    if a is None or a.is_empty or b is None or b.is_empty:
        return (a is None or a.is_empty) and (b is None or b.is_empty)
    a, b = shapely.normalize(a), shapely.normalize(b)
    if a.geom_type != b.geom_type:  # shapefiles make every polygon a multipolygon
        a, b = (
            shapely.multipolygons([g]) if g.geom_type == "Polygon" else g
            for g in (a, b)
        )
    return bool(shapely.equals_exact(a, b, tolerance=TOLERANCE))


@pytest.mark.parametrize(("fmt", "ext"), EXPORTS, ids=[f"{f}-{e}" for f, e in EXPORTS])
def test_export_reads_back_the_same(
    store: SqlStore, tmp_path: Path, fmt: str, ext: str
) -> None:
    (report,) = import_path(store, EROSIONS, ImportOptions(dataset="erosions"))
    out = export_dataset(store, "erosions", tmp_path / f"erosions.{ext}", fmt=fmt)
    assert out == tmp_path / f"erosions.{ext}" and out.exists()
    stored = rows(store, "erosions")
    geoms, attrs = _read_back(out, fmt)
    assert len(geoms) == len(stored) == report.stored == 58
    for g, r in zip(geoms, stored, strict=True):
        assert _same(g, shapely.from_wkb(r["geometry"])), r["fid"]
    if fmt != "kml":  # KML keeps Name/Description only
        lengths = [float(a["Long"]) for a in attrs]  # CSV reads back as text
        assert lengths == [r["Long"] for r in stored]
        assert [a["Noms"] or None for a in attrs] == [r["Noms"] for r in stored]


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "parquet"])
def test_export_then_reimport_changes_nothing(
    store: SqlStore, tmp_path: Path, fmt: str
) -> None:
    """Edit-in-QGIS round trip: untouched features must not count as changes.

    (Not shapefiles: they rewrite ring orientation and store empty geometries
    as null shapes, so the re-import shows those features as changed.)
    """
    import_path(store, EROSIONS, ImportOptions(dataset="erosions"))
    out = export_dataset(store, "erosions", tmp_path / f"erosions.{fmt}")
    (again,) = import_path(store, out, ImportOptions(dataset="erosions"))
    assert (again.version, again.added, again.removed, again.changed) == (2, 0, 0, 0)
    assert content(store, "erosions", 2) == content(store, "erosions", 1)


def test_export_of_an_attribute_table(store: SqlStore, tmp_path: Path) -> None:
    reports = import_path(store, PPR_2001)
    table = next(r for r in reports if r.layer.startswith("N_MULTIALEA"))
    for fmt in ("csv", "gpkg", "parquet"):
        out = export_dataset(store, table.dataset, tmp_path / f"t.{fmt}", fmt=fmt)
        if fmt == "parquet":
            assert pq.read_table(out).num_rows == 287
        else:
            assert pyogrio.read_info(out)["features"] == 287


@pytest.mark.parametrize("name", ["melange.shp", "melange.zip"])
def test_mixed_geometries_refused_as_shapefile_without_leftovers(
    store: SqlStore, tmp_path: Path, name: str
) -> None:
    (report,) = import_path(store, OVERLAPS, ImportOptions(dataset="chevauchements"))
    assert len(report.geometry_types) == 3
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    for batch_size in (65536, 5):  # the first batches hold only polygons
        with pytest.raises(InvalidInput, match="one geometry type") as err:
            export_dataset(
                store,
                "chevauchements",
                out_dir / name,
                fmt="shp",
                batch_size=batch_size,
            )
        assert "\n" not in str(err.value)
        assert list(out_dir.iterdir()) == []
    # the same dataset exports fine to formats that mix types
    export_dataset(store, "chevauchements", out_dir / "ok.gpkg")
    assert pyogrio.read_info(out_dir / "ok.gpkg")["features"] == 409


def test_export_refuses_to_overwrite(store: SqlStore, tmp_path: Path) -> None:
    import_path(store, MARKETS)
    target = tmp_path / "m.geojson"
    target.write_text("keep me")
    with pytest.raises(InvalidInput, match="already exists"):
        export_dataset(store, "kinshasa_markets_osm", target)
    assert target.read_text() == "keep me"


# ------------------------------------------------------------------ memory
N_BIG = 200_000
_MEASURE = textwrap.dedent("""
    import gc, json, sys
    from quartier.services.catalogue import export_dataset
    from quartier.storage import open_store

    def status(field):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])

    db, warm, out = sys.argv[1:4]
    with open_store(warm) as st:  # load GDAL drivers, pools and modules first
        export_dataset(st, "warm", out + ".warm.geojson", fmt="geojson")
    store = open_store(db, create=False)
    gc.collect()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak (VmHWM) to the current RSS
    base = status("VmRSS")
    export_dataset(store, "big", out)  # the defaults, as `quartier export` uses
    print(json.dumps({"base_kb": base, "peak_kb": status("VmHWM")}))
""")


def _squares(n: int, step: int = 20_000):
    for start in range(0, n, step):
        i = np.arange(start, min(n, start + step))
        x, y = (i % 1000) * 0.001, (i // 1000) * 0.001
        geoms = shapely.box(x, y, x + 0.0005, y + 0.0005)
        yield pa.RecordBatch.from_arrays(
            [
                pa.array(i, pa.int64()),
                pa.array(np.char.add("carré ", i.astype(str))),
                pa.array(shapely.to_wkb(geoms), pa.binary()),
            ],
            names=["id", "name", "geometry"],
        )


def test_geojson_export_streams_in_bounded_memory(tmp_path: Path) -> None:
    fields = [Field("id", FieldType.INTEGER), Field("name", FieldType.TEXT)]
    db, warm = tmp_path / "big.gpkg", tmp_path / "warm.gpkg"
    with open_store(str(db)) as st:
        st.write_version(
            "big",
            _squares(N_BIG),
            fields=fields,
            new=Dataset(slug="big", title="big"),
            geometry_type="POLYGON",
        )
        assert st.get_dataset("big").feature_count == N_BIG
    with open_store(str(warm)) as st:
        st.write_version(
            "warm",
            _squares(10),
            fields=fields,
            new=Dataset(slug="warm", title="warm"),
            geometry_type="POLYGON",
        )
    out = tmp_path / "big.geojson"
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(db), str(warm), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    growth = (measured["peak_kb"] - measured["base_kb"]) * 1024
    size = out.stat().st_size
    assert pyogrio.read_info(out)["features"] == N_BIG
    assert size > 30 * 2**20
    # streaming: memory grows by a batch or two, not by the dataset
    assert growth < size / 2, (
        f"peak RSS grew by {growth / 2**20:.0f} MB to export {size / 2**20:.0f} MB"
    )

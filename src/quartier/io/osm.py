"""Read OpenStreetMap extracts (PBF or XML) into thematic layers with pyosmium.

:func:`read_osm` turns one OSM file into up to five :class:`SourceLayer` objects
(buildings, roads, pois, landuse, boundaries). Their batches hold string tag
columns, an int64 ``osm_id`` and a WKB ``geometry`` column in EPSG:4326.

Design notes
------------
* Memory: the file is read in one streaming pass (plus osmium's relation
  pre-pass) and all layers are collected at once. Rows are buffered per layer
  only up to ``batch_size`` and then frozen into a compact Arrow batch, so the
  peak is the Arrow data of the selected features plus osmium's node-location
  index (``flex_mem``, which accepts unsorted ids). This suits city or region
  extracts; a country extract would need a pass per layer or a disk index.
* Multipolygons are assembled by osmium's area manager. Areas it rejects
  (self-intersections, broken rings) are rebuilt with shapely (even-odd rule
  plus ``make_valid``) in one extra pass over just those objects.
* osmium's area manager needs files sorted by type and id. When a file is not
  (``pyogrio/sample.osm.pbf``, Overpass ``out qt``), every area goes through
  the shapely path instead.
* Broken data never raises: dangling relation members, ways with missing nodes
  and areas that cannot be built are skipped and counted in ``notes``. Notes
  describe the whole file and are repeated on each layer. A file that is not
  OSM at all raises :class:`~quartier.errors.InvalidInput`.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import osmium
import osmium.filter
import pyarrow as pa
import shapely

from quartier.errors import InvalidInput
from quartier.io.source import SourceLayer

LAYER_NAMES = ("buildings", "roads", "pois", "landuse", "boundaries")
_GEOMETRY_TYPES = {"roads": "LINESTRING", "pois": "POINT"}  # others: MULTIPOLYGON
_KEYS_COLUMNS = {
    "buildings": ("osm_type", "osm_id"),
    "roads": ("osm_id",),
    "pois": ("osm_id", "category", "kind"),
    "landuse": ("osm_type", "osm_id"),
    "boundaries": ("osm_type", "osm_id"),
}
_TAG_COLUMNS = {
    "buildings": "name building amenity levels addr_street addr_housenumber start_date",
    "roads": "name highway surface oneway lanes maxspeed ref",
    "pois": "name amenity shop healthcare operator",
    "landuse": "name landuse natural leisure",
    "boundaries": "name admin_level ref",
}
_KEY_OF = {  # column -> OSM key, where they differ
    "levels": "building:levels",
    "addr_street": "addr:street",
    "addr_housenumber": "addr:housenumber",
}
# Checked in this order; highway=bus_stop goes before public_transport=platform.
_POI_KEYS = "amenity shop tourism healthcare office leisure emergency".split()
_LANDUSE_KEYS = ("landuse", "natural", "leisure")
_AREA_RELATION_TYPES = ("multipolygon", "boundary")

Coords = list[tuple[float, float]]


class _Unsorted(Exception):
    """The file is not sorted by type and id, so osmium cannot build areas."""


def read_osm(path: str | Path, *, batch_size: int = 65536) -> list[SourceLayer]:
    """Read an OSM PBF or XML file into thematic layers.

    Parameters
    ----------
    path
        ``.osm.pbf``, ``.pbf``, ``.osm``, ``.osm.gz`` or ``.osm.bz2`` file. The
        format is detected from the content, not the name.
    batch_size
        Maximum number of rows per ``pyarrow.RecordBatch``.

    Returns
    -------
    list of SourceLayer
        Non-empty layers in the order buildings, roads, pois, landuse,
        boundaries, with WKB geometries in EPSG:4326.

    Raises
    ------
    InvalidInput
        If the file is missing, empty or not readable OSM data.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    path = Path(path)
    source = _open(path)
    try:
        collector = _read(source, path, batch_size, osmium_areas=True)
    except _Unsorted:
        collector = _read(source, path, batch_size, osmium_areas=False)
    return collector.layers_with_notes()


def _open(path: Path) -> osmium.io.File:
    """Check that ``path`` looks like OSM data and return an osmium file."""
    if not path.is_file():
        raise InvalidInput(f"{path}: file not found")
    try:
        with path.open("rb") as handle:
            head = handle.read(64)
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot open file ({exc.strerror})") from None
    if not head:
        raise InvalidInput(f"{path}: file is empty")
    if head.startswith(b"\x1f\x8b"):
        return osmium.io.File(str(path), "osm.gz")
    if head.startswith(b"BZh"):
        return osmium.io.File(str(path), "osm.bz2")
    if b"OSMHeader" in head[:24]:
        return osmium.io.File(str(path), "pbf")
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return osmium.io.File(str(path), "osm")
    raise InvalidInput(f"{path}: not an OSM file (expected OSM PBF or OSM XML)")


def _iterate(processor: osmium.FileProcessor, path: Path) -> Iterator[Any]:
    """Yield objects of ``processor``, turning osmium errors into InvalidInput."""
    iterator = iter(processor)
    while True:
        try:
            obj = next(iterator)
        except StopIteration:
            return
        except RuntimeError as exc:
            message = (str(exc).strip().splitlines() or ["unknown error"])[0]
            if "out of order" in message:
                raise _Unsorted(message) from None
            raise InvalidInput(f"{path}: unreadable OSM data ({message})") from None
        yield obj


def _read(
    source: osmium.io.File, path: Path, batch_size: int, *, osmium_areas: bool
) -> _Collector:
    """Read the whole file once, then rebuild what osmium could not."""
    collector = _Collector(batch_size, osmium_areas)
    processor = osmium.FileProcessor(source).with_locations("flex_mem")
    if osmium_areas:
        processor.with_areas()
    untagged_nodes = osmium.filter.EmptyTagFilter()
    untagged_nodes.enable_for(osmium.osm.NODE)
    processor.with_filter(untagged_nodes)
    for obj in _iterate(processor, path):
        collector.handle(obj)
    storage = processor.node_location_storage
    collector.count_dangling(storage)
    _rebuild_pending(source, path, collector, storage)
    return collector


def _tags(obj: Any) -> dict[str, str]:
    return {tag.k: tag.v for tag in obj.tags}


def _poi_category(tags: Mapping[str, str]) -> tuple[str, str] | None:
    for key in _POI_KEYS:
        if tags.get(key, "no") != "no":
            return key, tags[key]
    if tags.get("highway") == "bus_stop":
        return "highway", "bus_stop"
    if tags.get("public_transport", "no") != "no":
        return "public_transport", tags["public_transport"]
    return None


def _area_layers(tags: Mapping[str, str]) -> list[str]:
    names = []
    if tags.get("building", "no") != "no":
        names.append("buildings")
    elif any(key in tags for key in _LANDUSE_KEYS):
        names.append("landuse")
    if tags.get("boundary") == "administrative":
        names.append("boundaries")
    return names


def _location(storage: Any, ref: int) -> tuple[float, float] | None:
    try:
        loc = storage.get(ref)
    except KeyError:
        return None
    return (loc.lon, loc.lat) if loc.valid() else None


class _LayerBuilder:
    """Buffer the rows of one layer and freeze them into RecordBatches."""

    def __init__(self, name: str, batch_size: int) -> None:
        self.name = name
        self.tag_columns = _TAG_COLUMNS[name].split()
        columns = (*_KEYS_COLUMNS[name], *self.tag_columns)
        self.schema = pa.schema(
            [pa.field(c, pa.int64() if c == "osm_id" else pa.string()) for c in columns]
            + [pa.field("geometry", pa.binary())]
        )
        self.batches: list[pa.RecordBatch] = []
        self._batch_size = batch_size
        self._rows: dict[str, list[Any]] = {n: [] for n in self.schema.names}

    def add(self, tags: Mapping[str, str], wkb: bytes, **keys: Any) -> None:
        for column in _KEYS_COLUMNS[self.name]:
            self._rows[column].append(keys[column])
        for column in self.tag_columns:
            self._rows[column].append(tags.get(_KEY_OF.get(column, column)))
        self._rows["geometry"].append(wkb)
        if len(self._rows["geometry"]) >= self._batch_size:
            self.flush()

    def flush(self) -> None:
        if self._rows["geometry"]:
            batch = pa.RecordBatch.from_pydict(self._rows, schema=self.schema)
            self.batches.append(batch)
            self._rows = {n: [] for n in self.schema.names}


class _Collector:
    """Route OSM objects to the layer builders and count data problems."""

    def __init__(self, batch_size: int, osmium_areas: bool) -> None:
        self.builders = {n: _LayerBuilder(n, batch_size) for n in LAYER_NAMES}
        self.osmium_areas = osmium_areas
        self.stats: Counter[str] = Counter()
        self.pending_ways: dict[int, dict[str, str]] = {}
        self.pending_relations: dict[int, dict[str, str]] = {}
        self._way_ids = array("q")
        self._members = {"w": (array("q"), array("q")), "n": (array("q"), array("q"))}
        self._wkb = osmium.geom.WKBFactory()

    def handle(self, obj: Any) -> None:
        kind = obj.type_str()
        if kind == "n":
            self._node(obj)
        elif kind == "w":
            self._way(obj)
        elif kind == "r":
            self._relation(obj)
        elif kind == "a":
            self._area(obj)

    def _node(self, node: Any) -> None:
        tags = _tags(node)
        match = _poi_category(tags)
        if match is None or not node.location.valid():
            return
        wkb = bytes.fromhex(self._wkb.create_point(node))
        self.builders["pois"].add(
            tags, wkb, osm_id=node.id, category=match[0], kind=match[1]
        )

    def _way(self, way: Any) -> None:
        self._way_ids.append(way.id)
        if not way.tags:
            return
        tags = _tags(way)
        missing = False
        if "highway" in tags and tags.get("area") != "yes":
            missing = not self._road(way, tags)
        if _area_layers(tags) and _is_closed_ring(way, tags):
            if not self.osmium_areas:
                self.pending_ways[way.id] = tags
            elif not missing:
                missing = not all(n.location.valid() for n in way.nodes)
        self.stats["ways_missing_nodes"] += missing

    def _road(self, way: Any, tags: dict[str, str]) -> bool:
        """Add a road; return False if node locations are missing."""
        try:
            wkb = bytes.fromhex(self._wkb.create_linestring(way))
        except osmium.InvalidLocationError:
            return False
        except RuntimeError:  # fewer than two distinct points
            self.stats["degenerate_ways"] += 1
            return True
        self.builders["roads"].add(tags, wkb, osm_id=way.id)
        return True

    def _relation(self, relation: Any) -> None:
        for member in relation.members:
            if member.type in self._members:
                refs, owners = self._members[member.type]
                refs.append(member.ref)
                owners.append(relation.id)
        if self.osmium_areas or relation.tags.get("type") not in _AREA_RELATION_TYPES:
            return
        tags = _tags(relation)
        if _area_layers(tags):
            self.pending_relations[relation.id] = tags

    def _area(self, area: Any) -> None:
        tags = _tags(area)
        if not _area_layers(tags):
            return
        try:
            wkb = bytes.fromhex(self._wkb.create_multipolygon(area))
        except (RuntimeError, osmium.InvalidLocationError):
            pending = self.pending_ways if area.from_way() else self.pending_relations
            pending[area.orig_id()] = tags
            return
        osm_type = "way" if area.from_way() else "relation"
        self.add_area(tags, osm_type, area.orig_id(), wkb)

    def add_area(self, tags: dict[str, str], osm_type: str, osm_id: int, wkb: bytes):
        for name in _area_layers(tags):
            self.builders[name].add(tags, wkb, osm_type=osm_type, osm_id=osm_id)

    def count_dangling(self, storage: Any) -> None:
        """Count relations whose node or way members are not in the file."""
        way_refs, way_owners = (np.asarray(a, np.int64) for a in self._members["w"])
        node_refs, node_owners = (np.asarray(a, np.int64) for a in self._members["n"])
        missing_ways = ~np.isin(way_refs, np.asarray(self._way_ids, np.int64))
        missing_nodes = np.array(
            [_location(storage, int(r)) is None for r in node_refs], dtype=bool
        )
        owners = np.union1d(way_owners[missing_ways], node_owners[missing_nodes])
        self.stats["dangling_relations"] = len(owners)
        self.stats["dangling_way_refs"] = int(missing_ways.sum())
        self.stats["dangling_node_refs"] = int(missing_nodes.sum())

    def layers_with_notes(self) -> list[SourceLayer]:
        notes = _notes(self.stats, self.osmium_areas)
        layers = []
        for name, builder in self.builders.items():
            builder.flush()
            if builder.batches:
                geometry_type = _GEOMETRY_TYPES.get(name, "MULTIPOLYGON")
                layers.append(
                    SourceLayer(
                        name=name,
                        batches=builder.batches,
                        crs="EPSG:4326",
                        geometry_type=geometry_type,
                        notes=list(notes),
                    )
                )
        return layers


def _is_closed_ring(way: Any, tags: Mapping[str, str]) -> bool:
    return len(way.nodes) >= 4 and way.is_closed() and tags.get("area") != "no"


def _rebuild_pending(
    source: osmium.io.File, path: Path, collector: _Collector, storage: Any
) -> None:
    """Build the areas osmium skipped or rejected, with shapely."""
    relations = collector.pending_relations
    members: dict[int, list[int]] = {}
    if relations:
        reader = osmium.FileProcessor(source, osmium.osm.RELATION)
        reader.with_filter(osmium.filter.IdFilter(relations))
        for rel in _iterate(reader, path):
            members[rel.id] = [m.ref for m in rel.members if m.type == "w"]
    wanted = set(collector.pending_ways).union(*members.values())
    coords = _way_coordinates(source, path, wanted, storage)
    for way_id, tags in collector.pending_ways.items():
        if way_id not in coords:
            collector.stats["ways_missing_nodes"] += 1
        else:
            _add_rebuilt(collector, tags, "way", way_id, [coords[way_id]])
    for rel_id, tags in relations.items():
        refs = members.get(rel_id, [])
        if not refs:
            collector.stats["areas_dropped"] += 1
        elif all(ref in coords for ref in refs):  # else: counted as dangling
            _add_rebuilt(collector, tags, "relation", rel_id, [coords[r] for r in refs])


def _way_coordinates(
    source: osmium.io.File, path: Path, way_ids: set[int], storage: Any
) -> dict[int, Coords]:
    """Coordinates of the given ways, for those whose nodes are all located."""
    coords: dict[int, Coords] = {}
    if not way_ids:
        return coords
    reader = osmium.FileProcessor(source, osmium.osm.WAY)
    reader.with_filter(osmium.filter.IdFilter(way_ids))
    for way in _iterate(reader, path):
        points = [_location(storage, node.ref) for node in way.nodes]
        if points and None not in points:
            coords[way.id] = points  # type: ignore[assignment]
    return coords


def _add_rebuilt(
    collector: _Collector,
    tags: dict[str, str],
    osm_type: str,
    osm_id: int,
    lines: list[Coords],
) -> None:
    wkb = _polygonal_wkb(lines)
    if wkb is None:
        collector.stats["areas_dropped"] += 1
        return
    collector.stats["areas_rebuilt"] += 1
    collector.add_area(tags, osm_type, osm_id, wkb)


def _polygonal_wkb(lines: list[Coords]) -> bytes | None:
    """MultiPolygon WKB from ways that form closed rings, or None.

    Ways are merged into rings; each ring is made valid and the rings are
    combined with the even-odd rule (roles are ignored, as in most renderers),
    so the result is a valid MultiPolygon.
    """
    parts = [line for line in lines if len(line) >= 2]
    if not parts:
        return None
    merged = shapely.get_parts(shapely.line_merge(shapely.MultiLineString(parts)))
    result = shapely.MultiPolygon()
    for ring in merged:
        if ring.is_closed and len(ring.coords) >= 4:
            polygon = shapely.make_valid(shapely.Polygon(ring.coords))
            result = shapely.symmetric_difference(result, _polygons(polygon))
    polygons = _polygons(result).geoms
    return shapely.to_wkb(shapely.MultiPolygon(polygons)) if polygons else None


def _polygons(geometry: Any) -> shapely.MultiPolygon:
    """The polygonal part of a geometry, as a MultiPolygon."""
    found = []
    for part in shapely.get_parts(geometry):
        if part.geom_type == "Polygon" and not part.is_empty:
            found.append(part)
        elif part.geom_type in ("MultiPolygon", "GeometryCollection"):
            found.extend(_polygons(part).geoms)
    return shapely.MultiPolygon(found)


_NOTE_TEMPLATES = (
    ("ways_missing_nodes", "{} ways with missing node locations skipped"),
    ("degenerate_ways", "{} ways with fewer than two distinct points skipped"),
    (
        "areas_rebuilt",
        "{} invalid areas that osmium could not assemble were repaired with "
        "shapely make_valid",
    ),
    ("areas_dropped", "{} invalid areas could not be assembled and were skipped"),
)


def _notes(stats: Counter[str], osmium_areas: bool) -> list[str]:
    """Human-readable notes for the import report."""
    notes = []
    if not osmium_areas:
        notes.append(
            "file is not sorted by type and id: areas were assembled with shapely "
            "instead of osmium"
        )
        stats["areas_rebuilt"] = 0  # every area was built by shapely, not repaired
    if stats["dangling_relations"]:
        notes.append(
            f"{stats['dangling_relations']} relations with missing members skipped "
            f"({stats['dangling_way_refs']} way and {stats['dangling_node_refs']} "
            "node references point outside the file)"
        )
    notes += [text.format(stats[key]) for key, text in _NOTE_TEMPLATES if stats[key]]
    return notes

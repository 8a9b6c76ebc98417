"""From a raw source layer to canonical batches ready for a store.

Field names are made safe (renames reported), types are cast to the
canonical Arrow types, geometries are reprojected to EPSG:4326, measures (M)
dropped, invalid geometries repaired and counted. Nothing is dropped in
silence: every change is counted in the :class:`ImportReport`.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from pyproj import CRS, Transformer

from quartier.domain import Field, FieldType
from quartier.domain.fieldtypes import ARROW_TYPES, field_type_of
from quartier.errors import InvalidInput
from quartier.io.source import SourceLayer

RESERVED = {
    "fid",
    "geom",
    "geometry",
    "quartier_version",
    "quartier_version_to",
    "quartier_hash",
}
MAX_NAME = 63
_CURVES = {
    "CircularString",
    "CompoundCurve",
    "CurvePolygon",
    "MultiCurve",
    "MultiSurface",
    "Curve",
    "Surface",
}
_SURFACES = {"PolyhedralSurface", "TIN", "Triangle"}


@dataclass
class ImportReport:
    """What an import read, stored, repaired and refused."""

    source: str
    layer: str = ""
    dataset: str = ""
    version: int = 0
    crs: str = ""
    read: int = 0
    stored: int = 0
    repaired: int = 0
    refused: int = 0
    without_geometry: int = 0
    geometry_types: dict[str, int] = field(default_factory=dict)
    has_z: bool = False
    fields: list[dict[str, str]] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    added: int = 0
    removed: int = 0
    changed: int = 0
    #: the same file as the dataset's current version: no version was written
    unchanged: bool = False

    def geometry_type(self) -> str:
        """The layer's geometry type name for the catalogue/GeoPackage."""
        name = geometry_type_name(k for k, v in self.geometry_types.items() if v)
        return name + (" Z" if self.has_z and name != "GEOMETRY" else "")


def geometry_type_name(kinds: Iterable[str]) -> str:
    """The declared type of a layer holding geometries of ``kinds``.

    One kind gives its name; anything mixed — single and multi parts too, as
    in many shapefiles — is ``GEOMETRY`` (a GeoPackage column declared
    ``MULTIPOLYGON`` may not hold a ``POLYGON``).

    >>> geometry_type_name(["MultiPolygon"])
    'MULTIPOLYGON'
    >>> geometry_type_name(["POLYGON", "MULTIPOLYGON"])
    'GEOMETRY'
    """
    found = {k.upper() for k in kinds}
    return found.pop() if len(found) == 1 else "GEOMETRY"


def safe_names(names: list[str]) -> dict[str, str]:
    """Map source field names to safe, unique column names.

    >>> names = safe_names(["Nom", "nom", "fid", "", "@timestamp"])
    >>> list(names.values())
    ['Nom', 'nom_2', 'fid_src', 'field_4', '@timestamp']
    """
    out: dict[str, str] = {}
    seen: set[str] = set()
    for i, name in enumerate(names, start=1):
        new = unicodedata.normalize("NFC", name).strip().replace("\x00", "")
        new = _truncate(re.sub(r"\s+", " ", new), MAX_NAME)
        if not new:
            new = f"field_{i}"
        if new.lower() in RESERVED:
            new = f"{new}_src"
        candidate, k = new, 2
        while candidate.lower() in seen:
            candidate = f"{_truncate(new, MAX_NAME - 4)}_{k}"
            k += 1
        seen.add(candidate.lower())
        out[name] = candidate
    return out


def _json_text(value: str) -> str:
    """GDAL's JSON-subtype text as canonical JSON (plain text: a JSON string)."""
    try:
        return json.dumps(json.loads(value), ensure_ascii=False)
    except ValueError:
        return json.dumps(value, ensure_ascii=False)


def _truncate(name: str, max_bytes: int) -> str:
    """Cut a name to ``max_bytes`` of UTF-8 (PostgreSQL's identifier limit)."""
    return name.encode()[:max_bytes].decode("utf-8", "ignore")


def _canonical(col: pa.Array) -> tuple[pa.Array, FieldType]:
    t = col.type
    if isinstance(t, pa.BaseExtensionType):
        # e.g. GDAL's ``arrow.json`` columns: already JSON text, do not dump again
        storage = col.storage
        if t.extension_name == "arrow.json" and pa.types.is_string(storage.type):
            values = [None if v is None else _json_text(v) for v in storage.to_pylist()]
            return pa.array(values, type=pa.string()), FieldType.JSON
        col, t = storage, storage.type
    if pa.types.is_dictionary(t):
        col = col.cast(t.value_type)
        t = col.type
    if pa.types.is_null(t):
        return col.cast(pa.string()), FieldType.TEXT
    ftype = field_type_of(t)
    if ftype is FieldType.JSON:
        values = [
            None if v is None else json.dumps(v, default=str, ensure_ascii=False)
            for v in col.to_pylist()
        ]
        return pa.array(values, type=pa.string()), ftype
    if pa.types.is_time(t):
        return col.cast(pa.string()), FieldType.TEXT
    if pa.types.is_uint64(t):
        return col.cast(pa.float64()), FieldType.REAL
    if pa.types.is_timestamp(t) and t.tz is None:
        col = pc.assume_timezone(col, "UTC")
    if pa.types.is_decimal(t):
        return col.cast(pa.float64()), FieldType.REAL
    return col.cast(ARROW_TYPES[ftype]), ftype


class Normaliser:
    """Turns a :class:`SourceLayer` into canonical batches, counting as it goes."""

    def __init__(self, layer: SourceLayer, report: ImportReport) -> None:
        self.layer = layer
        self.report = report
        self.fields: list[Field] = []
        self._names: dict[str, str] = {}
        self._transformer: Transformer | None = None
        self.spatial = True
        report.crs = self._setup_crs(layer.crs)
        report.notes.extend(layer.notes)

    def _setup_crs(self, crs: str | None) -> str:
        if crs is None:
            return ""
        try:
            src = CRS.from_user_input(crs)
        except Exception as e:
            raise InvalidInput(f"unknown CRS {crs!r}: {e}") from None
        epsg = src.to_epsg()
        if epsg != 4326:
            self._transformer = Transformer.from_crs(src, 4326, always_xy=True)
        return f"EPSG:{epsg}" if epsg else src.name

    def batches(self) -> Iterator[pa.RecordBatch]:
        for raw in self.layer.batches:
            batch = self._prepare(raw)
            if batch is not None:
                yield batch

    def _prepare(self, raw: pa.RecordBatch) -> pa.RecordBatch | None:
        names = [n for n in raw.schema.names if n != "geometry"]
        if not self._names:
            self._names = safe_names(names)
            self.report.renamed = {k: v for k, v in self._names.items() if k != v}
            self.spatial = "geometry" in raw.schema.names
            if self.spatial and not self.report.crs:
                self.report.crs = "EPSG:4326 (assumed)"
                self.report.notes.append("no CRS in the source: assumed EPSG:4326")
        arrays, out_names = [], []
        fields = []
        for name in names:
            col, ftype = _canonical(raw.column(name))
            new = self._names.get(name) or safe_names([name])[name]
            arrays.append(col)
            out_names.append(new)
            fields.append(Field(new, ftype, name if name != new else None))
        if not self.fields:
            self.fields = fields
            self.report.fields = [
                {"name": f.name, "type": f.type.value} for f in fields
            ]
        elif [f.name for f in fields] != [f.name for f in self.fields]:
            raise InvalidInput(f"layer {self.layer.name!r}: fields change between rows")
        self.report.read += raw.num_rows
        if self.spatial:
            arrays.append(self._geometry(raw.column("geometry")))
            out_names.append("geometry")
        self.report.stored += raw.num_rows
        return pa.RecordBatch.from_arrays(arrays, names=out_names)

    def _geometry(self, wkb: pa.Array) -> pa.Array:
        values = wkb.to_numpy(zero_copy_only=False)
        try:
            geoms = shapely.from_wkb(values, on_invalid="raise")
        except (shapely.errors.GEOSException, NotImplementedError) as e:
            # shapely raises NotImplementedError for curves GEOS can parse
            raise self._geometry_error(values, e) from None
        missing = shapely.is_missing(geoms)
        self.report.without_geometry += int(missing.sum())
        if shapely.has_m(geoms).any():
            geoms = np.where(
                shapely.has_z(geoms), shapely.force_3d(geoms), shapely.force_2d(geoms)
            )
        if self._transformer is not None:
            geoms = self._reproject(geoms)
        if shapely.has_z(geoms).any():
            self.report.has_z = True
        invalid = ~shapely.is_valid(geoms) & ~missing
        if invalid.any():
            geoms = geoms.copy()
            before = shapely.get_type_id(geoms[invalid])
            fixed = shapely.make_valid(
                geoms[invalid], method="structure", keep_collapsed=False
            )
            # a repaired multipolygon that came out as one polygon stays multi,
            # so the layer keeps one geometry type
            single = (before == 6) & (shapely.get_type_id(fixed) == 3)
            fixed[single] = [shapely.MultiPolygon([g]) for g in fixed[single]]
            geoms[invalid] = fixed
            self.report.repaired += int(invalid.sum())
        types, counts = np.unique(
            shapely.get_type_id(geoms[~missing]), return_counts=True
        )
        for t, c in zip(types, counts, strict=True):
            name = _TYPE_NAMES.get(int(t), "Geometry")
            self.report.geometry_types[name] = self.report.geometry_types.get(
                name, 0
            ) + int(c)
        return pa.array(shapely.to_wkb(geoms, flavor="iso"), type=pa.binary())

    def _reproject(self, geoms: np.ndarray) -> np.ndarray:
        tr = self._transformer
        assert tr is not None

        def fn(coords: np.ndarray) -> np.ndarray:
            if coords.shape[1] == 3:
                x, y, z = tr.transform(coords[:, 0], coords[:, 1], coords[:, 2])
                return np.column_stack([x, y, z])
            x, y = tr.transform(coords[:, 0], coords[:, 1])
            return np.column_stack([x, y])

        return (
            shapely.transform(geoms, fn, include_z=True)
            if shapely.has_z(geoms).any()
            else shapely.transform(geoms, fn)
        )

    def _geometry_error(self, values: np.ndarray, e: Exception) -> InvalidInput:
        for i, v in enumerate(values):
            if v is None:
                continue
            try:
                shapely.from_wkb(v)
            except (shapely.errors.GEOSException, NotImplementedError) as err:
                kind = _wkb_type_name(v)
                nested = re.search(r"WKB type (\d+)", str(err))
                if kind not in _CURVES | _SURFACES and nested:  # inside a collection
                    kind = _WKB_NAMES.get(int(nested.group(1)) % 1000, kind)
                where = f"layer {self.layer.name!r}, feature {self.report.read + i + 1}"
                if kind in _SURFACES:
                    return InvalidInput(
                        f"{where}: {kind} geometry (a surface of faces) is not "
                        "supported; convert it first with `ogr2ogr -nlt MULTIPOLYGON`"
                    )
                if kind in _CURVES:
                    return InvalidInput(
                        f"layer {self.layer.name!r}, "
                        f"feature {self.report.read + i + 1}:"
                        f" curved geometry ({kind}) is not supported yet; convert it "
                        "first with `ogr2ogr -nlt CONVERT_TO_LINEAR`"
                    )
                return InvalidInput(
                    f"layer {self.layer.name!r}, feature {self.report.read + i + 1}: "
                    f"unreadable geometry ({e})"
                )
        return InvalidInput(f"layer {self.layer.name!r}: unreadable geometry ({e})")


_TYPE_NAMES = {
    0: "Point",
    1: "LineString",
    2: "LineString",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}
_WKB_NAMES = {
    8: "CircularString",
    9: "CompoundCurve",
    10: "CurvePolygon",
    11: "MultiCurve",
    12: "MultiSurface",
    13: "Curve",
    14: "Surface",
    15: "PolyhedralSurface",
    16: "TIN",
    17: "Triangle",
}


def _wkb_type_name(wkb: bytes) -> str:
    if len(wkb) < 5:
        return "?"
    code = int.from_bytes(wkb[1:5], "little" if wkb[0] == 1 else "big") & 0x0FFFFFFF
    return _WKB_NAMES.get(code % 1000, str(code))

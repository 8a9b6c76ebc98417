"""Write a dataset version to a file, streaming batch by batch."""

from __future__ import annotations

import json
import shutil
import tempfile
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
import shapely

from quartier.domain import Field
from quartier.errors import InvalidInput

FORMATS = {
    "gpkg": ("GPKG", ".gpkg"),
    "geojson": ("GeoJSON", ".geojson"),
    "shp": ("ESRI Shapefile", ".shp"),
    "csv": ("CSV", ".csv"),
    "parquet": (None, ".parquet"),
    "kml": ("KML", ".kml"),
}
_SHP_FAMILY = {
    "Point": "Point",
    "MultiPoint": "MultiPoint",
    "LineString": "MultiLineString",
    "MultiLineString": "MultiLineString",
    "Polygon": "MultiPolygon",
    "MultiPolygon": "MultiPolygon",
}
_SHP_SIDECARS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")
_MIXED = (
    "a Shapefile holds one geometry type and this dataset mixes several; "
    "export to gpkg or geojson instead"
)


def format_from_path(path: str | Path) -> str:
    name = str(path).lower()
    for key, (_drv, ext) in FORMATS.items():
        if name.endswith(ext) or (key == "shp" and name.endswith(".zip")):
            return key
    raise InvalidInput(f"cannot tell the format of {path}; use -f {'|'.join(FORMATS)}")


def write_batches(
    batches: Iterable[pa.RecordBatch],
    path: str | Path,
    *,
    fmt: str,
    layer: str,
    fields: list[Field],
    spatial: bool,
    geometry_type: str = "GEOMETRY",
) -> Path:
    """Stream ``batches`` (``fid``, fields, ``geometry`` WKB) into ``path``."""
    if fmt not in FORMATS:
        raise InvalidInput(
            f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}"
        )
    out = Path(path)
    if out.exists():
        raise InvalidInput(f"{out} already exists; choose a new file")
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _write(batches, out, fmt, layer, fields, spatial, geometry_type)
    finally:
        # a failed write must not keep the store's cursor (and its
        # connection) open in a half-read generator
        close = getattr(batches, "close", None)
        if close is not None:
            close()


def _write(
    batches: Iterable[pa.RecordBatch],
    out: Path,
    fmt: str,
    layer: str,
    fields: list[Field],
    spatial: bool,
    geometry_type: str,
) -> Path:
    names = [f.name for f in fields] + (["geometry"] if spatial else [])
    stream = (b.select(names) for b in batches)
    if fmt == "parquet":
        _write_parquet(stream, out, fields, spatial)
        return out
    if fmt == "shp" and out.suffix.lower() == ".zip":
        try:
            with tempfile.TemporaryDirectory() as tmp:
                shp = Path(tmp) / f"{layer}.shp"
                _write_gdal(stream, shp, "shp", layer, fields, spatial, geometry_type)
                with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
                    for f in sorted(Path(tmp).iterdir()):
                        zf.write(f, f.name)
        except InvalidInput as e:
            _remove(out)
            raise InvalidInput(str(e).replace(f"{layer}.shp", out.name)) from None
        except BaseException:
            _remove(out)
            raise
        return out
    # a failed shapefile leaves no .shx/.dbf/.prj/.cpg behind either
    created = (
        [out]
        if fmt != "shp"
        else [
            side
            for side in (out.with_suffix(ext) for ext in _SHP_SIDECARS)
            if not side.exists()
        ]
    )
    try:
        _write_gdal(stream, out, fmt, layer, fields, spatial, geometry_type)
    except BaseException:
        for side in created:
            _remove(side)
        raise
    return out


def _write_gdal(
    stream: Iterator[pa.RecordBatch],
    out: Path,
    fmt: str,
    layer: str,
    fields: list[Field],
    spatial: bool,
    geometry_type: str,
) -> None:
    driver = FORMATS[fmt][0]
    first = next(stream, None)
    schema = _schema(fields, spatial)
    if first is None:
        first = pa.RecordBatch.from_pylist([], schema=schema)
    gtype = _ogr_type(geometry_type, first, fmt) if spatial else None
    batches = _chain(first, stream)
    mixed: list[InvalidInput] = []
    if spatial and fmt == "shp":
        batches = _one_family(batches, None if gtype == "Unknown" else gtype, mixed)
    reader = pa.RecordBatchReader.from_batches(schema, batches)
    layer_options = {}
    if fmt == "csv":
        layer_options = {"GEOMETRY": "AS_WKT"} if spatial else {}
    if fmt == "geojson":
        # 17 significant digits for coordinates too (GDAL's default is 15
        # decimals): an exported file re-imported unchanged is unchanged
        layer_options = {"SIGNIFICANT_FIGURES": "17"}
    kwargs: dict = {"driver": driver, "layer": layer, "layer_options": layer_options}
    if spatial:
        kwargs.update(geometry_name="geometry", geometry_type=gtype, crs="EPSG:4326")
    if fmt == "shp":
        kwargs["encoding"] = "UTF-8"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pyogrio.write_arrow(reader, str(out), **kwargs)
    except Exception as e:
        if mixed:
            raise mixed[0] from None
        raise InvalidInput(
            f"cannot write {out.name} as {fmt}: {str(e).strip().splitlines()[0]}"
        ) from None


def _one_family(
    batches: Iterator[pa.RecordBatch], family: str | None, errors: list[InvalidInput]
) -> Iterator[pa.RecordBatch]:
    """Check every batch, not just the first, against the shapefile's type."""
    for batch in batches:
        wkb = batch.column("geometry").to_numpy(zero_copy_only=False)
        geoms = shapely.from_wkb(wkb)
        type_ids = np.unique(shapely.get_type_id(geoms[~shapely.is_missing(geoms)]))
        kinds = {_SHP_FAMILY.get(_TYPE_NAMES.get(int(t), "")) for t in type_ids}
        if family is None and len(kinds) == 1:
            family = next(iter(kinds))
        if kinds - {family} or None in kinds:
            errors.append(InvalidInput(_MIXED))
            raise errors[-1]
        yield batch


def _chain(
    first: pa.RecordBatch, rest: Iterator[pa.RecordBatch]
) -> Iterator[pa.RecordBatch]:
    yield first
    yield from rest


def _schema(fields: list[Field], spatial: bool) -> pa.Schema:
    from quartier.domain.fieldtypes import ARROW_TYPES

    cols = [pa.field(f.name, ARROW_TYPES[f.type]) for f in fields]
    if spatial:
        cols.append(pa.field("geometry", pa.binary()))
    return pa.schema(cols)


def _ogr_type(geometry_type: str, first: pa.RecordBatch, fmt: str) -> str:
    name = geometry_type.replace(" Z", "").upper()
    pretty = {
        "POINT": "Point",
        "LINESTRING": "LineString",
        "POLYGON": "Polygon",
        "MULTIPOINT": "MultiPoint",
        "MULTILINESTRING": "MultiLineString",
        "MULTIPOLYGON": "MultiPolygon",
        "GEOMETRYCOLLECTION": "GeometryCollection",
    }.get(name, "Unknown")
    if fmt != "shp":
        return pretty
    if pretty == "Unknown":
        geoms = shapely.from_wkb(
            first.column("geometry").to_numpy(zero_copy_only=False)
        )
        kinds = {_SHP_FAMILY.get(g.geom_type) for g in geoms if g is not None}
        if not kinds:
            return "Unknown"  # no geometry yet: the first one found decides
        if len(kinds) != 1 or None in kinds:
            raise InvalidInput(_MIXED)
        pretty = kinds.pop() or "Unknown"
    return _SHP_FAMILY.get(pretty, pretty)


def _write_parquet(
    stream: Iterator[pa.RecordBatch], out: Path, fields: list[Field], spatial: bool
) -> None:
    schema = _schema(fields, spatial)
    if spatial:
        # no "crs" key: GeoParquet 1.0 then means OGC:CRS84 (null = unknown)
        geo = {
            "version": "1.0.0",
            "primary_column": "geometry",
            "columns": {"geometry": {"encoding": "WKB", "geometry_types": []}},
        }
        schema = schema.with_metadata({b"geo": json.dumps(geo).encode()})
    try:
        with pq.ParquetWriter(out, schema, compression="zstd") as writer:
            for batch in stream:
                writer.write_batch(
                    batch.cast(schema) if batch.schema != schema else batch
                )
    except BaseException:
        _remove(out)
        raise


def _remove(out: Path) -> None:
    if out.is_dir():
        shutil.rmtree(out, ignore_errors=True)
    elif out.exists():
        out.unlink()


_TYPE_NAMES = {
    0: "Point",
    1: "LineString",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}

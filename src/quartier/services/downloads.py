"""Downloads of any dataset version, in every export format, streamed.

GeoJSON and CSV are produced batch by batch as the store yields them (the
first bytes leave before the last features are read). The file formats
(GeoPackage, zipped Shapefile, GeoParquet, KML) are written by
:func:`quartier.services.catalogue.export_dataset` into a private temporary
folder, then streamed from disk and removed: memory never grows with the
dataset. Columns the caller may not see (``access.hidden_fields``) are left
out of every format before anything is written.
"""

from __future__ import annotations

import base64
import csv
import io
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import shapely

from quartier.domain import Dataset, Version
from quartier.errors import InvalidInput
from quartier.services.catalogue import export_dataset
from quartier.storage.base import SqlStore

BATCH = 8192
IANA = "http://www.iana.org/assignments/media-types/"
EU_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"


@dataclass(frozen=True)
class Format:
    key: str
    extension: str
    media_type: str
    #: code in the EU file-type vocabulary (DCAT-AP ``dct:format``)
    eu_code: str
    label: str


FORMATS: dict[str, Format] = {
    f.key: f
    for f in (
        Format("geojson", "geojson", "application/geo+json", "GEOJSON", "GeoJSON"),
        Format("csv", "csv", "text/csv", "CSV", "CSV"),
        Format("gpkg", "gpkg", "application/geopackage+sqlite3", "GPKG", "GeoPackage"),
        Format("shp", "zip", "application/zip", "SHP", "Shapefile (zip)"),
        Format(
            "parquet",
            "parquet",
            "application/vnd.apache.parquet",
            "PARQUET",
            "GeoParquet",
        ),
        Format("kml", "kml", "application/vnd.google-earth.kml+xml", "KML", "KML"),
    )
}
#: formats a table without geometry is offered in (the others still work)
TABLE_FORMATS = ("csv", "parquet", "gpkg", "geojson")


def formats_for(ds: Dataset) -> list[Format]:
    keys = FORMATS if ds.kind == "features" else TABLE_FORMATS
    return [FORMATS[k] for k in keys]


def parse_format(value: str) -> Format:
    key = value.strip().lower()
    aliases = {
        "json": "geojson",
        "zip": "shp",
        "shapefile": "shp",
        "geoparquet": "parquet",
    }
    key = aliases.get(key, key)
    if key not in FORMATS:
        raise InvalidInput(
            f"format: unknown format {value!r}; expected one of {', '.join(FORMATS)}"
        )
    return FORMATS[key]


def filename(ds: Dataset, v: Version, fmt: Format) -> str:
    return f"{ds.slug}_v{v.version}.{fmt.extension}"


def columns(v: Version, hidden: Iterable[str]) -> list[str]:
    """The version's fields the caller may see, in order."""
    out = set(hidden)
    return [f.name for f in v.fields if f.name not in out]


# ---------------------------------------------------------------- streamed
def geojson(
    store: SqlStore, ds: Dataset, v: Version, hidden: Iterable[str]
) -> Iterator[bytes]:
    """A GeoJSON FeatureCollection (RFC 7946), one chunk per batch."""
    names = columns(v, hidden)
    yield b'{"type":"FeatureCollection","features":['
    first = True
    for batch in store.read_batches(ds.slug, version=v.version, batch_size=BATCH):
        geoms = _geojson_geometries(batch)
        props = batch.select(names).to_pylist() if names else [{}] * batch.num_rows
        fids = batch.column("fid").to_pylist()
        parts = []
        for fid, geom, row in zip(fids, geoms, props, strict=True):
            parts.append(
                b'{"type":"Feature","id":%d,"geometry":%s,"properties":%s}'
                % (fid, geom, orjson.dumps(row, default=_json_default))
            )
        if parts:
            yield (b"" if first else b",") + b",".join(parts)
            first = False
    yield b"]}"


def _geojson_geometries(batch: pa.RecordBatch) -> list[bytes]:
    if "geometry" not in batch.schema.names:
        return [b"null"] * batch.num_rows
    geoms = shapely.from_wkb(batch.column("geometry").to_numpy(zero_copy_only=False))
    return [b"null" if g is None else g.encode() for g in shapely.to_geojson(geoms)]


def csv_rows(
    store: SqlStore, ds: Dataset, v: Version, hidden: Iterable[str]
) -> Iterator[bytes]:
    """CSV (UTF-8, comma, header): the geometry as WKT in the first column."""
    names = columns(v, hidden)
    spatial = ds.kind == "features"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow((["WKT"] if spatial else []) + names)
    for batch in store.read_batches(ds.slug, version=v.version, batch_size=BATCH):
        cols = [[_csv_value(x) for x in batch.column(n).to_pylist()] for n in names]
        if spatial:
            geoms = shapely.from_wkb(
                batch.column("geometry").to_numpy(zero_copy_only=False)
            )
            wkt = shapely.to_wkt(geoms, rounding_precision=-1)
            cols.insert(0, ["" if w is None else w for w in wkt])
        writer.writerows(zip(*cols, strict=True))
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    raise TypeError(type(value).__name__)


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


# ------------------------------------------------------------ file formats
def write_file(
    store: SqlStore, ds: Dataset, v: Version, fmt: Format, hidden: Iterable[str]
) -> tuple[Path, Path]:
    """Write the download into a new temporary folder: (file, folder).

    The caller streams the file and removes the folder (also on failure).
    """
    folder = Path(tempfile.mkdtemp(prefix="quartier_download_"))
    try:
        path = export_dataset(
            store,
            ds.slug,
            folder / filename(ds, v, fmt),
            fmt=fmt.key,
            version=v.version,
            exclude=frozenset(hidden),
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return path, folder

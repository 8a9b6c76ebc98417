"""Open any file a city, an NGO or a university has, as streams of batches.

GeoPackage, GeoJSON (and sequences), Shapefile (folder, ``.zip``, nested),
KML/KMZ, CSV (WKT or lat/lon), GeoParquet, XLSX tables, OSM PBF/XML, and what
else the bundled GDAL reads (GPX, FlatGeobuf, FileGDB, GML, TopoJSON…).
"""

from __future__ import annotations

import contextlib
import csv
import json
import re
import shutil
import tempfile
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio

from quartier.errors import InvalidInput
from quartier.io.source import SourceLayer

BATCH = 65536
MAX_UNZIPPED = 4 * 1024**3
_SPATIAL_EXT = {
    ".gpkg",
    ".geojson",
    ".json",
    ".shp",
    ".kml",
    ".kmz",
    ".csv",
    ".parquet",
    ".geoparquet",
    ".fgb",
    ".gpx",
    ".gml",
    ".topojson",
    ".geojsonl",
    ".geojsons",
    ".tsv",
    ".xlsx",
    ".pbf",
    ".osm",
    ".dbf",
}
_SAFE_PATH = re.compile(r"[\w./\- ]+")
_X_NAMES = "lon,lng,long,longitude,x,xcoord,easting"
_Y_NAMES = "lat,latitude,y,ycoord,northing"
_WKT_NAMES = "wkt,geometry,geom,the_geom,wkt_geom,shape"

# No SHAPE_RESTORE_SHX: GDAL would then rewrite the .shx of every shapefile
# it opens, next to the user's file (and refuse a readable one whose records
# overrun their declared length). A missing .shx is rebuilt in a temporary
# folder instead (see _gdal_path).
pyogrio.set_gdal_config_options({"OGR_GEOJSON_MAX_OBJ_SIZE": "0"})


class Opened(contextlib.ExitStack):
    """Layers of an opened source; closing removes temporary files."""

    layers: list[SourceLayer]


def open_source(path: str | Path, *, layer: str | None = None) -> Opened:
    """Open ``path`` and list its layers (only ``layer`` when given).

    Use as a context manager: unzipped files live until it closes.
    """
    p = Path(path)
    if not p.exists():
        raise InvalidInput(f"{p}: no such file or folder")
    opened = Opened()
    try:
        layers = _open(p, opened)
        if layer is not None:
            names = [lyr.name for lyr in layers]
            layers = [lyr for lyr in layers if lyr.name == layer]
            if not layers:
                raise InvalidInput(
                    f"{p.name}: no layer {layer!r} (has: {', '.join(names)})"
                )
        if not layers:
            raise InvalidInput(f"{p.name}: no layer to import")
        opened.layers = layers
        return opened
    except BaseException:
        opened.close()
        raise


def _open(p: Path, stack: contextlib.ExitStack) -> list[SourceLayer]:
    name = p.name.lower()
    if p.is_dir():
        return _open_folder(p, stack)
    if p.stat().st_size == 0:
        raise InvalidInput(f"{p.name}: the file is empty")
    if name.endswith(".zip") and not name.endswith(".gdb.zip"):
        return _open_zip(p, stack)
    if name.endswith((".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".osm.gz")):
        from quartier.io.osm import read_osm

        return read_osm(p, batch_size=BATCH)
    if name.endswith((".parquet", ".geoparquet")):
        return _open_parquet(p)
    if name.endswith((".xlsx", ".xls")):
        return [_open_table(p)]
    if name.endswith((".csv", ".tsv")):
        _check_csv(p)
        layers = _open_gdal(p, stack, open_options=_csv_options())
        if len(layers) == 1 and layers[0].geometry_type is None:
            # no WKT or lat/lon: a statistics table, read with the reader that
            # knows comma decimals, thousands separators and cp1252
            return [_open_table(p)]
        return layers
    if name.endswith((".geojsonl", ".geojsons", ".txt", ".ndjson")):
        return _open_gdal(p, stack, prefix="GeoJSONSeq:")
    return _open_gdal(p, stack)


def _open_folder(folder: Path, stack: contextlib.ExitStack) -> list[SourceLayer]:
    files = sorted(
        f
        for f in folder.rglob("*")
        if f.is_file()
        and f.suffix.lower() in (".shp", ".gpkg", ".geojson", ".kml", ".csv")
    )
    shp_stems = {
        f.with_suffix("").as_posix().lower()
        for f in files
        if f.suffix.lower() == ".shp"
    }
    # a .dbf with no .shp is an attribute table (e.g. N_MULTIALEA in a PPR)
    for dbf in sorted(folder.rglob("*")):
        if (
            dbf.suffix.lower() == ".dbf"
            and dbf.with_suffix("").as_posix().lower() not in shp_stems
        ):
            files.append(dbf)
    if not files:
        raise InvalidInput(f"{folder.name}: no spatial file found inside")
    layers: list[SourceLayer] = []
    for f in files:
        layers.extend(_open(f, stack))
    return layers


def _open_zip(p: Path, stack: contextlib.ExitStack) -> list[SourceLayer]:
    try:
        with zipfile.ZipFile(p) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            if not infos:
                raise InvalidInput(f"{p.name}: the zip archive is empty")
            if sum(i.file_size for i in infos) > MAX_UNZIPPED:
                raise InvalidInput(f"{p.name}: the archive unpacks to more than 4 GB")
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="qz_")))
            for info in infos:
                target = (tmp / info.filename).resolve()
                if not target.is_relative_to(tmp.resolve()):
                    raise InvalidInput(
                        f"{p.name}: unsafe path {info.filename!r} in zip"
                    )
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst)
    except zipfile.BadZipFile:
        raise InvalidInput(f"{p.name}: not a valid zip archive") from None
    inner = [
        f
        for f in tmp.rglob("*")
        if f.suffix.lower() in _SPATIAL_EXT or f.name.lower().endswith(".gdb")
    ]
    if not inner:
        raise InvalidInput(f"{p.name}: no spatial file inside the zip archive")
    return _open_folder(tmp, stack)


def _gdal_path(p: Path, stack: contextlib.ExitStack) -> tuple[str, str | None]:
    """A path GDAL can open, and the stem GDAL will see when it differs.

    GDAL misreads some characters such as ``!``; those files are linked into a
    temporary folder under a safe name. A shapefile without its ``.shx`` index
    is linked there too, with an index rebuilt from the ``.shp``: the user's
    folder is never written to.
    """
    missing_shx = p.suffix.lower() == ".shp" and not _sidecar(p, ".shx")
    if _SAFE_PATH.fullmatch(str(p)) and not missing_shx:
        return str(p), None
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="qn_")))
    suffix = ".gdb.zip" if p.name.lower().endswith(".gdb.zip") else p.suffix
    stem = p.name[: len(p.name) - len(suffix)]
    stem = stem if _SAFE_PATH.fullmatch(stem) else "source"
    safe = tmp / (stem + suffix)
    safe.symlink_to(p.resolve())
    for side in p.parent.iterdir():
        if side != p and side.stem == p.stem and side.suffix:
            (tmp / (stem + side.suffix)).symlink_to(side.resolve())
    if missing_shx:
        _write_shx(p, tmp / (stem + ".shx"))
    return str(safe), stem


def _sidecar(p: Path, suffix: str) -> Path | None:
    for cand in (p.with_suffix(suffix.lower()), p.with_suffix(suffix.upper())):
        if cand.exists():
            return cand
    return None


def _write_shx(shp: Path, shx: Path) -> None:
    """Rebuild a shapefile index from the records of the ``.shp``."""
    size = shp.stat().st_size
    entries: list[bytes] = []
    with open(shp, "rb") as f:
        header = f.read(100)
        if len(header) < 100:
            raise InvalidInput(f"{shp.name}: not a shapefile (header too short)")
        offset = 100
        while offset + 8 <= size:
            f.seek(offset)
            rec = f.read(8)
            words = int.from_bytes(rec[4:8], "big")
            if offset + 8 + 2 * words > size:
                break  # a truncated last record: GDAL reports what it can
            entries.append((offset // 2).to_bytes(4, "big") + rec[4:8])
            offset += 8 + 2 * words
    length = (100 + 8 * len(entries)) // 2
    shx.write_bytes(
        header[:24] + length.to_bytes(4, "big") + header[28:] + b"".join(entries)
    )


def _open_gdal(
    p: Path,
    stack: contextlib.ExitStack,
    *,
    prefix: str = "",
    open_options: dict | None = None,
) -> list[SourceLayer]:
    gdal_path, renamed = _gdal_path(p, stack)
    path = prefix + gdal_path
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            listed = pyogrio.list_layers(path)
    except Exception as e:
        raise InvalidInput(
            f"{p.name}: cannot read this file ({_first_line(e)})"
        ) from None
    layers = []
    for name, _gtype in listed:
        layer = _gdal_layer(p, path, str(name), open_options or {})
        if renamed is not None and layer.name == renamed:
            layer.name = p.stem  # the user's name, not the temporary one
        layers.append(layer)
    return layers


def _gdal_layer(p: Path, path: str, name: str, options: dict) -> SourceLayer:
    kwargs: dict = {"layer": name, **options}
    if (
        p.suffix.lower() in (".shp", ".dbf")
        and not p.with_suffix(".cpg").exists()
        and not p.with_suffix(".CPG").exists()
    ):
        kwargs["encoding"] = _dbf_encoding(p.with_suffix(".dbf"))
    if p.suffix.lower() in (".csv", ".tsv"):
        kwargs["encoding"] = _text_encoding(p)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            info = pyogrio.read_info(path, **kwargs)
    except Exception as e:
        raise InvalidInput(
            f"{p.name}: cannot read layer {name!r} ({_first_line(e)})"
        ) from None
    crs = info.get("crs")
    spatial = info.get("geometry_type") is not None

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with pyogrio.open_arrow(
                    path, batch_size=BATCH, use_pyarrow=True, **kwargs
                ) as (meta, reader):
                    gcol = meta.get("geometry_name") or "wkb_geometry"
                    for rb in reader:
                        yield _rename_geometry(rb, gcol, spatial)
        except InvalidInput:
            raise
        except Exception as e:
            raise InvalidInput(f"{p.name}, layer {name!r}: {_first_line(e)}") from None

    return SourceLayer(
        name=name, batches=batches(), crs=crs, geometry_type=info.get("geometry_type")
    )


def _rename_geometry(rb: pa.RecordBatch, gcol: str, spatial: bool) -> pa.RecordBatch:
    names = rb.schema.names
    if not spatial or gcol not in names:
        return rb
    arrays = [rb.column(i) for i in range(rb.num_columns) if names[i] != gcol]
    out = [n for n in names if n != gcol]
    geom = rb.column(gcol)
    if not pa.types.is_binary(geom.type):
        geom = geom.cast(pa.binary())
    return pa.RecordBatch.from_arrays([*arrays, geom], names=[*out, "geometry"])


def _dbf_encoding(dbf: Path) -> str:
    """UTF-8 when the records decode as UTF-8, else Windows-1252 (latin 1)."""
    try:
        data = dbf.read_bytes()
    except OSError:
        return "UTF-8"
    header_len = int.from_bytes(data[8:10], "little") if len(data) > 10 else 0
    try:
        data[header_len:].decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        return "CP1252"


def _text_encoding(p: Path) -> str:
    """UTF-8 when the text decodes as UTF-8, else Windows-1252 (latin 1)."""
    with open(p, "rb") as f:
        head = f.read(4 << 20)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start < len(head) - 4:  # not just a character cut at the end
            return "CP1252"
    return "UTF-8"


def _csv_options() -> dict:
    return {
        "GEOM_POSSIBLE_NAMES": _WKT_NAMES,
        "X_POSSIBLE_NAMES": _X_NAMES,
        "Y_POSSIBLE_NAMES": _Y_NAMES,
        "KEEP_GEOM_COLUMNS": "NO",
        "AUTODETECT_TYPE": "YES",
        "EMPTY_STRING_AS_NULL": "YES",
    }


def _check_csv(p: Path) -> None:
    """GDAL returns 0 rows for an unclosed quote: say where it is instead."""
    with open(p, newline="", encoding="utf-8", errors="replace") as f:
        sample = f.read(65536)
        f.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel  # type: ignore[assignment]
        reader = csv.reader(f, dialect, strict=True)
        try:
            for _ in reader:
                pass
        except csv.Error as e:
            raise InvalidInput(f"{p.name}, line {reader.line_num}: {e}") from None


def _open_parquet(p: Path) -> list[SourceLayer]:
    try:
        pf = pq.ParquetFile(p)
    except Exception as e:
        raise InvalidInput(
            f"{p.name}: not a readable Parquet file ({_first_line(e)})"
        ) from None
    meta = json.loads((pf.schema_arrow.metadata or {}).get(b"geo", b"{}"))
    gcol = meta.get("primary_column")
    crs = "EPSG:4326"
    if gcol:
        colmeta = meta.get("columns", {}).get(gcol, {})
        if colmeta.get("encoding", "WKB").upper() != "WKB":
            raise InvalidInput(
                f"{p.name}: geometry encoding {colmeta['encoding']!r} "
                "is not supported (use WKB)"
            )
        if colmeta.get("crs") is not None:
            crs = json.dumps(colmeta["crs"])

    def batches() -> Iterator[pa.RecordBatch]:
        for rb in pf.iter_batches(batch_size=BATCH):
            if gcol:
                rb = _rename_geometry(rb, gcol, True)
            yield rb

    return [SourceLayer(name=p.stem, batches=batches(), crs=crs if gcol else None)]


def _open_table(p: Path) -> SourceLayer:
    from quartier.io.tables import read_table

    df = read_table(p)
    table = pa.Table.from_pandas(df, preserve_index=False)
    return SourceLayer(name=p.stem, batches=iter(table.to_batches(BATCH)), crs=None)


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__

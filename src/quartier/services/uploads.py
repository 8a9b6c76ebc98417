"""Imports by upload: checked before they touch the store, run as background jobs.

The web layer limits the request size while it streams (``max_upload_mb``);
here the file is copied under a safe name into a private temporary folder
(hashing it on the way), its name and first bytes are checked against the
formats the importer reads, and the caller's right to create or change the
target dataset is decided — all before a job is queued. The import itself is
:func:`quartier.services.importer.import_path`, atomic: a failed job changes
nothing.

Retries are idempotent: a file whose checksum equals that of the target
dataset's *current* version adds no version (the job reports ``unchanged``),
and the same file for the same dataset while its first job is still queued or
running returns that job. The importer itself records the checksum on the
version but does not compare it (re-importing identical content through the
CLI writes a new version with no changes), so the check lives here.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
import zipfile
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, BinaryIO

from quartier.access import Principal, can_create, can_read, can_write
from quartier.domain import Dataset, make_slug
from quartier.domain.catalogue import validate_slug
from quartier.errors import Conflict, InvalidInput, NotFound, PermissionDenied, TooLarge
from quartier.services.importer import ImportOptions, import_path
from quartier.services.jobs import Job, JobRunner
from quartier.storage.base import SqlStore

CHUNK = 1 << 20
#: suffixes the importer reads from one uploaded file (a shapefile comes zipped)
SUFFIXES = (
    ".gpkg .geojson .json .zip .kml .kmz .csv .tsv .parquet .geoparquet .fgb .gpx "
    ".gml .topojson .geojsonl .geojsons .ndjson .xlsx .osm.pbf .pbf .osm"
).split()
_ZIPPED = (".zip", ".kmz", ".xlsx")
_JSON = (".geojson", ".json", ".topojson")
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(filename: str | None) -> str:
    """The uploaded file's base name, reduced to safe characters.

    Raises :class:`InvalidInput` when its format is not one the importer reads.
    """
    base = Path((filename or "").replace("\\", "/")).name
    name = _SAFE.sub("_", base).strip("._")[-120:]
    lower = name.lower()
    if not name:
        raise InvalidInput("file: the upload has no file name")
    if lower.endswith(".shp"):
        raise InvalidInput(
            f"file: {name}: send a shapefile as a .zip holding its .shp, .shx, "
            ".dbf and .prj"
        )
    if not lower.endswith(tuple(SUFFIXES)):
        raise InvalidInput(
            f"file: {name}: unsupported format; accepted: {', '.join(SUFFIXES)}"
        )
    return name


def save(
    source: BinaryIO, folder: Path, name: str, *, max_bytes: int
) -> tuple[Path, str]:
    """Copy ``source`` to ``folder/name``; returns the path and its checksum.

    The checksum has the importer's form (``sha256:…``), so it compares with
    the one stored on versions.
    """
    target = folder / name
    digest, size = hashlib.sha256(), 0
    with open(target, "wb") as out:
        while chunk := source.read(CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise TooLarge(f"file: larger than {max_bytes // 2**20} MB")
            digest.update(chunk)
            out.write(chunk)
    if size == 0:
        raise InvalidInput(f"file: {name} is empty")
    check_content(target)
    return target, "sha256:" + digest.hexdigest()


def check_content(path: Path) -> None:
    """Refuse a file whose first bytes contradict its name."""
    lower = path.name.lower()
    with open(path, "rb") as fh:
        head = fh.read(16)
    problem = ""
    if lower.endswith(_ZIPPED) and not zipfile.is_zipfile(path):
        problem = "is not a zip archive"
    elif lower.endswith(".gpkg") and not head.startswith(b"SQLite format 3\x00"):
        problem = "is not a GeoPackage (SQLite) file"
    elif lower.endswith((".parquet", ".geoparquet")) and not head.startswith(b"PAR1"):
        problem = "is not a Parquet file"
    elif lower.endswith(_JSON) and head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] not in (
        b"{",
        b"[",
    ):
        problem = "is not JSON"
    if problem:
        raise InvalidInput(f"file: {path.name} {problem}")


def target_slug(options: ImportOptions, filename: str) -> str:
    """The one dataset an upload goes to: the one named, or one named after the file."""
    if options.dataset:
        return validate_slug(options.dataset)
    return make_slug(filename.split(".")[0])


def authorise(
    store: SqlStore, p: Principal, slug: str, producer: str | None
) -> Dataset | None:
    """The existing target dataset (``None``: a new one) if ``p`` may import."""
    try:
        ds = store.get_dataset(slug)
    except NotFound:
        if producer is not None:
            try:
                store.get_organisation(producer)
            except NotFound:
                raise InvalidInput(f"producer: no organisation {producer!r}") from None
        if not can_create(p, producer):
            raise PermissionDenied(
                f"{p.label} may not create datasets"
                + (f" produced by {producer!r}" if producer else "")
                + ": it takes an admin or steward role in the producer organisation"
                " (field 'producer')"
            ) from None
        return None
    if not can_read(p, ds):
        # the name is taken by something the caller may not see: say no more
        raise Conflict(f"dataset identifier {slug!r} is not available; choose another")
    if not can_write(p, ds):
        raise PermissionDenied(
            f"{p.label} may not add versions to {slug!r}: it takes an admin or "
            "steward role in its producer or steward organisation"
        )
    return ds


def start_import(
    store: SqlStore,
    runner: JobRunner,
    p: Principal,
    *,
    folder: Path,
    path: Path,
    checksum: str,
    options: ImportOptions,
) -> Job:
    """Queue the import of ``path`` (in ``folder``, removed when done)."""
    slug = options.dataset or ""
    key = f"import:{slug}:{checksum}"

    def cleanup() -> None:
        shutil.rmtree(folder, ignore_errors=True)

    same = runner.find_active(key)
    unchanged = _unchanged(store, slug, checksum)
    if same is not None or unchanged is not None:
        cleanup()
        if same is not None:
            return same
        return runner.finished(
            kind="import", owner=p.label, target=slug, result=unchanged
        )

    def work(job: Job) -> dict[str, Any]:
        again = _unchanged(store, slug, checksum)  # a twin may have finished
        if again is not None:
            return again
        named = replace(options, source_name=path.name)
        reports = import_path(
            store, path, named, progress=lambda n: job.advance("rows", n)
        )
        out = []
        for r in reports:
            item = asdict(r) | {"geometry_type": r.geometry_type()}
            item["source"] = path.name  # not the temporary folder's path
            out.append(item)
        return {
            "dataset": slug,
            "version": out[-1]["version"],
            "unchanged": False,
            "reports": out,
        }

    return runner.submit(
        work, kind="import", owner=p.label, target=slug, key=key, cleanup=cleanup
    )


def _unchanged(store: SqlStore, slug: str, checksum: str) -> dict[str, Any] | None:
    try:
        ds = store.get_dataset(slug)
    except NotFound:
        return None
    if ds.current_version and store.get_version(slug, ds.current_version).checksum == (
        checksum
    ):
        return {
            "dataset": slug,
            "version": ds.current_version,
            "unchanged": True,
            "reports": [],
        }
    return None


def new_folder() -> Path:
    """A private temporary folder for one upload."""
    return Path(tempfile.mkdtemp(prefix="quartier_upload_"))

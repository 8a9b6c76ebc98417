"""Import a file into the catalogue: each layer becomes a dataset version."""

from __future__ import annotations

import hashlib
import itertools
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from quartier.domain import AccessLevel, Dataset, Field, FieldType, make_slug
from quartier.domain.catalogue import validate_slug
from quartier.errors import InvalidInput, NotFound
from quartier.io.normalise import ImportReport, Normaliser
from quartier.io.readers import open_source
from quartier.io.source import SourceLayer
from quartier.services.statistics import join_statistics
from quartier.storage.base import RESERVED_PREFIXES, SqlStore

Progress = Callable[[int], None]


@dataclass
class ImportOptions:
    """What the user said about the import (all optional)."""

    dataset: str | None = None
    layer: str | None = None
    title: str | None = None
    theme: str | None = None
    access: str | None = None
    licence: str | None = None
    attribution: str | None = None
    producer: str | None = None
    steward: str | None = None
    key_field: str | None = None
    #: statistics tables: join to admin units by "code" or "name" (auto if None)
    join_by: str | None = None
    join_column: str | None = None
    message: str = ""
    author: str = ""
    #: what the audit log names as the source (an upload's original file name
    #: rather than its temporary path on the server); default: the path
    source_name: str | None = None


def file_checksum(path: Path) -> str:
    """sha256 of a file, or of every file of a folder in name order."""
    h = hashlib.sha256()
    files = (
        sorted(f for f in path.rglob("*") if f.is_file()) if path.is_dir() else [path]
    )
    for f in files:
        with open(f, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
    return "sha256:" + h.hexdigest()


def import_path(
    store: SqlStore,
    path: str | Path,
    options: ImportOptions | None = None,
    *,
    progress: Progress | None = None,
) -> list[ImportReport]:
    """Import every layer of ``path`` (or ``options.layer``), one version each.

    All or nothing: a file with several layers is read and checked in full
    (normalised into temporary Arrow files) before the first layer is
    written, so a refused layer leaves the store unchanged. Errors are
    :class:`InvalidInput` with a one-line message naming the file.
    """
    opts = options or ImportOptions()
    p = Path(path)
    try:
        checksum = file_checksum(p) if p.exists() else ""
        with open_source(p, layer=opts.layer) as opened:
            layers = opened.layers
            if opts.dataset and len(layers) > 1:
                names = ", ".join(lyr.name for lyr in layers)
                raise InvalidInput(
                    f"{p.name} has {len(layers)} layers ({names}); choose one with "
                    "--layer to import it into --dataset"
                )
            slugs = _slugs(p, layers, opts)
            prepared = [
                _prepare(p, lyr, slug) for lyr, slug in zip(layers, slugs, strict=True)
            ]
            if len(prepared) > 1:
                folder = Path(
                    opened.enter_context(tempfile.TemporaryDirectory(prefix="qi_"))
                )
                for i, prep in enumerate(prepared):
                    _stage(prep, folder / f"layer{i}.arrow")
                for prep in prepared:
                    _check_target(store, p, prep)
            return [
                _write(store, p, prep, opts, checksum, progress) for prep in prepared
            ]
    except InvalidInput as e:
        raise _naming(p, e) from None


def _naming(p: Path, e: InvalidInput) -> InvalidInput:
    """The error on one line, naming the file."""
    text = "; ".join(line.strip() for line in str(e).splitlines() if line.strip())
    if p.name not in text:
        text = f"{p.name}: {text}"
    return InvalidInput(text)


def _slugs(p: Path, layers: list[SourceLayer], opts: ImportOptions) -> list[str]:
    if opts.dataset:
        return [opts.dataset]
    stem = p.name.split(".")[0] if not p.is_dir() else p.name
    if len(layers) == 1:
        return [make_slug(layers[0].name if p.is_dir() else stem)]
    return [make_slug(f"{lyr.name}") for lyr in layers]


@dataclass
class _Prepared:
    """One layer on its way to the store: normalised lazily, or staged."""

    layer: SourceLayer
    slug: str
    report: ImportReport
    norm: Normaliser
    kind: str
    batches: Iterator[pa.RecordBatch]


def _prepare(path: Path, layer: SourceLayer, slug: str) -> _Prepared:
    report = ImportReport(source=str(path), layer=layer.name, dataset=slug)
    norm = Normaliser(layer, report)
    batches = norm.batches()
    first = next(batches, None)
    kind = (
        "features"
        if first is None or "geometry" in first.schema.names
        else ("attributes")
    )
    if first is None and layer.geometry_type is None:
        kind = "attributes"
    chained: Iterator[pa.RecordBatch] = (
        itertools.chain([first], batches) if first is not None else iter(())
    )
    return _Prepared(layer, slug, report, norm, kind, chained)


def _stage(prep: _Prepared, target: Path) -> None:
    """Read and normalise the whole layer now, into an Arrow file on disk."""
    writer = None
    try:
        for batch in prep.batches:
            if writer is None:
                writer = pa.ipc.new_file(str(target), batch.schema)
            elif batch.schema != writer.schema:
                try:
                    batch = batch.cast(writer.schema)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
                    raise InvalidInput(
                        f"layer {prep.layer.name!r}: field types change between rows"
                    ) from None
            writer.write_batch(batch)
    finally:
        if writer is not None:
            writer.close()
    prep.batches = _read_staged(target) if writer is not None else iter(())


def _read_staged(target: Path) -> Iterator[pa.RecordBatch]:
    with pa.memory_map(str(target)) as source:
        reader = pa.ipc.open_file(source)
        for i in range(reader.num_record_batches):
            yield reader.get_batch(i)


def _check_target(store: SqlStore, path: Path, prep: _Prepared) -> None:
    """Refuse now what ``write_version`` would refuse after earlier layers."""
    slug = prep.slug
    try:
        ds = store.get_dataset(slug)
    except NotFound:
        validate_slug(slug)
        if slug.startswith(RESERVED_PREFIXES):
            raise InvalidInput(
                f"layer {prep.layer.name!r}: dataset identifier "
                f"{slug!r} uses a reserved prefix"
            ) from None
        SqlStore._merge_columns([], prep.norm.fields)
        return
    if ds.kind != prep.kind:
        raise InvalidInput(
            f"{path.name}: dataset {slug!r} holds {ds.kind}, the file gives {prep.kind}"
        )
    known: dict[str, Field] = {}
    for v in store.list_versions(slug):
        for f in v.fields:
            known.setdefault(f.name, f)
    SqlStore._merge_columns(list(known.values()), prep.norm.fields)


def _same_as_current(store: SqlStore, ds: Dataset, checksum: str) -> bool:
    if not checksum or ds.current_version == 0:
        return False
    return store.get_version(ds.slug, ds.current_version).checksum == checksum


def _write(
    store: SqlStore,
    path: Path,
    prep: _Prepared,
    opts: ImportOptions,
    checksum: str,
    progress: Progress | None,
) -> ImportReport:
    report, layer, slug, kind = prep.report, prep.layer, prep.slug, prep.kind
    new = None
    try:
        ds = store.get_dataset(slug)
        if ds.kind != kind:
            raise InvalidInput(
                f"{path.name}: dataset {slug!r} holds {ds.kind}, the file gives {kind}"
            )
        if _same_as_current(store, ds, checksum):
            # a retried import (same bytes): idempotent, no empty version
            report.version, report.unchanged = ds.current_version, True
            report.notes.append(
                f"identical to version {ds.current_version}: nothing to import"
            )
            return report
    except NotFound:
        new = _new_dataset(slug, layer, path, opts, kind)
    batches, fields = prep.batches, prep.norm.fields
    if kind == "attributes":
        batches, fields = _join_units(store, prep, opts)
    version = store.write_version(
        slug,
        batches,
        fields=fields,
        message=opts.message or f"import {path.name}",
        source=f"{path.name}" + (f" ({layer.name})" if layer.name != path.stem else ""),
        checksum=checksum,
        author=opts.author,
        progress=progress,
        geometry_type=report.geometry_type,
        new=new,
    )
    report.version = version.version
    report.added, report.removed, report.changed = (
        version.added,
        version.removed,
        version.changed,
    )
    store.audit(
        actor=opts.author or "cli",
        action="import",
        target=f"{slug}@{version.version}",
        detail={
            "source": opts.source_name or str(path),
            "read": report.read,
            "stored": report.stored,
            "repaired": report.repaired,
        },
    )
    return report


def _join_units(
    store: SqlStore, prep: _Prepared, opts: ImportOptions
) -> tuple[Iterator[pa.RecordBatch], list[Field]]:
    """A statistics table gets ``unit_code`` when its rows match admin units."""
    fields = prep.norm.fields
    batches = list(prep.batches)
    if not batches or any(f.name == "unit_code" for f in fields):
        return iter(batches), fields
    table = pa.Table.from_batches(batches)
    joined, notes = join_statistics(
        store, table, by=opts.join_by, column=opts.join_column
    )
    prep.report.notes.extend(notes)
    if joined is table:
        return iter(batches), fields
    prep.report.fields.insert(0, {"name": "unit_code", "type": "text"})
    return iter(joined.to_batches()), [Field("unit_code", FieldType.TEXT), *fields]


def _new_dataset(
    slug: str, layer: SourceLayer, path: Path, opts: ImportOptions, kind: str
) -> Dataset:
    return Dataset(
        slug=slug,
        title=opts.title or layer.name.replace("_", " "),
        theme=opts.theme or "",
        access=AccessLevel.parse(opts.access) if opts.access else AccessLevel.PUBLIC,
        licence=opts.licence or "",
        attribution=opts.attribution or "",
        producer=opts.producer,
        steward=opts.steward,
        key_field=opts.key_field,
        lineage=f"imported from {path.name}",
        kind=kind,
    )

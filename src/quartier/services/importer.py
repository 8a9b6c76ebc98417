"""Import a file into the catalogue: each layer becomes a dataset version."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from quartier.domain import AccessLevel, Dataset, make_slug
from quartier.errors import InvalidInput, NotFound
from quartier.io.normalise import ImportReport, Normaliser
from quartier.io.readers import open_source
from quartier.io.source import SourceLayer
from quartier.storage.base import SqlStore

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
    message: str = ""
    author: str = ""


def file_checksum(path: Path) -> str:
    """sha256 of a file, or of every file of a folder in name order."""
    h = hashlib.sha256()
    files = sorted(f for f in path.rglob("*") if f.is_file()) if path.is_dir() else [path]
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

    Each layer is atomic: it lands as a whole new version or not at all. A
    file with several layers is checked layer by layer; the first failure
    stops the import and names the layer.
    """
    opts = options or ImportOptions()
    p = Path(path)
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
        return [
            _import_layer(store, p, lyr, slug, opts, checksum, progress)
            for lyr, slug in zip(layers, slugs, strict=True)
        ]


def _slugs(p: Path, layers: list[SourceLayer], opts: ImportOptions) -> list[str]:
    if opts.dataset:
        return [opts.dataset]
    stem = p.name.split(".")[0] if not p.is_dir() else p.name
    if len(layers) == 1:
        return [make_slug(layers[0].name if p.is_dir() else stem)]
    return [make_slug(f"{lyr.name}") for lyr in layers]


def _import_layer(
    store: SqlStore,
    path: Path,
    layer: SourceLayer,
    slug: str,
    opts: ImportOptions,
    checksum: str,
    progress: Progress | None,
) -> ImportReport:
    report = ImportReport(source=str(path), layer=layer.name, dataset=slug)
    norm = Normaliser(layer, report)
    batches = norm.batches()
    first = next(batches, None)
    kind = "features" if first is None or "geometry" in first.schema.names else (
        "attributes"
    )
    if first is None and layer.geometry_type is None:
        kind = "attributes"
    new = None
    try:
        ds = store.get_dataset(slug)
        if ds.kind != kind:
            raise InvalidInput(
                f"{path.name}: dataset {slug!r} holds {ds.kind}, the file gives {kind}"
            )
    except NotFound:
        new = _new_dataset(slug, layer, path, opts, kind)
    chained: Iterator[pa.RecordBatch] = (
        itertools.chain([first], batches) if first is not None else iter(())
    )
    version = store.write_version(
        slug,
        chained,
        fields=norm.fields,
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
        detail={"source": str(path), "read": report.read, "stored": report.stored,
                "repaired": report.repaired},
    )
    return report


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

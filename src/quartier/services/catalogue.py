"""Use-cases on datasets and versions: history, export, restore."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict
from pathlib import Path
from typing import Any

from quartier.domain import Dataset, Version
from quartier.io.writers import format_from_path, write_batches
from quartier.storage.base import Progress, SqlStore


def dataset_summary(ds: Dataset) -> dict[str, Any]:
    """What ``quartier datasets --json`` prints for one dataset."""
    return {
        "slug": ds.slug,
        "title": ds.title,
        "title_en": ds.title_en,
        "theme": ds.theme,
        "access": ds.access.value,
        "version": ds.current_version,
        "feature_count": ds.feature_count,
        "kind": ds.kind,
        "geometry_type": ds.geometry_type,
        "producer": ds.producer,
        "steward": ds.steward,
        "licence": ds.licence,
        "illustrative": ds.illustrative,
        "bbox": list(ds.bbox) if ds.bbox else None,
        "updated": ds.updated,
    }


def version_summary(v: Version) -> dict[str, Any]:
    """What ``quartier history SLUG --json`` prints for one version."""
    d = asdict(v)
    d["fields"] = [{"name": f.name, "type": f.type.value} for f in v.fields]
    d["bbox"] = list(v.bbox) if v.bbox else None
    return d


def export_dataset(
    store: SqlStore,
    slug: str,
    path: str | Path,
    *,
    fmt: str | None = None,
    version: int | None = None,
    progress: Progress | None = None,
    batch_size: int = 8192,
    exclude: Collection[str] = (),
) -> Path:
    """Stream one version (default: current) of a dataset into a file.

    ``exclude`` names fields to leave out (sensitive fields the reader of the
    file may not see).
    """
    ds = store.get_dataset(slug)
    v = store.get_version(slug, version or ds.current_version)
    fmt = fmt or format_from_path(path)

    def batches():  # type: ignore[no-untyped-def]
        for b in store.read_batches(slug, version=v.version, batch_size=batch_size):
            if progress:
                progress(b.num_rows)
            yield b

    return write_batches(
        batches(),
        path,
        fmt=fmt,
        layer=slug,
        fields=[f for f in v.fields if f.name not in exclude],
        spatial=ds.kind == "features",
        geometry_type=ds.geometry_type,
    )


def restore_version(
    store: SqlStore, slug: str, version: int, *, author: str = ""
) -> Version:
    """Make version ``version`` current again, as a new version (history stays)."""
    ds = store.get_dataset(slug)
    old = store.get_version(slug, version)
    new = store.write_version(
        slug,
        (b.drop_columns(["fid"]) for b in store.read_batches(slug, version=version)),
        fields=list(old.fields),
        message=f"restore of version {version}",
        source=old.source,
        checksum=old.checksum,
        author=author,
        restored_from=version,
        geometry_type=ds.geometry_type,
    )
    store.audit(
        actor=author or "cli",
        action="restore",
        target=f"{slug}@{new.version}",
        detail={"restored_from": version},
    )
    return new

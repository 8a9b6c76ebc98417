"""Stores: where a workspace lives. ``open_store(url)`` picks the backend."""

from __future__ import annotations

from typing import TYPE_CHECKING

from quartier.errors import InvalidInput

if TYPE_CHECKING:
    from quartier.storage.base import SqlStore


def open_store(url: str, *, create: bool = True) -> SqlStore:
    """Open the store at ``url``: a ``.gpkg`` path or ``postgresql://…``.

    The GeoPackage file is created when missing (unless ``create`` is false);
    a PostgreSQL database must exist, PostGIS is enabled on first use.
    """
    url = str(url)
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        from quartier.storage.postgis import PostGISStore

        return PostGISStore(url)
    if url.lower().endswith(".gpkg"):
        from quartier.storage.gpkg import GeoPackageStore

        return GeoPackageStore(url, create=create)
    raise InvalidInput(
        f"unsupported store URL {url!r}: give a path ending in .gpkg "
        "or a postgresql:// URL"
    )


__all__ = ["open_store"]

"""Vector tiles (MVT) from the store."""

from __future__ import annotations


class TilesMixin:
    """Mixed into :class:`~quartier.storage.base.SqlStore`."""

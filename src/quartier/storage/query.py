"""Feature queries for the APIs: filters, keyset pages, one feature by id."""

from __future__ import annotations


class QueryMixin:
    """Mixed into :class:`~quartier.storage.base.SqlStore`."""

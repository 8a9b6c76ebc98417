"""What each store implements: its feature tables (the format-specific part).

:class:`~quartier.storage.base.SqlStore` does the bookkeeping shared by both
stores and calls these operations inside its write transaction.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import sqlalchemy as sa

from quartier.domain import Dataset, Field

BBox = tuple[float, float, float, float]


class FeatureTables(ABC):  # noqa: B024 (hooks have defaults)
    """Operations on one dataset's feature and history tables."""

    @abstractmethod
    def _create_table(
        self, conn: sa.Connection, table: str, columns: list[Field], ds: Dataset
    ) -> None: ...

    @abstractmethod
    def _add_columns(
        self, conn: sa.Connection, table: str, old: list[Field], new: list[Field]
    ) -> None: ...

    @abstractmethod
    def _insert_batch(
        self,
        conn: sa.Connection,
        table: str,
        fields: list[Field],
        batch: pa.RecordBatch,
        hashes: np.ndarray,
        version: int,
        spatial: bool,
    ) -> BBox | None: ...

    @abstractmethod
    def _states(
        self,
        conn: sa.Connection,
        table: str,
        *,
        below: int | None = None,
        at: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]: ...

    @abstractmethod
    def _values(
        self, conn: sa.Connection, table: str, column: str, fids: np.ndarray
    ) -> list[Any]: ...

    @abstractmethod
    def _retire(
        self, conn: sa.Connection, table: str, fids: np.ndarray, version: int
    ) -> None: ...

    @abstractmethod
    def _delete(self, conn: sa.Connection, table: str, fids: np.ndarray) -> None: ...

    @abstractmethod
    def _count(self, conn: sa.Connection, table: str, at: int | None) -> int: ...

    @abstractmethod
    def _extent(self, conn: sa.Connection, table: str) -> BBox | None: ...

    def _end_inserts(  # noqa: B027 (an optional hook)
        self, conn: sa.Connection, table: str, error: BaseException | None
    ) -> None:
        """Hook: the last batch of a version was inserted (or failed)."""

    def _after_version(  # noqa: B027 (an optional hook)
        self,
        conn: sa.Connection,
        table: str,
        ds: Dataset,
        bbox: BBox | None,
        stamp: str,
    ) -> None:
        """Hook: the GeoPackage refreshes ``gpkg_contents``."""

    @abstractmethod
    def _select(
        self,
        table: str,
        fields: list[Field],
        spatial: bool,
        at: int | None,
        bbox: BBox | None,
        batch_size: int,
    ) -> Iterator[pa.RecordBatch]: ...

    @abstractmethod
    def backup(self, path: str) -> None:
        """Write a consistent snapshot of the whole workspace to ``path``."""

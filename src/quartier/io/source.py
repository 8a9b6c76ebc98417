"""What every reader yields: a layer as a stream of Arrow record batches."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pyarrow as pa


@dataclass
class SourceLayer:
    """One layer read from a file, not yet normalised.

    ``batches`` hold the attribute columns and a ``geometry`` column of WKB
    (``pa.binary()``, possibly null) in ``crs``.
    """

    name: str
    batches: Iterable[pa.RecordBatch]
    crs: str | None = "EPSG:4326"
    geometry_type: str | None = None
    notes: list[str] = field(default_factory=list)

"""Canonical Arrow type of each logical field type.

Readers convert every column to these types and stores give them back
unchanged, so a feature read back from any store hashes as it did when it
was written (the basis of version diffs and restores).
"""

from __future__ import annotations

import pyarrow as pa

from quartier.domain.catalogue import FieldType

ARROW_TYPES: dict[FieldType, pa.DataType] = {
    FieldType.BOOLEAN: pa.bool_(),
    FieldType.INTEGER: pa.int64(),
    FieldType.REAL: pa.float64(),
    FieldType.TEXT: pa.string(),
    FieldType.DATE: pa.date32(),
    FieldType.DATETIME: pa.timestamp("ms", tz="UTC"),
    FieldType.JSON: pa.string(),
    FieldType.BLOB: pa.binary(),
}


def field_type_of(t: pa.DataType) -> FieldType:
    """The logical type an Arrow column is stored as."""
    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_boolean(t):
        return FieldType.BOOLEAN
    if pa.types.is_integer(t):
        return FieldType.INTEGER
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return FieldType.REAL
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return FieldType.TEXT
    if pa.types.is_date(t):
        return FieldType.DATE
    if pa.types.is_timestamp(t):
        return FieldType.DATETIME
    if pa.types.is_time(t):
        return FieldType.TEXT
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return FieldType.BLOB
    return FieldType.JSON

"""The protobuf side of Mapbox Vector Tiles, written by hand over numpy arrays.

Varints are encoded for whole arrays at once; a layer is assembled by one
gather over a source buffer (constants, varints, tag and geometry bytes), so
framing ten thousand features costs a handful of numpy operations.

Messages (``vector_tile.proto`` 2.1): Tile = repeated ``layers`` (3); Layer =
``version`` (15), ``name`` (1), ``features`` (2), ``keys`` (3), ``values``
(4), ``extent`` (5); Feature = ``id`` (1), packed ``tags`` (2), ``type`` (3),
packed ``geometry`` (4); Value = one of string (1), double (3), uint (5),
sint (6), bool (7).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_U64 = np.uint64


def zigzag(d: np.ndarray) -> np.ndarray:
    """Signed → unsigned so small magnitudes stay short (protobuf ``sint``)."""
    d = np.asarray(d, dtype=np.int64)
    return ((d << 1) ^ (d >> 63)).astype(np.uint64)


def varints(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Base-128 varints of unsigned values: ``(bytes, size of each)``."""
    v: np.ndarray = np.asarray(values, dtype=np.uint64)
    if not len(v):
        return np.zeros(0, dtype=np.uint8), np.zeros(0, dtype=np.int64)
    top = int(v.max())
    width = max(1, (top.bit_length() + 6) // 7)
    if top < 1 << 32:  # narrower integers: cheaper passes
        v = v.astype(np.uint32)
    size = np.ones(len(v), dtype=np.int64)
    for k in range(1, width):
        size += v >= (1 << (7 * k))
    if width == 1:
        return v.astype(np.uint8), size
    ends = np.cumsum(size)
    out = np.empty(int(ends[-1]), dtype=np.uint8)
    at, rest, left = ends - size, v, size
    for b in range(width):  # byte b of every value that has one
        more = left > b + 1
        out[at + b] = (rest & 0x7F).astype(np.uint8) | (more.astype(np.uint8) << 7)
        at, rest, left = at[more], rest[more] >> 7, left[more]
    return out, size


def varint(n: int) -> bytes:
    """One varint (plain Python: faster than numpy for a single value)."""
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


@dataclass
class Packed:
    """Items of varint-packed values: item ``i`` is ``data[start[i]:+size[i]]``."""

    data: np.ndarray
    start: np.ndarray
    size: np.ndarray

    @classmethod
    def encode(cls, values: np.ndarray, counts: np.ndarray) -> Packed:
        """Pack ``values``, ``counts[i]`` of them per item, in order."""
        data, sizes = varints(values)
        cs = np.concatenate([[0], np.cumsum(sizes)])
        ends = np.cumsum(counts)
        start = cs[ends - counts]
        return cls(data, start, cs[ends] - start)

    @classmethod
    def empty(cls, n: int) -> Packed:
        zeros = np.zeros(n, dtype=np.int64)
        return cls(np.empty(0, dtype=np.uint8), zeros, zeros.copy())

    @classmethod
    def concat(cls, parts: list[Packed]) -> Packed:
        base = np.cumsum([0] + [len(p.data) for p in parts[:-1]])
        return cls(
            np.concatenate([p.data for p in parts]),
            np.concatenate([p.start + b for p, b in zip(parts, base, strict=True)]),
            np.concatenate([p.size for p in parts]),
        )

    def take(self, order: np.ndarray) -> Packed:
        return Packed(self.data, self.start[order], self.size[order])


def gather(src: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Concatenate the byte ranges ``src[starts[i]:starts[i]+sizes[i]]``."""
    starts, sizes = starts.ravel(), sizes.ravel()
    out_start = np.cumsum(sizes) - sizes
    idx = np.repeat(starts - out_start, sizes) + np.arange(int(sizes.sum()))
    return src[idx]


# ---------------------------------------------------------------- properties
def _kind(t: pa.DataType) -> str | None:
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "double"
    if pa.types.is_temporal(t):
        return "string"
    return None  # binary, nested: no MVT value type


def _value_message(kind: str, v: Any) -> bytes:
    if kind == "string":
        raw = v.encode()
        return b"\x0a" + varint(len(raw)) + raw
    if kind == "double":
        return b"\x19" + struct.pack("<d", v)
    if kind == "bool":
        return b"\x38\x01" if v else b"\x38\x00"
    if v >= 0:
        return b"\x28" + varint(v)
    return b"\x30" + varint((v << 1) ^ (v >> 63))


def _as_strings(arr: pa.Array) -> pa.Array:
    if pa.types.is_timestamp(arr.type):
        return pc.strftime(arr, format="%Y-%m-%dT%H:%M:%SZ")
    return arr.cast(pa.string())


#: dictionaries larger than this are encoded in bulk, without deduplication
#: against other columns (names, identifiers, measurements: rarely shared)
_BULK = 64


def _bulk_values(kind: str, unique: pa.Array) -> np.ndarray:
    """Framed ``values`` fields (tag 4) for every entry of a dictionary."""
    n = len(unique)
    if kind == "string":
        buffers = unique.buffers()
        offsets = np.frombuffer(buffers[1], dtype=np.int32)[
            unique.offset : unique.offset + n + 1
        ]
        lengths = np.diff(offsets).astype(np.int64)
        lv, lv_size = varints(lengths)
        data = np.frombuffer(buffers[2], dtype=np.uint8)
        src = np.concatenate([lv, data])
        starts = np.column_stack(
            [np.cumsum(lv_size) - lv_size, len(lv) + offsets[:-1].astype(np.int64)]
        )
        payload = Packed(
            gather(src, starts, np.column_stack([lv_size, lengths])),
            *_ranges(lv_size + lengths),
        )
        tags = np.full(n, 0x0A, dtype=np.uint8)
    elif kind == "double":
        raw = np.ascontiguousarray(unique.to_numpy(), dtype="<f8").view(np.uint8)
        payload = Packed(raw, np.arange(n) * 8, np.full(n, 8))
        tags = np.full(n, 0x19, dtype=np.uint8)
    else:
        v = unique.to_numpy().astype(np.int64)
        data, size = varints(np.where(v >= 0, v.astype(np.uint64), zigzag(v)))
        payload = Packed(data, *_ranges(size))
        tags = np.where(v >= 0, 0x28, 0x30).astype(np.uint8)
    inner = 1 + payload.size
    iv, iv_size = varints(inner)
    src = np.concatenate([np.array([0x22], np.uint8), iv, tags, payload.data])
    base_iv, base_tag, base_data = 1, 1 + len(iv), 1 + len(iv) + n
    starts = np.column_stack(
        [
            np.zeros(n, dtype=np.int64),
            base_iv + np.cumsum(iv_size) - iv_size,
            base_tag + np.arange(n),
            base_data + payload.start,
        ]
    )
    sizes = np.column_stack(
        [np.ones(n, np.int64), iv_size, np.ones(n, np.int64), payload.size]
    )
    return gather(src, starts, sizes)


def _ranges(sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.cumsum(sizes) - sizes, sizes


class _Values:
    """The layer's value table: small dictionaries deduplicated across columns."""

    def __init__(self) -> None:
        self.count = 0
        self.blocks: list[bytes] = []
        self.index: dict[tuple[str, Any], int] = {}

    def add(self, kind: str, unique: pa.Array) -> np.ndarray:
        """Value ids of the entries of ``unique`` (a dictionary)."""
        if len(unique) > _BULK and kind != "bool":
            first = self.count
            self.blocks.append(_bulk_values(kind, unique).tobytes())
            self.count += len(unique)
            return np.arange(first, self.count, dtype=np.int64)
        return np.array([self.id(kind, v) for v in unique.to_pylist()], np.int64)

    def id(self, kind: str, v: Any) -> int:
        """The id of one value (-1 for null), added when new."""
        if v is None:
            return -1
        key = (kind, bool(v) if kind == "bool" else v)
        found = self.index.get(key)
        if found is None:
            found = self.index[key] = self.count
            self.blocks.append(_field(0x22, _value_message(kind, key[1])))
            self.count += 1
        return found


#: up to this many features, values are looked up one by one: fewer array
#: operations than the dictionary encoding, which pays off on bigger tiles
_SMALL = 128


def properties_streams(
    properties: Mapping[str, Any], rows: np.ndarray
) -> tuple[list[str], bytes, Packed]:
    """Keys, framed value fields and per-row tags of ``rows``."""
    keys: list[str] = []
    table = _Values()
    columns = []
    for name, raw in properties.items():
        arr = raw if isinstance(raw, pa.Array | pa.ChunkedArray) else pa.array(raw)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        if pa.types.is_dictionary(arr.type):
            arr = arr.dictionary_decode()
        kind = _kind(arr.type)
        arr = arr.take(pa.array(rows, type=pa.int64()))
        if kind is None or arr.null_count == len(arr):
            continue
        if kind == "string" and not pa.types.is_string(arr.type):
            arr = _as_strings(arr)
        if kind == "double":
            arr = arr.cast(pa.float64())
        if kind == "int" and not pa.types.is_int64(arr.type):
            arr = arr.cast(pa.int64())
        keys.append(name)
        if len(rows) <= _SMALL:
            columns.append(np.array([table.id(kind, v) for v in arr.to_pylist()]))
            continue
        enc = pc.dictionary_encode(arr.cast(pa.int8()) if kind == "bool" else arr)
        ids = table.add(kind, enc.dictionary)
        codes = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False)
        columns.append(np.where(codes >= 0, ids[np.maximum(codes, 0)], -1))
    values = b"".join(table.blocks)
    if not columns:
        return keys, values, Packed.empty(len(rows))
    matrix = np.column_stack(columns)
    valid = matrix >= 0
    key_ids = np.broadcast_to(np.arange(len(columns)), matrix.shape)
    pairs = np.column_stack([key_ids[valid], matrix[valid]]).ravel()
    return keys, values, Packed.encode(pairs.astype(np.uint64), valid.sum(axis=1) * 2)


# -------------------------------------------------------------------- layer
# constants the features point into: field tags and the three geometry types
_CONST = np.array(
    [0x12, 0x08, 0x18, 1, 0x22, 0x18, 2, 0x22, 0x18, 3, 0x22], dtype=np.uint8
)
_FEATURE, _ID = 0, 1


def _field(tag: int, payload: bytes) -> bytes:
    return bytes([tag]) + varint(len(payload)) + payload


def layer_message(
    name: str,
    *,
    extent: int,
    ids: np.ndarray | None,
    geometry: Packed,
    types: np.ndarray,
    tags: Packed,
    keys: list[str],
    values: bytes,
) -> bytes:
    """A tile holding one layer of ``len(types)`` features (in that order)."""
    n = len(types)
    has_id = ids is not None
    if ids is not None:
        idv, id_sz = varints(ids)
    else:
        idv, id_sz = np.zeros(0, dtype=np.uint8), np.zeros(n, dtype=np.int64)
    tlv, tl_sz = varints(tags.size)
    glv, gl_sz = varints(geometry.size)
    has_tags = tags.size > 0
    flen = (
        (1 + id_sz) * has_id
        + has_tags * (1 + tl_sz + tags.size)
        + 3
        + gl_sz
        + geometry.size
    )
    flv, fl_sz = varints(flen)
    blocks = [_CONST, flv, idv, tlv, glv, tags.data, geometry.data]
    base = np.cumsum([0] + [len(b) for b in blocks[:-1]])
    src = np.concatenate(blocks)

    def at(b: int, sizes: np.ndarray) -> np.ndarray:
        return base[b] + np.cumsum(sizes) - sizes

    one = np.ones(n, dtype=np.int64)
    starts = np.column_stack(
        [
            np.full(n, _FEATURE),
            at(1, fl_sz),
            np.full(n, _ID),
            at(2, id_sz) if has_id else one * 0,
            np.full(n, _FEATURE),
            at(3, tl_sz),
            base[5] + tags.start,
            2 + 3 * (np.asarray(types, dtype=np.int64) - 1),
            at(4, gl_sz),
            base[6] + geometry.start,
        ]
    )
    sizes = np.column_stack(
        [
            one,
            fl_sz,
            one * has_id,
            id_sz,
            has_tags.astype(np.int64),
            tl_sz * has_tags,
            tags.size,
            one * 3,
            gl_sz,
            geometry.size,
        ]
    )
    features = gather(src, starts, sizes).tobytes()
    body = (
        b"\x78\x02"  # version 2
        + _field(0x0A, name.encode())
        + features
        + b"".join(_field(0x1A, k.encode()) for k in keys)
        + values
        + b"\x28"
        + varint(extent)
    )
    return _field(0x1A, body)

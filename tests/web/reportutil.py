"""Helpers for report tests: categories, photos with metadata, form posts."""

from __future__ import annotations

import json
import struct
import uuid
import zlib

#: dechets is handled by the city (ville), autre by admins only
CATEGORIES = json.dumps(
    [
        {
            "code": "dechets",
            "label": "Déchets",
            "label_en": "Waste",
            "organisation": "ville",
        },
        {"code": "autre", "label": "Autre", "label_en": "Other"},
    ]
)
GPS_MARK = "GPS-MAISON-4.41S"
NAME = "Nom-Privé-Awa"
CONTACT = "+243-PRIVE-0812"


def jpeg_with_exif() -> bytes:
    """A (tiny, undecodable) JPEG whose EXIF and comment hold personal data."""
    exif = b"Exif\x00\x00" + GPS_MARK.encode()
    comment = b"Maison de " + NAME.encode()
    parts = [
        b"\xff\xd8",
        b"\xff\xe0"
        + struct.pack(">H", 16)
        + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00",
        b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif,
        b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment,
        b"\xff\xdb" + struct.pack(">H", 4) + b"\x00\x01",
        b"\xff\xda" + struct.pack(">H", 4) + b"\x01\x02" + b"pixels",
        b"\xff\xd9",
    ]
    return b"".join(parts)


def png(width: int = 4, height: int = 4, text: str = "") -> bytes:
    """A real, decodable RGB PNG (optionally with a tEXt chunk)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + b"\xc0\x40\x20" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    extra = chunk(b"tEXt", b"Comment\x00" + text.encode()) if text else b""
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + extra
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def new_id() -> str:
    return str(uuid.uuid4())


def form(rid: str, **values: object) -> dict[str, str]:
    data = {
        "id": rid,
        "lon": "15.3405",
        "lat": "-4.4105",
        "category": "dechets",
        "description": "Ordures au carrefour",
        "name": NAME,
        "contact": CONTACT,
    }
    data.update({k: str(v) for k, v in values.items()})
    return data

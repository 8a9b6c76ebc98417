"""Photos sent by residents: JPEG, PNG or WebP only, metadata stripped.

A phone's photo carries EXIF (often the GPS position of the resident's home,
the device, the time) and XMP: personal data. The pixels are kept as they
are; every metadata segment or chunk is dropped by rewriting the file's
container — no image library, no re-encoding, so quality is not lost and
nothing is decoded on the server. A JPEG ends at its first end-of-image
marker: a second image or trailer appended after it (phones add previews
with their own EXIF) is dropped. The type is read from the bytes, never
from the name or the declared content type.

>>> strip(b"\\xff\\xd8\\xff\\xe1\\x00\\x04GP\\xff\\xda\\x00\\x02xx\\xff\\xd9")
('image/jpeg', b'\\xff\\xd8\\xff\\xda\\x00\\x02xx\\xff\\xd9')
"""

from __future__ import annotations

import struct

from quartier.errors import InvalidInput

_PNG = b"\x89PNG\r\n\x1a\n"
#: PNG chunks that hold text, dates or EXIF
_PNG_DROP = {b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"}
#: JPEG segments kept before the image data: JFIF (APP0), Adobe (APP14,
#: needed to read CMYK) and every non-APP, non-comment segment
_JPEG_KEEP_APP = {0xE0, 0xEE}


def strip(data: bytes, what: str = "photo") -> tuple[str, bytes]:
    """(content type, the same image without metadata); InvalidInput if the
    bytes are not a well-formed JPEG, PNG or WebP."""
    try:
        if data[:3] == b"\xff\xd8\xff":
            return "image/jpeg", _jpeg(data)
        if data[:8] == _PNG:
            return "image/png", _png(data)
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return "image/webp", _webp(data)
    except (IndexError, struct.error, ValueError):
        pass
    else:
        raise InvalidInput(f"{what}: only JPEG, PNG or WebP images are accepted")
    raise InvalidInput(f"{what}: the image file is damaged or truncated")


def _jpeg(data: bytes) -> bytes:
    """Segments up to the first end-of-image marker (EOI), without metadata.

    Everything after EOI is dropped: phones append a second image (an MPF
    preview, a thumbnail) or a trailer there, each with its own EXIF. The
    segments between the scans of a progressive JPEG are walked too, and
    their APPn/COM metadata dropped like those before the first scan."""
    out = [b"\xff\xd8"]
    i = 2
    scanned = False
    while True:
        if data[i] != 0xFF:
            raise ValueError("no marker")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xD9:  # end of image: whatever follows is dropped
            if not scanned:
                raise ValueError("no image data")
            out.append(b"\xff\xd9")
            return b"".join(out)
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if length < 2 or i + 2 + length > len(data):
            raise ValueError("bad segment length")
        is_app = 0xE0 <= marker <= 0xEF
        if not (marker == 0xFE or (is_app and marker not in _JPEG_KEEP_APP)):
            out.append(data[i : i + 2 + length])
        i += 2 + length
        if marker == 0xDA:  # start of scan: its entropy-coded data follows
            end = _scan_end(data, i)
            out.append(data[i:end])
            i, scanned = end, True


def _scan_end(data: bytes, i: int) -> int:
    """Where the entropy-coded data starting at ``i`` ends: the next marker
    that is not a stuffed 0xFF00, a restart marker or a fill byte."""
    while True:
        i = data.index(b"\xff", i)  # ValueError when the file is cut short
        following = data[i + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:
            i += 2
        elif following == 0xFF:
            i += 1
        else:
            return i


def _png(data: bytes) -> bytes:
    out = [_PNG]
    i = 8
    while i < len(data):
        (length,) = struct.unpack(">I", data[i : i + 4])
        kind = data[i + 4 : i + 8]
        end = i + 12 + length
        if end > len(data):
            raise ValueError("truncated chunk")
        if kind not in _PNG_DROP:
            out.append(data[i:end])
        i = end
        if kind == b"IEND":
            return b"".join(out)
    raise ValueError("no IEND")


def _webp(data: bytes) -> bytes:
    chunks = []
    i = 12
    end = min(len(data), 8 + struct.unpack("<I", data[4:8])[0])
    while i + 8 <= end:
        kind = data[i : i + 4]
        (size,) = struct.unpack("<I", data[i + 4 : i + 8])
        stop = i + 8 + size + (size & 1)
        if i + 8 + size > end:
            raise ValueError("truncated chunk")
        chunk = data[i : min(stop, end)]
        if kind == b"VP8X":
            flags = chunk[8] & ~0x0C  # clear the EXIF (0x08) and XMP (0x04) flags
            chunk = chunk[:8] + bytes([flags]) + chunk[9:]
        if kind not in (b"EXIF", b"XMP "):
            chunks.append(chunk)
        i = stop
    if not chunks:
        raise ValueError("no image data")
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body

"""Reports as use-cases (both stores): categories, filing, moderation rules,
who handles what; photo metadata stripping and the token bucket."""

from __future__ import annotations

import struct
import sys
import uuid
from pathlib import Path

import pytest

from quartier import access
from quartier.access import Principal
from quartier.domain import AccessLevel, Dataset
from quartier.domain.accounts import Role
from quartier.domain.reports import DEFAULT_CATEGORIES, ReportStatus
from quartier.domain.workspace import Workspace
from quartier.errors import InvalidInput, NotFound, PermissionDenied
from quartier.services import photos
from quartier.services import reports as service
from quartier.web.ratelimit import TokenBucket

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
from reportutil import GPS_MARK, jpeg_with_exif, png  # noqa: E402

CATS = service.categories(
    '[{"code": "dechets", "label": "Déchets", "organisation": "ville"},'
    ' {"code": "autre", "label": "Autre"}]'
)
MOD = Principal("moussa", roles={"ville": Role.MODERATOR})
VIEWER = Principal("lea", roles={"ville": Role.VIEWER})
ADMIN = Principal("root", is_admin=True)


def _new(**kw) -> service.NewReport:
    values = {"id": str(uuid.uuid4()), "lon": 15.34, "lat": -4.41}
    values |= {"category": "dechets", "description": "Ordures"} | kw
    return service.NewReport(**values)


def test_categories_default_inline_or_file(tmp_path):
    assert service.categories("") == DEFAULT_CATEGORIES
    assert {c.code for c in DEFAULT_CATEGORIES} >= {"inondation", "erosion", "autre"}
    assert CATS[0].organisation == "ville" and CATS[1].organisation is None
    path = tmp_path / "cats.json"
    path.write_text('[{"code": "eau", "label": "Eau"}]', encoding="utf-8")
    assert [c.code for c in service.categories(str(path))] == ["eau"]
    for bad in ("[]", "{", '[{"code": "Pas Bon"}]'):
        with pytest.raises(InvalidInput):
            service.categories(bad)


def test_file_and_moderate(store):
    store.ensure_schema()
    report, new = service.file_report(store, Principal(), _new(), [], cats=CATS)
    assert new and report.organisation == "ville" and report.reporter == ""
    with pytest.raises(PermissionDenied):
        service.change_status(store, VIEWER, report.id, ReportStatus.IN_PROGRESS)
    with pytest.raises(InvalidInput, match="note"):
        service.change_status(store, MOD, report.id, ReportStatus.REJECTED, " ")
    done = service.change_status(
        store, MOD, report.id, ReportStatus.REJECTED, "doublon"
    )
    assert done.status is ReportStatus.REJECTED
    # a closed report may be reopened, never sent back to "received"
    with pytest.raises(InvalidInput, match="status"):
        service.change_status(store, MOD, report.id, ReportStatus.RECEIVED)
    again = service.change_status(store, ADMIN, report.id, ReportStatus.IN_PROGRESS)
    assert again.status is ReportStatus.IN_PROGRESS
    hidden = service.set_hidden(store, MOD, report.id, True, "abusif")
    with pytest.raises(NotFound):
        service.readable(store, Principal(), report.id)
    assert service.readable(store, MOD, report.id) == hidden
    history = service.history(store, Principal("x"), hidden)
    assert [h["action"] for h in history] == ["created", "status", "status", "hidden"]
    assert all("actor" not in h for h in history)
    assert service.history(store, MOD, hidden)[1]["actor"] == "moussa"
    with pytest.raises(NotFound):
        service.readable(store, ADMIN, "pas-un-uuid")


def test_position_is_checked_against_the_city(store):
    store.ensure_schema()
    store.set_workspace(
        Workspace("K", 32733, boundary_wkt="POLYGON((15 -5,16 -5,16 -4,15 -4,15 -5))")
    )
    with pytest.raises(InvalidInput, match="outside"):
        service.file_report(store, Principal(), _new(lon=20.0), [], cats=CATS)
    with pytest.raises(InvalidInput, match="^lon: give both"):
        service.file_report(store, Principal(), _new(lon=None), [], cats=CATS)
    with pytest.raises(InvalidInput, match="lon, lat"):
        service.file_report(store, Principal(), _new(lon=None, lat=None), [], cats=CATS)
    with pytest.raises(InvalidInput, match="description"):
        service.file_report(store, Principal(), _new(description=""), [], cats=CATS)
    with pytest.raises(InvalidInput, match="photos"):
        service.file_report(
            store, Principal(), _new(), [("p.png", png())] * 4, cats=CATS
        )
    assert store.list_reports(hidden=None) == []


def test_access_rules_for_reports():
    assert access.can_handle_report(MOD, "ville")
    assert not access.can_handle_report(MOD, "ong")
    assert not access.can_handle_report(MOD, "")
    assert access.can_handle_report(ADMIN, "")
    assert not access.can_handle_report(VIEWER, "ville")
    assert access.handled_organisations(MOD) == ["ville"]
    assert access.handled_organisations(VIEWER) == []
    assert access.handled_organisations(ADMIN) is None
    assert access.can_see_report_private(VIEWER, "ville", "lea")
    assert not access.can_see_report_private(Principal(), "ville", "")
    assert not access.can_see_report(
        Principal(), organisation="ville", reporter="", hidden=True
    )


def test_contest_handler_is_decided_in_access():
    """The dataset's steward handles its contests, else its producer; the
    handler's staff must also be able to read the dataset."""
    stewarded = Dataset(slug="a", title="A", producer="ong", steward="ville")
    produced = Dataset(slug="b", title="B", producer="ville")
    orphan = Dataset(slug="c", title="C")
    assert access.contest_handler(stewarded) == "ville"
    assert access.contest_handler(produced) == "ville"
    assert access.contest_handler(orphan) == ""
    assert access.can_handle_contests(MOD, stewarded)
    assert access.can_handle_contests(MOD, produced)
    assert not access.can_handle_contests(MOD, orphan)
    assert access.can_handle_contests(ADMIN, orphan)
    ong = Principal("awa", roles={"ong": Role.STEWARD})
    assert not access.can_handle_contests(ong, stewarded)
    assert not access.can_handle_contests(VIEWER, stewarded)
    secret = Dataset(
        slug="d", title="D", producer="ong", steward="ville",
        access=AccessLevel.CONFIDENTIAL,
    )  # fmt: skip
    assert access.can_handle_contests(MOD, secret) == access.can_read(MOD, secret)


def test_photo_metadata_is_stripped():
    kind, clean = photos.strip(jpeg_with_exif())
    assert kind == "image/jpeg" and GPS_MARK.encode() not in clean
    assert b"JFIF" in clean and clean.endswith(b"\xff\xd9")
    kind, clean = photos.strip(png(text=GPS_MARK))
    assert kind == "image/png" and GPS_MARK.encode() not in clean
    assert clean == png()
    exif = b"EXIF" + struct.pack("<I", 8) + GPS_MARK.encode()[:8]
    vp8x = b"VP8X" + struct.pack("<I", 10) + bytes([0x08]) + bytes(9)
    image = b"VP8L" + struct.pack("<I", 5) + b"abcde" + b"\x00"
    body = b"WEBP" + vp8x + exif + image
    kind, clean = photos.strip(b"RIFF" + struct.pack("<I", len(body)) + body)
    assert kind == "image/webp" and GPS_MARK.encode()[:8] not in clean
    assert clean[20] & 0x08 == 0  # the EXIF flag is cleared
    assert struct.unpack("<I", clean[4:8])[0] == len(clean) - 8
    for bad in (b"<svg/>", b"GIF89a", png()[:20], b"\xff\xd8\xff\xe1\x00"):
        with pytest.raises(InvalidInput):
            photos.strip(bad)


def _segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body


def test_jpeg_trailing_image_and_scan_metadata_are_dropped():
    """A second image after the first end-of-image (an MPF preview, a
    thumbnail) carries its own EXIF GPS block; so may an APP1 between the
    scans of a progressive JPEG. Neither is kept."""
    exif = _segment(0xE1, b"Exif\x00\x00" + GPS_MARK.encode())
    scan = _segment(0xDA, b"\x01\x02") + b"pix\xff\x00els\xff\xd0more"
    main = jpeg_with_exif()
    preview = b"\xff\xd8" + exif + scan + b"\xff\xd9"
    kind, clean = photos.strip(main + preview)
    assert kind == "image/jpeg" and GPS_MARK.encode() not in clean
    assert clean == photos.strip(main)[1] and clean.endswith(b"\xff\xd9")
    progressive = (
        b"\xff\xd8"
        + _segment(0xDB, b"\x00\x01")
        + scan
        + exif
        + _segment(0xFE, NAME_MARK)
        + _segment(0xC4, b"\x00\x02")
        + scan
        + b"\xff\xd9"
        + b"trailer "
        + GPS_MARK.encode()
    )
    kind, clean = photos.strip(progressive)
    assert GPS_MARK.encode() not in clean and NAME_MARK not in clean
    assert clean == (
        b"\xff\xd8" + _segment(0xDB, b"\x00\x01") + scan
        + _segment(0xC4, b"\x00\x02") + scan + b"\xff\xd9"
    )  # fmt: skip
    with pytest.raises(InvalidInput, match="damaged"):
        photos.strip(b"\xff\xd8" + scan)  # cut off before its end


NAME_MARK = b"Maison-Awa"


def test_token_bucket_refills_per_key():
    bucket = TokenBucket(per_minute=60, burst=2)
    assert [bucket.take("a", at=0.0) for _ in range(3)] == [0.0, 0.0, 1.0]
    assert bucket.take("b", at=0.0) == 0.0
    assert bucket.take("a", at=0.5) == pytest.approx(0.5)
    assert bucket.take("a", at=2.0) == 0.0

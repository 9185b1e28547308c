"""Hostile and broken files are refused with a clear reason; good ones are cleaned."""

from __future__ import annotations

import io
import zlib
from pathlib import Path

import pytest

from healthbot.stores.uploads import LocalUploadStore, UploadRejected
from healthbot.stores.uploads.checks import check_upload

from .conftest import MB, PDF, jpeg, png

LIMITS = {"max_bytes": 20 * MB, "max_pixels": 40_000_000}


def bomb_png(side: int = 30_000) -> bytes:
    """A valid PNG header claiming side×side pixels, compressed to a few kilobytes."""
    import struct

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)  # greyscale
    rows = zlib.compress(b"\x00" * (side + 1) * 64, 9)  # only the first rows: enough to decode
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


HOSTILE = {
    "decompression bomb": (bomb_png(), "bomb.png", "too_many_pixels"),
    "30 MB file": (b"\xff\xd8\xff" + b"\0" * (30 * MB), "big.jpg", "too_large"),
    "PNG renamed .pdf": (png(), "scan.pdf", "type_mismatch"),
    "PDF renamed .jpg": (PDF, "photo.jpg", "type_mismatch"),
    "HTML file": (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "a.txt", None),
    "HTML without doctype": (b"  <html><body onload=x()>hi</body></html>", None, None),
    "SVG with script": (b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', None, None),
    "empty file": (b"", "empty.txt", "empty"),
    "truncated JPEG": (jpeg(400, 300)[:700], "cut.jpg", "damaged"),
    "binary junk": (bytes(range(256)) * 40, "junk.bin", "unsupported_type"),
    "invalid JSON": (b'{"resourceType": "Bundle", ', "b.json", "damaged"),
    "PDF without end": (PDF[:60], "cut.pdf", "damaged"),
    "whitespace only": (b"   \n\t ", "blank.txt", "empty"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_files_are_refused_and_nothing_is_stored(
    case: str, store: LocalUploadStore, tmp_path: Path
) -> None:
    data, name, code = HOSTILE[case]
    with pytest.raises(UploadRejected) as refused:
        store.save("tg-owner", data, name)
    if code is not None:
        assert refused.value.code == code
    else:
        assert refused.value.code == "unsupported_type"
    message = refused.value.message
    assert message.endswith((".", ")")) and len(message) > 20  # a sentence, for a patient
    folder = tmp_path / "uploads"
    assert (list(folder.iterdir()) if folder.exists() else []) == []  # nothing stored


def test_exif_is_stripped_and_orientation_applied() -> None:
    from PIL import Image

    raw = jpeg(64, 48, exif_orientation=6)  # "rotate 90° clockwise to display"
    assert b"PhoneMaker" in raw
    checked = check_upload(raw, "wound.jpg", **LIMITS)
    assert b"PhoneMaker" not in checked.data and b"Exif" not in checked.data
    with Image.open(io.BytesIO(checked.data)) as image:
        assert image.size == (48, 64)  # turned upright
        assert not image.getexif()
    assert (checked.width, checked.height) == (48, 64)


def test_good_files_keep_their_kind() -> None:
    assert check_upload(jpeg(), None, **LIMITS).kind == "image"
    assert check_upload(png(), "x.png", **LIMITS).mime == "image/png"
    assert check_upload(PDF, "letter.pdf", **LIMITS).kind == "pdf"
    assert check_upload(b'{"resourceType": "Bundle"}', "b.json", **LIMITS).kind == "json"
    text = check_upload(b"Pt denies chest pain.\n", "note.txt", **LIMITS)
    assert text.kind == "text" and text.data.startswith(b"Pt denies")


def test_webp_is_accepted_and_reencoded() -> None:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), (1, 2, 3)).save(out, format="WEBP")
    checked = check_upload(out.getvalue(), "p.webp", **LIMITS)
    assert (checked.kind, checked.mime, checked.width) == ("image", "image/webp", 40)


def test_unknown_extensions_fall_back_to_content() -> None:
    assert check_upload(png(), "IMG_0001.HEIC.download", **LIMITS).kind == "image"


def test_trailing_payload_after_an_image_is_dropped() -> None:
    checked = check_upload(png() + b"<script>evil()</script>", "x.png", **LIMITS)
    assert b"<script>" not in checked.data


def test_pixel_limit_is_checked_before_decoding() -> None:
    with pytest.raises(UploadRejected) as refused:
        check_upload(png(300, 300), "x.png", max_bytes=MB, max_pixels=10_000)
    assert "300×300" in refused.value.message


def test_heic_from_an_iphone_is_stored_as_jpeg() -> None:
    from PIL import Image
    from pillow_heif import register_heif_opener

    register_heif_opener()
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (150, 60, 50)).save(out, format="HEIF")
    checked = check_upload(out.getvalue(), "IMG_0001.HEIC", **LIMITS)
    assert (checked.kind, checked.mime, checked.width) == ("image", "image/jpeg", 64)
    assert checked.data[:3] == b"\xff\xd8\xff"

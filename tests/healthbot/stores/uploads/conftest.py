"""Real files for the upload checks: made with Pillow, never mocked."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from healthbot.stores.uploads import LocalUploadStore

MB = 1024 * 1024


def jpeg(width: int = 64, height: int = 48, exif_orientation: int | None = None) -> bytes:
    from PIL import Image

    image = Image.new("RGB", (width, height), (180, 90, 60))
    image.paste((20, 200, 20), (0, 0, width // 2, height // 2))  # a marker in the top-left
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {2: (51.0, 30.0, 0.0)}  # GPSInfo (latitude)
    if exif_orientation is not None:
        exif[0x0112] = exif_orientation
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def png(width: int = 32, height: int = 32) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 20, 30)).save(out, format="PNG")
    return out.getvalue()


PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


@pytest.fixture
def store(tmp_path: Path) -> LocalUploadStore:
    return LocalUploadStore(tmp_path / "uploads", 20 * MB, 40_000_000, retention_days=30)

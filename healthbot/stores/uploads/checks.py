"""Decide what a file is from its bytes, never from its name, and clean what we keep.

Images are decoded with Pillow under a pixel limit (decompression bombs), fully loaded (so a
truncated file is caught here, not in a model later), turned upright and re-encoded, which drops
EXIF (GPS position, camera serials) and any trailing payload.
"""

from __future__ import annotations

import io
import json
import re
import warnings
from dataclasses import dataclass
from pathlib import PurePath

from healthbot import jsonsafe
from healthbot.stores.uploads.types import Kind, UploadRejected

MB = 1024 * 1024
TIP = "You can send a photo (JPEG, PNG, WebP or HEIC) or a document (PDF, TXT or JSON)."

_IMAGE_MAGIC = {
    b"\xff\xd8\xff": ("JPEG", "image/jpeg"),
    b"\x89PNG\r\n\x1a\n": ("PNG", "image/png"),
}
_MARKUP = re.compile(rb"<\s*(!doctype|html|head|body|script|iframe|svg|xml|\?xml|object)\b", re.I)
# iPhones' default format; pillow-heif decodes it and the store keeps a JPEG.
HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_EXTENSIONS: dict[str, Kind] = {
    ".jpg": "image", ".jpeg": "image", ".png": "image", ".webp": "image", ".heic": "image",
    ".heif": "image",
    ".pdf": "pdf", ".txt": "text", ".text": "text", ".json": "json",
}  # fmt: skip
_NAMES = {"image": "an image", "pdf": "a PDF", "text": "a text file", "json": "a JSON file"}


@dataclass(frozen=True)
class Checked:
    """A file that passed: its kind, MIME type, the bytes to store and, for images, the size."""

    kind: Kind
    mime: str
    data: bytes
    width: int | None = None
    height: int | None = None


def check_upload(data: bytes, filename: str | None, max_bytes: int, max_pixels: int) -> Checked:
    """The cleaned file, or UploadRejected with a reason a patient understands."""
    if not data:
        raise UploadRejected("empty", "That file is empty. Please try sending it again.")
    if len(data) > max_bytes:
        raise UploadRejected(
            "too_large", f"That file is too large (the limit is {max_bytes // MB} MB)."
        )
    checked = _sniff(data, max_pixels)
    _check_name(filename, checked.kind)
    return checked


def _sniff(data: bytes, max_pixels: int) -> Checked:
    for magic, (fmt, mime) in _IMAGE_MAGIC.items():
        if data.startswith(magic):
            return _image(data, fmt, mime, max_pixels)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _image(data, "WEBP", "image/webp", max_pixels)
    if data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS:
        _register_heif()
        return _image(data, "HEIF", "image/jpeg", max_pixels)  # stored as JPEG: all can read it
    if data.startswith(b"%PDF-"):
        return _pdf(data)
    return _text(data)


def _check_name(filename: str | None, kind: Kind) -> None:
    """A name whose extension promises another type is refused: someone is disguising a file."""
    if not filename:
        return
    claimed = _EXTENSIONS.get(PurePath(filename).suffix.lower())
    if claimed is not None and claimed != kind:
        raise UploadRejected(
            "type_mismatch",
            f"That file is named like {_NAMES[claimed]} but it is {_NAMES[kind]} inside, "
            "so I can't accept it. " + TIP,
        )


def _image(data: bytes, fmt: str, mime: str, max_pixels: int) -> Checked:
    from PIL import Image, ImageFile, ImageOps

    ImageFile.LOAD_TRUNCATED_IMAGES = False
    damaged = UploadRejected(
        "damaged", "I couldn't open that image: it looks damaged or incomplete."
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[fmt]) as image:
                width, height = image.size
                if width * height > max_pixels or width < 1 or height < 1:
                    raise UploadRejected(
                        "too_many_pixels",
                        f"That image is {width}×{height} pixels, more than I can take. "
                        "Please send a normal photo from your phone.",
                    )
                image.load()
                upright = ImageOps.exif_transpose(image)
                return _reencode(upright, fmt, mime)
    except UploadRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadRejected(
            "too_many_pixels", "That image has more pixels than I can take safely."
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError):
        raise damaged from None


def _register_heif() -> None:
    from pillow_heif import register_heif_opener

    register_heif_opener()


def _reencode(image: object, fmt: str, mime: str) -> Checked:
    """Save again without metadata: EXIF, XMP, comments and trailing bytes are gone."""
    from PIL import Image

    assert isinstance(image, Image.Image)
    fmt = "JPEG" if fmt == "HEIF" else fmt
    if fmt == "JPEG" and image.mode not in {"RGB", "L"}:
        image = image.convert("RGB")
    out = io.BytesIO()
    options = {"quality": 92} if fmt in {"JPEG", "WEBP"} else {"optimize": False}
    image.save(out, format=fmt, **options)
    return Checked("image", mime, out.getvalue(), image.width, image.height)


def _pdf(data: bytes) -> Checked:
    if b"%%EOF" not in data[-2048:]:
        raise UploadRejected(
            "damaged", "That PDF looks incomplete or damaged. Please export it again and resend."
        )
    return Checked("pdf", "application/pdf", data)


def _text(data: bytes) -> Checked:
    head = data[:4096]
    if b"\x00" in data:
        raise UploadRejected("unsupported_type", "I can't read that kind of file. " + TIP)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UploadRejected("unsupported_type", "I can't read that kind of file. " + TIP) from None
    if _MARKUP.search(head):
        raise UploadRejected("unsupported_type", "Web pages and scripts can't be uploaded. " + TIP)
    stripped = text.lstrip()
    if stripped[:1] in {"{", "["}:
        try:
            jsonsafe.loads(stripped)
        except (json.JSONDecodeError, RecursionError, jsonsafe.JsonTooDeep):
            raise UploadRejected(
                "damaged", "That JSON file is not valid JSON. Please check it and resend."
            ) from None
        return Checked("json", "application/json", data)
    if not stripped:
        raise UploadRejected("empty", "That file has no text in it.")
    return Checked("text", "text/plain; charset=utf-8", data)

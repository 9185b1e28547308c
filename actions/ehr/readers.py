"""Turns a file or pasted text into something the analyzer reads: note text or a FHIR bundle.

The type is decided by content, never by the name: ``%PDF`` → PDF text layer (pypdf), JSON →
FHIR bundle (or a clear refusal), anything else must be UTF-8 (or BOM-marked UTF-16) text.
Every refusal is a ``RecordError`` whose message can be shown to a patient as is.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from actions.ehr.types import RecordError
from healthbot import jsonsafe

logger = logging.getLogger(__name__)

MAX_PDF_PAGES = 200


@dataclass(frozen=True)
class RecordInput:
    """Note text or a parsed FHIR bundle, with a display name (file name or "pasted text")."""

    kind: Literal["text", "fhir"]
    name: str
    text: str = ""
    bundle: dict[str, Any] | None = None


def read_pasted(text: str, max_chars: int) -> RecordInput:
    """Text typed or pasted into the chat."""
    return RecordInput("text", "pasted text", text=_checked_text(text, max_chars))


def read_path(path: Path, max_bytes: int, max_chars: int) -> RecordInput:
    """A file on disk (the clinic CLI); size is checked before reading."""
    try:
        size = path.stat().st_size
    except OSError as error:
        raise RecordError(f"Can't open the file ({error.strerror or 'unreadable'}).") from None
    if size > max_bytes:
        raise RecordError(
            f"The file is {_mb(size)}; I can read records up to {_mb(max_bytes)}. "
            "Please send the part you want explained."
        )
    try:
        data = path.read_bytes()
    except OSError as error:
        raise RecordError(f"Can't read the file ({error.strerror or 'unreadable'}).") from None
    return read_bytes(data, path.name, max_chars)


def read_bytes(data: bytes, name: str, max_chars: int) -> RecordInput:
    """Bytes of an uploaded or local file."""
    if not data.strip():
        raise RecordError("The file is empty: there's nothing in it to explain.")
    if data[:5] == b"%PDF-":
        return RecordInput("text", name, text=_checked_text(pdf_text(data), max_chars))
    text = decode_text(data)
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        return RecordInput("fhir", name, bundle=_fhir_json(stripped, len(data)))
    return RecordInput("text", name, text=_checked_text(text, max_chars))


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM) or BOM-marked UTF-16; anything else is refused clearly."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    elif b"\x00" not in data[:8192]:
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise RecordError(
                "This file isn't UTF-8 text (it looks like an older encoding, such as Windows "
                f"or Latin-1, at byte {error.start}). Please save it as UTF-8, or as a PDF, "
                "and send it again."
            ) from None
    raise RecordError(
        "This doesn't look like a text document, a PDF or a FHIR file, so I can't read it."
    )


def pdf_text(data: bytes) -> str:
    """The PDF's text layer, page by page; scans without one are refused with the reason."""
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    pypdf_logger = logging.getLogger("pypdf")
    pypdf_logger.setLevel(logging.ERROR)  # its warnings can quote document text
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not _unlock(reader):
            raise RecordError("This PDF is password-protected. Please send an unlocked copy.")
        pages = reader.pages[:MAX_PDF_PAGES]
        text = "\n\n".join((page.extract_text() or "").strip() for page in pages)
    except RecordError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError) as error:
        logger.info("pdf could not be read: %s", type(error).__name__)
        raise RecordError(
            "This PDF looks damaged, so I can't read it. Please export it again and resend."
        ) from None
    if not text.strip():
        raise RecordError(
            "This PDF has no text layer (it is probably a scan or a photo of a page), so I "
            "can't read it. Please send the text itself, a PDF exported from the record "
            "system, or a FHIR file."
        )
    return text


def _unlock(reader: Any) -> bool:
    """Many record exports are 'encrypted' with an empty user password."""
    try:
        return bool(reader.decrypt(""))
    except Exception:
        return False


def _fhir_json(text: str, size: int) -> dict[str, Any]:
    try:
        data = jsonsafe.loads(text)
    except jsonsafe.JsonTooDeep:
        raise RecordError("This JSON file is nested too deeply to read.") from None
    except json.JSONDecodeError as error:
        raise RecordError(
            f"This JSON file is not valid (line {error.lineno}, column {error.colno}: "
            f"{error.msg}). Please export it again."
        ) from None
    except RecursionError:
        raise RecordError("This JSON file is nested too deeply to read.") from None
    if not isinstance(data, dict) or "resourceType" not in data:
        raise RecordError(
            "This JSON file is not a FHIR health record (it has no resourceType). I can read "
            "FHIR R4 Bundles, PDFs and text notes."
        )
    if data.get("resourceType") != "Bundle":
        kind = str(data.get("resourceType"))[:40]
        raise RecordError(
            f"This FHIR file holds a single {kind} resource, not a Bundle. Please export the "
            "patient's record as a FHIR Bundle (for example a Patient $everything export)."
        )
    return data


def _checked_text(text: str, max_chars: int) -> str:
    text = text.replace("\r\n", "\n").replace("\x00", "")
    if not text.strip():
        raise RecordError("There's no text in it to explain.")
    if len(text) > max_chars:
        raise RecordError(
            f"This record is long ({len(text):,} characters); I can explain up to "
            f"{max_chars:,} characters at a time (about {max_chars // 3000} pages). Please "
            "send the part you want explained, such as the latest letter or results."
        )
    return text


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"

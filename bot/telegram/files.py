"""Which Telegram attachments the channel downloads at all (the store checks the content after).

Refusing by type and size before downloading saves bandwidth and gives a clear answer at once;
it is not the security check: a file can lie about its name and MIME type, and the upload store
decides by content.
"""

from __future__ import annotations

from pathlib import PurePath

from telegram.constants import FileSizeLimit

from bot.telegram import texts

TELEGRAM_DOWNLOAD_LIMIT = FileSizeLimit.FILESIZE_DOWNLOAD  # bots can't download more (20 MB)
ACCEPTED_EXTENSIONS = frozenset(
    {".pdf", ".txt", ".text", ".json", ".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif"}
)
ACCEPTED_MIME_TYPES = frozenset(
    {
        "application/pdf",
        "text/plain",
        "application/json",
        "text/json",
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/heic",
        "image/heif",
    }
)
# What clients send when they don't know; then the extension has to say it.
UNKNOWN_MIME = "application/octet-stream"


def download_limit(upload_max_bytes: int) -> int:
    """The smaller of Telegram's download cap and the store's own limit."""
    return min(TELEGRAM_DOWNLOAD_LIMIT, upload_max_bytes)


def refusal(
    file_name: str | None, mime_type: str | None, file_size: int | None, limit: int
) -> str | None:
    """Why a document is refused before download (a message for the patient), else None."""
    if file_size is not None and file_size > limit:
        return texts.too_large(limit)
    extension = PurePath(file_name).suffix.lower() if file_name else ""
    mime = (mime_type or "").split(";")[0].strip().lower()
    if mime == UNKNOWN_MIME:
        mime = ""
    if extension and extension not in ACCEPTED_EXTENSIONS:
        return texts.refused_type()
    if mime and mime not in ACCEPTED_MIME_TYPES:
        return texts.refused_type()
    if not extension and not mime:
        return texts.refused_type()
    return None

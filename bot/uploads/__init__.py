"""The upload store: patients' photos and documents, checked by content, under random ids.

The edge saves what arrives on Telegram or the web widget; the action server reads it back by id
through the same interface (``open_store()``), and ``forget me`` deletes a sender's files.
"""

from __future__ import annotations

from bot.uploads.local import LocalUploadStore
from bot.uploads.types import Kind, UploadInfo, UploadNotFound, UploadRejected, UploadStore

__all__ = [
    "Kind",
    "LocalUploadStore",
    "UploadInfo",
    "UploadNotFound",
    "UploadRejected",
    "UploadStore",
    "open_store",
]


def open_store() -> UploadStore:
    """The configured store (a local folder; another backend plugs in behind the Protocol)."""
    from bot.settings import get_settings

    settings = get_settings()
    return LocalUploadStore(
        settings.uploads_dir,
        settings.upload_max_bytes,
        settings.upload_max_pixels,
        settings.upload_retention_days,
    )

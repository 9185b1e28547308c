"""The upload store: patients' photos and documents, checked by content, under random ids.

The edge saves what arrives on Telegram or the web widget; the action server reads it back by id
through the same interface (``open_store()``), and ``forget me`` deletes a sender's files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from healthbot.stores.uploads.local import LocalUploadStore
from healthbot.stores.uploads.types import (
    Kind,
    UploadInfo,
    UploadNotFound,
    UploadRejected,
    UploadStore,
)

if TYPE_CHECKING:
    from healthbot.settings import UploadSettings

__all__ = [
    "Kind",
    "LocalUploadStore",
    "UploadInfo",
    "UploadNotFound",
    "UploadRejected",
    "UploadStore",
    "open_store",
]


def open_store(settings: UploadSettings | None = None) -> UploadStore:
    """The configured store (a local folder; another backend plugs in behind the Protocol)."""
    if settings is None:
        from healthbot.settings import get_settings

        settings = get_settings().uploads
    return LocalUploadStore(
        settings.dir, settings.max_bytes, settings.max_pixels, settings.retention_days
    )

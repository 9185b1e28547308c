"""Uploads attached to the latest message: the edge passes ``upload_id`` and ``kind`` as metadata.

The action server reads the file through the same store interface the edge wrote it with, and
only when the upload belongs to this conversation: an id copied from elsewhere opens nothing.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import TYPE_CHECKING

from rasa_sdk import Tracker

if TYPE_CHECKING:
    from bot.uploads import UploadInfo, UploadStore

logger = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def upload_store() -> UploadStore:
    """The configured store, opened once per process."""
    from bot.uploads import open_store

    return open_store()


def latest_upload(tracker: Tracker, store: UploadStore | None = None) -> UploadInfo | None:
    """The upload named in the latest message's metadata, if it exists and is this sender's."""
    from bot.uploads import UploadNotFound

    metadata = tracker.latest_message.get("metadata") or {}
    upload_id = metadata.get("upload_id") if isinstance(metadata, dict) else None
    if not isinstance(upload_id, str):
        return None
    try:
        info = (store or upload_store()).info(upload_id)
    except UploadNotFound:
        logger.info("upload named in metadata is missing or expired")
        return None
    if info.owner != tracker.sender_id:
        logger.warning("upload named in metadata belongs to another conversation")
        return None
    return info


def describe(info: UploadInfo) -> str:
    """A short, content-free description: "photo (1024×768)", "PDF document (85 KB)"."""
    ref = f"ref {info.id[:8]}"
    if info.kind == "image":
        return f"photo ({info.width}×{info.height}, {ref})"
    label = {"pdf": "PDF document", "text": "text document", "json": "JSON document"}[info.kind]
    return f"{label} ({max(1, round(info.size / 1024))} KB, {ref})"


def forget_uploads(sender_id: str, store: UploadStore | None = None) -> int:
    """Delete everything this sender uploaded (forget me); never fails the conversation."""
    try:
        return (store or upload_store()).delete_owner(sender_id)
    except OSError as error:
        logger.error("could not delete uploads: %s", type(error).__name__)
        return 0


def forget_photo_history(sender_id: str) -> int:
    """Delete the wound sizes kept for this sender's trend (forget me)."""
    from actions.action_photo import get_history

    try:
        return get_history().delete_sender(sender_id)
    except Exception as error:  # sqlite3 errors; forget me must still answer
        logger.error("could not delete photo history: %s", type(error).__name__)
        return 0

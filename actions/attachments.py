"""Uploads attached to the latest message: the edge passes ``upload_id`` and ``kind`` as metadata.

The action server reads the file through the same store interface the edge wrote it with, and
only when the upload belongs to this conversation: an id copied from elsewhere opens nothing.
"""

from __future__ import annotations

import logging

from rasa_sdk import Tracker

from healthbot.contract import META_UPLOAD_ID
from healthbot.stores.uploads import UploadInfo, UploadNotFound, UploadStore

logger = logging.getLogger(__name__)


def latest_upload(tracker: Tracker, store: UploadStore) -> UploadInfo | None:
    """The upload named in the latest message's metadata, if it exists and is this sender's."""
    metadata = tracker.latest_message.get("metadata") or {}
    upload_id = metadata.get(META_UPLOAD_ID) if isinstance(metadata, dict) else None
    if not isinstance(upload_id, str):
        return None
    try:
        info = store.info(upload_id)
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

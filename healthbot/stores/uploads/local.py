"""Uploads in a local folder: one data file and one metadata file per random id.

The folder is private (0700, files 0600) and is never served: the gateway streams a file only to
the conversation that owns it. Ids are 128-bit random, URL-safe, and checked against a strict
pattern before any path is built, so an id can never walk out of the folder.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import time
from pathlib import Path

from healthbot.stores.uploads.checks import check_upload
from healthbot.stores.uploads.types import UploadInfo, UploadNotFound

logger = logging.getLogger(__name__)

ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{22}$")
DAY_S = 86_400.0


class LocalUploadStore:
    """The default UploadStore (one machine; the edge and the action server share the folder)."""

    def __init__(self, root: Path, max_bytes: int, max_pixels: int, retention_days: float) -> None:
        self.root = Path(root)
        self.max_bytes, self.max_pixels = max_bytes, max_pixels
        self.retention_s = retention_days * DAY_S

    def save(self, owner: str, data: bytes, filename: str | None = None) -> UploadInfo:
        checked = check_upload(data, filename, self.max_bytes, self.max_pixels)
        self._ensure_root()
        upload_id = secrets.token_urlsafe(16)
        info = UploadInfo(
            upload_id, owner, checked.kind, checked.mime, len(checked.data), time.time(),
            checked.width, checked.height,
        )  # fmt: skip
        self._write(self._data_path(upload_id), checked.data)
        self._write(self._meta_path(upload_id), json.dumps(info.to_dict()).encode())
        logger.info("stored upload %s (%s, %d bytes)", upload_id, info.kind, info.size)
        return info

    def info(self, upload_id: str) -> UploadInfo:
        meta = self._meta_path(upload_id)
        try:
            info = UploadInfo(**json.loads(meta.read_text()))
        except (OSError, ValueError, TypeError):
            raise UploadNotFound(upload_id) from None
        if self._expired(info, time.time()):
            self.delete(upload_id)
            raise UploadNotFound(upload_id)
        return info

    def read(self, upload_id: str) -> bytes:
        self.info(upload_id)
        try:
            return self._data_path(upload_id).read_bytes()
        except OSError:
            raise UploadNotFound(upload_id) from None

    def delete(self, upload_id: str) -> bool:
        if not isinstance(upload_id, str) or not ID_PATTERN.match(upload_id):
            return False
        found = False
        for path in (self._data_path(upload_id), self._meta_path(upload_id)):
            try:
                path.unlink()
                found = True
            except FileNotFoundError:
                pass
        return found

    def delete_owner(self, owner: str) -> int:
        deleted = sum(1 for info in self._all() if info.owner == owner and self.delete(info.id))
        if deleted:
            logger.info("deleted %d upload(s) on the owner's request", deleted)
        return deleted

    def purge_expired(self, now: float | None = None) -> int:
        moment = time.time() if now is None else now
        expired = [info for info in self._all() if self._expired(info, moment)]
        purged = sum(1 for info in expired if self.delete(info.id))
        if purged:
            logger.info("deleted %d upload(s) past retention", purged)
        return purged

    def _all(self) -> list[UploadInfo]:
        infos = []
        for meta in self.root.glob("*.json") if self.root.is_dir() else ():
            try:
                infos.append(UploadInfo(**json.loads(meta.read_text())))
            except (OSError, ValueError, TypeError):
                continue
        return infos

    def _expired(self, info: UploadInfo, now: float) -> bool:
        return now - info.created > self.retention_s

    def _data_path(self, upload_id: str) -> Path:
        return self._path(upload_id, ".data")

    def _meta_path(self, upload_id: str) -> Path:
        return self._path(upload_id, ".json")

    def _path(self, upload_id: str, suffix: str) -> Path:
        if not isinstance(upload_id, str) or not ID_PATTERN.match(upload_id):
            raise UploadNotFound(str(upload_id)[:40])
        return self.root / f"{upload_id}{suffix}"

    def _ensure_root(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        """Write to a private temporary file, then rename: readers never see half a file."""
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)

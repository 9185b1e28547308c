"""Where the clinic's JSON of each analysis is kept, so "forget me" can delete it.

One folder per conversation (named by a hash of the sender id, which the edge already
pseudonymises), one file per analysis under a random 128-bit id, 0600 permissions, a retention
period after which files are purged. Nothing here logs content.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from healthbot.settings import EhrSettings, TriageSettings

ID = re.compile(r"^[A-Za-z0-9_-]{22}$")


class AnalysisStore(Protocol):
    """Per-conversation clinic JSON; ``delete_owner`` makes it an ``OwnedStore``."""

    def save(self, owner: str, analysis: dict[str, Any]) -> str: ...

    def read(self, owner: str, analysis_id: str) -> dict[str, Any] | None: ...

    def delete_owner(self, owner: str) -> int: ...

    def purge_expired(self, now: float | None = None) -> int: ...


class LocalAnalysisStore:
    """Files under ``root``; safe against path tricks because ids are checked by pattern."""

    def __init__(self, root: Path, retention_days: float = 30.0) -> None:
        self.root = root
        self.retention_s = retention_days * 86_400

    def _folder(self, owner: str) -> Path:
        return self.root / hashlib.sha256(owner.encode("utf-8")).hexdigest()[:32]

    def save(self, owner: str, analysis: dict[str, Any]) -> str:
        analysis_id = secrets.token_urlsafe(16)
        folder = self._folder(owner)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = folder / f"{analysis_id}.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(analysis, handle)
        return analysis_id

    def read(self, owner: str, analysis_id: str) -> dict[str, Any] | None:
        if not ID.match(analysis_id):
            return None
        path = self._folder(owner) / f"{analysis_id}.json"
        if not path.is_file() or self._expired(path, time.time()):
            return None
        return json.loads(path.read_text(encoding="utf-8"))

    def delete_owner(self, owner: str) -> int:
        folder = self._folder(owner)
        if not folder.is_dir():
            return 0
        count = sum(1 for _ in folder.glob("*.json"))
        shutil.rmtree(folder, ignore_errors=True)
        return count

    def purge_expired(self, now: float | None = None) -> int:
        now = time.time() if now is None else now
        removed = 0
        for path in self.root.glob("*/*.json"):
            if self._expired(path, now):
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def _expired(self, path: Path, now: float) -> bool:
        try:
            return now - path.stat().st_mtime > self.retention_s
        except FileNotFoundError:
            return True


def open_analysis_store(settings: EhrSettings | None = None) -> AnalysisStore:
    """The configured store: the action server writes it, the edge's API reads it."""
    if settings is None:
        from healthbot.settings import get_settings

        settings = get_settings().ehr
    return LocalAnalysisStore(settings.store_dir, settings.retention_days)


def open_triage_store(settings: TriageSettings | None = None) -> AnalysisStore:
    """The clinic's triage records: the same kind of per-conversation JSON store."""
    if settings is None:
        from healthbot.settings import get_settings

        settings = get_settings().triage
    return LocalAnalysisStore(settings.store_dir, settings.retention_days)

"""What the trend needs, and nothing more: per sender, when a photo was checked and the wound's
share of it. No image, no mask. Deleted by "forget me" and after the retention period."""

from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

DAY_S = 86_400.0


@dataclass(frozen=True)
class Measurement:
    """One checked photo of a sender's wound."""

    taken: float
    area_fraction: float


class PhotoHistory:
    """A small SQLite table; one process writes at a time (the action server)."""

    def __init__(self, path: Path, retention_days: float) -> None:
        self.path, self.retention_s = Path(path), retention_days * DAY_S
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        db = sqlite3.connect(self.path, timeout=10)
        db.execute(
            "CREATE TABLE IF NOT EXISTS measurements (sender TEXT NOT NULL, taken REAL NOT NULL,"
            " area_fraction REAL NOT NULL)"
        )
        db.execute("CREATE INDEX IF NOT EXISTS by_sender ON measurements (sender, taken)")
        return db

    def add(self, sender: str, area_fraction: float, taken: float | None = None) -> None:
        with self._lock, closing(self._connect()) as db, db:
            db.execute(
                "INSERT INTO measurements VALUES (?, ?, ?)",
                (sender, time.time() if taken is None else taken, float(area_fraction)),
            )

    def previous(self, sender: str, now: float | None = None) -> list[Measurement]:
        """The sender's measurements within retention, oldest first."""
        since = (time.time() if now is None else now) - self.retention_s
        with self._lock, closing(self._connect()) as db:
            rows = db.execute(
                "SELECT taken, area_fraction FROM measurements WHERE sender = ? AND taken >= ?"
                " ORDER BY taken",
                (sender, since),
            ).fetchall()
        return [Measurement(float(t), float(a)) for t, a in rows]

    def delete_owner(self, sender: str) -> int:
        """Forget me: every measurement of this sender."""
        with self._lock, closing(self._connect()) as db, db:
            return db.execute("DELETE FROM measurements WHERE sender = ?", (sender,)).rowcount

    def purge(self, now: float | None = None) -> int:
        since = (time.time() if now is None else now) - self.retention_s
        with self._lock, closing(self._connect()) as db, db:
            return db.execute("DELETE FROM measurements WHERE taken < ?", (since,)).rowcount

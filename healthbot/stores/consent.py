"""Who agreed to the data notice: a small SQLite file in the edge's state folder.

Keyed by the hashed sender id (never a chat id), so the file reveals nobody. A channel must not
send anything to Rasa or the upload store for a sender until ``has(sender)`` is true; consent
survives restarts and is withdrawn by ``revoke`` (after "forget me", or when the patient says no).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CONSENT_FILE = "consent.sqlite3"
# Bump when the notice changes materially: earlier agreements then no longer count.
NOTICE_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS consent (
    sender TEXT PRIMARY KEY,
    notice_version INTEGER NOT NULL,
    granted_at REAL NOT NULL
)
"""


class ConsentStore:
    """``grant`` / ``revoke`` / ``has`` per sender id; safe to share between threads."""

    def __init__(self, path: Path, notice_version: int = NOTICE_VERSION) -> None:
        self.path = Path(path)
        self.notice_version = notice_version
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self._connect() as db:
            db.execute(_SCHEMA)
        self.path.chmod(0o600)

    @classmethod
    def in_state_dir(cls, state_dir: Path) -> ConsentStore:
        """The store the edge uses: ``<state_dir>/consent.sqlite3``."""
        return cls(Path(state_dir) / CONSENT_FILE)

    def grant(self, sender: str) -> None:
        """Record that ``sender`` agreed to the current notice."""
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO consent (sender, notice_version, granted_at) "
                "VALUES (?, ?, ?)",
                (sender, self.notice_version, time.time()),
            )

    def revoke(self, sender: str) -> bool:
        """Forget ``sender``'s agreement; False when there was none."""
        with self._connect() as db:
            return db.execute("DELETE FROM consent WHERE sender = ?", (sender,)).rowcount > 0

    def has(self, sender: str) -> bool:
        """Whether ``sender`` agreed to the current version of the notice."""
        with self._connect() as db:
            row = db.execute(
                "SELECT notice_version FROM consent WHERE sender = ?", (sender,)
            ).fetchone()
        return row is not None and row[0] >= self.notice_version

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # One short connection per call: tiny queries, no connection shared across threads.
        with self._lock:
            db = sqlite3.connect(self.path, timeout=10)
            try:
                with db:  # commits, or rolls back on error
                    yield db
            finally:
                db.close()

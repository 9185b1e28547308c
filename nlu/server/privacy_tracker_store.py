"""Rasa's SQL tracker store plus the right to erasure.

Rasa keeps every event of a conversation and the action server cannot reach the store,
so "forget me" is carried out here: when the forget-me action sets the
``erase_conversation`` slot, the store deletes every stored event of that sender
instead of saving the turn. The next message from that sender starts a fresh
conversation. Works with any SQL dialect Rasa supports (SQLite by default, Postgres).
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

ERASE_SLOT = "erase_conversation"


def erasure_requested(tracker: DialogueStateTracker) -> bool:
    """True when the current turn (events since the last user message) asked for erasure."""
    for event in reversed(tracker.events):
        if isinstance(event, SlotSet) and event.key == ERASE_SLOT and event.value is True:
            return True
        if isinstance(event, UserUttered):
            return False
    return False


def _tune_sqlite(engine: sa.engine.Engine) -> None:
    """WAL journal + NORMAL sync: one fsync per checkpoint instead of per turn.

    A turn is still durable against a process crash; only an OS crash can lose the last
    turns, an accepted trade for a chat's tracker (Postgres is the choice for more).
    """

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    engine.dispose()  # connections made before the listener existed get the pragmas too


class PrivacyTrackerStore(SQLTrackerStore):
    """SQL tracker store that erases a sender's conversation on request."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            _tune_sqlite(self.engine)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the turn, or erase the whole conversation if this turn asked for it."""
        if erasure_requested(tracker):
            deleted = self.delete_conversation(tracker.sender_id)
            # Counts only: never the sender id or content.
            logger.info("Erased a conversation on request (%d events).", deleted)
            return
        await super().save(tracker)

    def delete_conversation(self, sender_id: str) -> int:
        """Delete every stored event of ``sender_id``; returns how many were deleted."""
        with self.session_scope() as session:
            deleted = (
                session.query(self.SQLEvent)
                .filter(self.SQLEvent.sender_id == sender_id)
                .delete(synchronize_session=False)
            )
            session.commit()
        return int(deleted)

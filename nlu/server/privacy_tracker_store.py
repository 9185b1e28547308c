"""Rasa's SQL tracker store plus the right to erasure.

Rasa keeps every event of a conversation and the action server cannot reach the store,
so "forget me" is carried out here: when the forget-me action sets the
``erase_conversation`` slot, the store deletes every stored event of that sender
instead of saving the turn. The next message from that sender starts a fresh
conversation. Works with any SQL dialect Rasa supports (SQLite by default, Postgres).

It is also cheaper per turn than Rasa's store, which every turn runs on the Rasa server's one
thread (a load and a save): SQLite connections are pooled instead of opened and closed per query
(closing the last WAL connection checkpoints the log), and the load, the count of stored events
and the insert of a turn's new events are prebuilt Core statements instead of ORM queries and a
unit-of-work flush. Profiled under 20 concurrent conversations, Rasa's version took about a third
of the server's CPU (bench/RESULTS.md). Same table, same rows, same queries' meaning.
"""

from __future__ import annotations

import itertools
import json
import logging
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted, SlotSet, UserUttered
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


def _is_sqlite_file(engine: sa.engine.Engine) -> bool:
    """A SQLite database in a file; an in-memory one lives only as long as its one connection,
    so it is neither pooled nor re-connected (WAL does not apply to it either)."""
    return engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:")


def _pooled_sqlite(engine: sa.engine.Engine) -> sa.engine.Engine:
    """The same file database behind a connection pool (SQLAlchemy 1.4 opens one per query)."""
    engine.dispose()
    return sa.create_engine(
        engine.url,
        poolclass=sa.pool.QueuePool,
        pool_size=4,
        max_overflow=8,
        # Rasa may call the store from its thread pool too; a connection is used by one
        # session at a time, which the pool guarantees.
        connect_args={"check_same_thread": False},
    )


def _row(sender_id: str, event: Event) -> dict[str, Any]:
    """The `events` row Rasa's SQLTrackerStore writes for `event`."""
    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


class PrivacyTrackerStore(SQLTrackerStore):
    """SQL tracker store that erases a sender's conversation on request."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if _is_sqlite_file(self.engine):
            self.engine = _pooled_sqlite(self.engine)
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
            _tune_sqlite(self.engine)
        self._build_statements()

    def _build_statements(self) -> None:
        """Rasa's queries (`SQLTrackerStore._event_query`), built once as Core statements."""
        events = self.SQLEvent.__table__
        sender = events.c.sender_id == sa.bindparam("sender_id")
        start = (
            sa.select(sa.func.max(events.c.timestamp))
            .where(sender, events.c.type_name == SessionStarted.type_name)
            .scalar_subquery()
        )
        # Events since the latest SessionStarted, or all of them when there is none.
        latest = sa.and_(sender, sa.or_(events.c.timestamp >= start, start.is_(None)))
        self._load_latest = sa.select(events.c.data).where(latest).order_by(events.c.id)
        self._load_all = sa.select(events.c.data).where(sender).order_by(events.c.id)
        self._count_latest = sa.select(sa.func.count()).select_from(events).where(latest)
        self._insert = events.insert()

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        """The tracker of the latest session (or of all sessions), None if nothing is stored."""
        query = self._load_all if fetch_events_from_all_sessions else self._load_latest
        with self.session_scope() as session:
            rows = session.execute(query, {"sender_id": sender_id}).scalars().all()
        events = [json.loads(data) for data in rows]
        if not self.domain or not events:
            return None
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the turn, or erase the whole conversation if this turn asked for it."""
        if erasure_requested(tracker):
            deleted = self.delete_conversation(tracker.sender_id)
            # Counts only: never the sender id or content.
            logger.info("Erased a conversation on request (%d events).", deleted)
            return
        await self.stream_events(tracker)
        with self.session_scope() as session:
            # Only the events not stored yet, as Rasa does: count this session's stored events.
            stored = session.execute(self._count_latest, {"sender_id": tracker.sender_id})
            new = itertools.islice(tracker.events, stored.scalar_one(), None)
            rows = [_row(tracker.sender_id, event) for event in new]
            if rows:
                session.execute(self._insert, rows)
            session.commit()

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

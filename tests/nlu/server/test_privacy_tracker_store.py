"""The tracker store erases a sender's conversation on request and stores what Rasa's does
(runs in .venv-rasa)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from nlu.server.privacy_tracker_store import PrivacyTrackerStore, erasure_requested

ROOT = Path(__file__).resolve().parents[3]


def _store(tmp_path: Path) -> PrivacyTrackerStore:
    domain = Domain.load(str(ROOT / "domain.yml"))
    return PrivacyTrackerStore(domain=domain, dialect="sqlite", db=str(tmp_path / "t.db"))


def _tracker(store: PrivacyTrackerStore, sender: str, *events: object) -> DialogueStateTracker:
    tracker = DialogueStateTracker.from_events(sender, list(events), store.domain.slots)
    return tracker


def test_erasure_is_scoped_to_the_current_turn() -> None:
    old_request = [UserUttered("yes"), SlotSet("erase_conversation", True), UserUttered("hi")]
    tracker = DialogueStateTracker.from_events("a", old_request)
    assert not erasure_requested(tracker)
    tracker.update(SlotSet("erase_conversation", True))
    assert erasure_requested(tracker)


def test_forget_me_deletes_only_that_sender(tmp_path: Path) -> None:
    store = _store(tmp_path)
    alice = _tracker(store, "alice", UserUttered("my knee hurts"), ActionExecuted("action_listen"))
    bob = _tracker(store, "bob", UserUttered("hello"), ActionExecuted("action_listen"))
    asyncio.run(store.save(alice))
    asyncio.run(store.save(bob))
    assert set(asyncio.run(store.keys())) == {"alice", "bob"}

    alice.update(UserUttered("yes"))
    alice.update(ActionExecuted("action_forget_me"))
    alice.update(SlotSet("erase_conversation", True))
    asyncio.run(store.save(alice))

    assert asyncio.run(store.retrieve("alice")) is None
    assert asyncio.run(store.keys()) == ["bob"]
    assert asyncio.run(store.retrieve("bob")) is not None


def test_ordinary_turns_are_saved(tmp_path: Path) -> None:
    store = _store(tmp_path)
    tracker = _tracker(store, "carol", UserUttered("hi"), ActionExecuted("action_listen"))
    asyncio.run(store.save(tracker))
    restored = asyncio.run(store.retrieve("carol"))
    assert restored is not None
    assert restored.latest_message.text == "hi"


def test_sqlite_uses_wal_journal(tmp_path: Path) -> None:
    store = _store(tmp_path)
    with store.engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        sync = connection.exec_driver_sql("PRAGMA synchronous").scalar()
    assert (mode, sync) == ("wal", 1)  # 1 = NORMAL


def _rows(store: SQLTrackerStore) -> list[tuple]:
    with store.engine.connect() as connection:
        result = connection.exec_driver_sql(
            "SELECT sender_id, type_name, timestamp, intent_name, action_name, data "
            "FROM events ORDER BY id"
        )
        return [tuple(row) for row in result]


FIRST_SESSION = [
    ActionExecuted("action_session_start", timestamp=1.0),
    SessionStarted(timestamp=1.0),
    UserUttered("hi", {"name": "greet", "confidence": 0.9}, timestamp=2.0),
    ActionExecuted("utter_greet", timestamp=3.0),
    ActionExecuted("action_listen", timestamp=3.0),
]
SECOND_SESSION = [
    ActionExecuted("action_session_start", timestamp=10.0),
    SessionStarted(timestamp=10.0),
    SlotSet("triage_answer", "headache", timestamp=10.0),
    UserUttered("my head hurts", {"name": "report_symptom"}, timestamp=11.0),
    ActionExecuted("action_listen", timestamp=12.0),
]


def _two_sessions(store: SQLTrackerStore) -> None:
    """Two turns as Rasa's processor runs them: load, add the turn's events, save."""
    first = DialogueStateTracker.from_events("dana", FIRST_SESSION, store.domain.slots)
    asyncio.run(store.save(first))
    loaded = asyncio.run(store.retrieve("dana"))
    assert loaded is not None
    for event in SECOND_SESSION:
        loaded.update(event)
    asyncio.run(store.save(loaded))
    again = asyncio.run(store.retrieve("dana"))
    assert again is not None
    asyncio.run(store.save(again))  # nothing new: nothing written twice


def test_rows_and_loads_are_the_same_as_rasas_sql_store(tmp_path: Path) -> None:
    """Same table, same rows, same sessions: a store written by either reads the same."""
    ours = _store(tmp_path)
    rasa_db = tmp_path / "rasa.db"
    theirs = SQLTrackerStore(domain=ours.domain, dialect="sqlite", db=str(rasa_db))
    _two_sessions(ours)
    _two_sessions(theirs)
    assert _rows(ours) == _rows(theirs)
    assert len(_rows(ours)) == 10

    # Ours reading Rasa's file, and Rasa reading ours, give the same trackers.
    ours_on_theirs = PrivacyTrackerStore(domain=ours.domain, dialect="sqlite", db=str(rasa_db))
    theirs_on_ours = SQLTrackerStore(
        domain=ours.domain, dialect="sqlite", db=str(tmp_path / "t.db")
    )
    for reader, writer in ((ours_on_theirs, theirs), (theirs_on_ours, ours)):
        latest = asyncio.run(reader.retrieve("dana"))
        full = asyncio.run(reader.retrieve_full_tracker("dana"))
        expected_latest = asyncio.run(writer.retrieve("dana"))
        expected_full = asyncio.run(writer.retrieve_full_tracker("dana"))
        assert latest is not None and full is not None
        assert expected_latest is not None and expected_full is not None
        assert list(latest.events) == list(expected_latest.events)
        assert list(full.events) == list(expected_full.events)
        assert len(latest.events) == 5 and len(full.events) == 10
        assert latest.get_slot("triage_answer") == "headache"
    assert asyncio.run(ours.retrieve("nobody")) is None


def test_a_new_turn_appends_only_its_events(tmp_path: Path) -> None:
    store = _store(tmp_path)
    _two_sessions(store)
    tracker = asyncio.run(store.retrieve("dana"))
    assert tracker is not None
    tracker.update(UserUttered("thanks", {"name": "thank"}, timestamp=13.0))
    tracker.update(ActionExecuted("utter_welcome", timestamp=14.0))
    asyncio.run(store.save(tracker))
    rows = _rows(store)
    assert len(rows) == 12
    assert rows[-2][1:5] == ("user", 13.0, "thank", None)
    assert rows[-1][1:5] == ("action", 14.0, None, "utter_welcome")


def test_sqlite_connections_are_pooled_not_reopened(tmp_path: Path) -> None:
    """SQLAlchemy 1.4 opens (and closes, checkpointing the WAL) a file connection per query."""
    store = _store(tmp_path)
    assert isinstance(store.engine.pool, sa.pool.QueuePool)
    connects = []
    sa.event.listen(store.engine, "connect", lambda *_: connects.append(1))
    tracker = _tracker(store, "erin", UserUttered("hi"), ActionExecuted("action_listen"))
    for _ in range(5):
        asyncio.run(store.save(tracker))
        asyncio.run(store.retrieve("erin"))
    assert len(connects) <= 1


def test_in_memory_sqlite_is_not_pooled() -> None:
    """Each pooled connection to ':memory:' would be a different, empty database."""
    domain = Domain.load(str(ROOT / "domain.yml"))
    store = PrivacyTrackerStore(domain=domain, dialect="sqlite", db="")
    tracker = DialogueStateTracker.from_events(
        "frank", [UserUttered("hi"), ActionExecuted("action_listen")], domain.slots
    )
    asyncio.run(store.save(tracker))
    restored = asyncio.run(store.retrieve("frank"))
    assert restored is not None and restored.latest_message.text == "hi"

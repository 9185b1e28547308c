"""The tracker store erases a sender's conversation on request (runs in .venv-rasa)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
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

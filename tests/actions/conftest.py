"""Helpers to run real rasa-sdk actions against real trackers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.services import Services, get_services, set_services
from healthbot.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    """The real domain.yml, as the action server receives it."""
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def make_tracker(
    text: str = "hello",
    intent: str = "greet",
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    events: list[dict[str, Any]] | None = None,
    active_loop: dict[str, Any] | None = None,
    extra_parse: dict[str, Any] | None = None,
    sender_id: str = "test-sender",
) -> Tracker:
    """A real Tracker whose latest message is ``text`` with the given parse data."""
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0},
        "entities": entities or [],
        **(extra_parse or {}),
    }
    return Tracker(
        sender_id=sender_id,
        slots=slots or {},
        latest_message=latest,
        events=events or [{"event": "user", "text": text, "parse_data": latest}],
        paused=False,
        followup_action=None,
        active_loop=active_loop or {},
        latest_action_name="action_listen",
    )


def run_action(
    action: Action, tracker: Tracker, domain: dict[str, Any]
) -> tuple[CollectingDispatcher, list[dict[str, Any]]]:
    """Run an action the way the action server does; returns (dispatcher, events)."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain))
    return dispatcher, events


def reset_services() -> Services:
    """Settings read again from the environment, services built afresh from them (the models
    are cached by their files, so they are not loaded again)."""
    get_settings.cache_clear()
    set_services(None)
    return get_services()


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    """The action server's services with every store in a temporary folder, set through the
    environment as an operator would."""
    monkeypatch.setenv("HEALTHBOT_UPLOADS_DIR", str(tmp_path / "uploads"))
    monkeypatch.setenv("HEALTHBOT_PHOTO_HISTORY_DB", str(tmp_path / "history.db"))
    monkeypatch.setenv("HEALTHBOT_EHR_STORE_DIR", str(tmp_path / "ehr"))
    monkeypatch.setenv("HEALTHBOT_TRIAGE_STORE_DIR", str(tmp_path / "triage"))
    yield reset_services()
    get_settings.cache_clear()
    set_services(None)

"""The real bot (build_application + start_telegram) against the fake Bot API and a fake Rasa."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import Application

from bot.senders import sender_id
from bot.telegram import build_application, start_telegram, stop_telegram
from bot.telegram.channel import TelegramChannel
from healthbot.settings import Settings
from healthbot.stores.consent import ConsentStore
from healthbot.stores.uploads import LocalUploadStore
from tests.bot.support import FakeRasa, edge_settings
from tests.fakes.telegram_api import FakeTelegramAPI, LoopThread

SECRET = b"unit-test-secret"
CONFIRM_FORGET = {
    "text": "Do you want me to delete this conversation?",
    "buttons": [
        {"title": "Yes, delete it", "payload": "/affirm"},
        {"title": "No, keep it", "payload": "/deny"},
    ],
}
FORGOTTEN = [
    {"text": "Done. I've deleted this conversation and what you shared with me."},
    {"custom": {"event": "forgotten"}},  # action_forget_me's marker for the channels
]


@dataclass
class Harness:
    api: FakeTelegramAPI
    rasa: Any
    store: LocalUploadStore
    settings: Settings
    app: Application
    loop: LoopThread

    @property
    def channel(self) -> TelegramChannel:
        return self.app.bot_data["channel"]

    @property
    def consent(self) -> ConsentStore:
        return self.channel.consent

    def sender(self, chat_id: int) -> str:
        return sender_id(SECRET, "tg", str(chat_id))

    def agree(self, chat_id: int) -> None:
        """Consent the way a patient does: /start, then tap "I agree"."""
        since = self.api.mark()
        self.api.push_text(chat_id, "/start")
        self.api.wait_for_text(chat_id, "Do you agree?", since=since)
        self.api.push_callback(chat_id, "consent:yes")
        self.api.wait_for_text(chat_id, "How can I help?", since=since)

    def uploads(self) -> list[Path]:
        root = self.settings.uploads.dir
        return sorted(root.glob("*.data")) if root.is_dir() else []


def make_settings(api: FakeTelegramAPI, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "TELEGRAM_BOT_TOKEN": api.token,
        "telegram_base_url": api.base_url,
        "telegram_base_file_url": api.base_file_url,
        "state_dir": tmp_path / "state",
        "uploads_dir": tmp_path / "uploads",
        "telegram_rate_per_minute": 600,
        **overrides,
    }
    return edge_settings(**values)


@contextmanager
def open_harness(tmp_path: Path, rasa: Any, **overrides: Any) -> Iterator[Harness]:
    """Start the bot (polling) against a fresh fake Bot API; ``overrides`` go to the settings."""
    with FakeTelegramAPI() as api:
        settings = make_settings(api, tmp_path, **overrides)
        store = LocalUploadStore(
            settings.uploads.dir,
            settings.uploads.max_bytes,
            settings.uploads.max_pixels,
            settings.uploads.retention_days,
        )
        loop = LoopThread()
        app = build_application(settings, rasa, store, SECRET)
        loop.run(start_telegram(app, settings))
        try:
            yield Harness(api, rasa, store, settings, app, loop)
        finally:
            loop.run(stop_telegram(app))
            loop.close()


@pytest.fixture
def bot(tmp_path: Path) -> Iterator[Harness]:
    """The bot running in polling mode, with a scripted Rasa."""
    with open_harness(tmp_path, FakeRasa()) as harness:
        yield harness

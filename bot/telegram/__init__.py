"""The Telegram channel of the edge (python-telegram-bot), talking to Rasa's REST channel."""

from __future__ import annotations

from bot.telegram.app import build_application, start_telegram, stop_telegram
from bot.telegram.webhook import telegram_webhook_route

__all__ = ["build_application", "start_telegram", "stop_telegram", "telegram_webhook_route"]

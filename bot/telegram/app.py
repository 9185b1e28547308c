"""Build, start and stop the Telegram bot inside an asyncio loop the edge already runs.

The edge runner starts it next to uvicorn::

    app = build_application(settings, rasa, store, secret)
    await start_telegram(app, settings)   # polling, or set_webhook in webhook mode
    ...
    await stop_telegram(app)

In webhook mode the web gateway mounts ``telegram_webhook_route(app, secret)``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, BaseUpdateProcessor

from bot.rasa_client import Rasa
from bot.telegram.channel import TelegramChannel
from bot.telegram.webhook import telegram_webhook_route
from healthbot.settings import Settings
from healthbot.stores.consent import ConsentStore
from healthbot.stores.uploads import UploadStore

__all__ = [
    "PerChatUpdateProcessor",
    "build_application",
    "start_telegram",
    "stop_telegram",
    "telegram_webhook_route",
]

logger = logging.getLogger(__name__)
# httpx logs every request URL at INFO, and Bot API URLs contain the bot token.
logging.getLogger("httpx").setLevel(logging.WARNING)

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
MAX_CONCURRENT_UPDATES = 256


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Different chats are served concurrently; one chat's updates run in the order they came.

    A caption and its photo, or two quick messages, must reach Rasa in order: Rasa serialises a
    conversation but not the order in which its requests arrive.
    """

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock, waiting = self._locks.get(chat.id, (None, 0))
        lock = lock or asyncio.Lock()
        self._locks[chat.id] = (lock, waiting + 1)
        try:
            async with lock:
                await coroutine
        finally:
            lock, waiting = self._locks[chat.id]
            if waiting <= 1:
                del self._locks[chat.id]
            else:
                self._locks[chat.id] = (lock, waiting - 1)

    async def initialize(self) -> None:
        """Nothing to allocate."""

    async def shutdown(self) -> None:
        """Nothing to free."""


def build_application(
    settings: Settings,
    rasa: Rasa,
    store: UploadStore,
    secret: bytes,
    consent: ConsentStore | None = None,
) -> Application:
    """The bot with its handlers; raises ValueError when TELEGRAM_BOT_TOKEN is not set."""
    token = settings.telegram.bot_token.get_secret_value()
    if not token:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather first")
    app = (
        Application.builder()
        .token(token)
        .base_url(settings.telegram.base_url)
        .base_file_url(settings.telegram.base_file_url)
        .concurrent_updates(PerChatUpdateProcessor())
        .build()
    )
    channel = TelegramChannel(
        settings, rasa, store, secret, consent or ConsentStore.in_state_dir(settings.state_dir)
    )
    channel.register(app)
    app.bot_data["channel"] = channel
    return app


async def start_telegram(app: Application, settings: Settings) -> None:
    """Starts handling updates: long polling, or (webhook mode) registers the webhook URL."""
    webhook = settings.telegram.mode == "webhook"
    webhook_secret = settings.telegram.webhook_secret.get_secret_value()
    if webhook and not (settings.telegram.webhook_url and webhook_secret):
        raise ValueError(
            "webhook mode needs HEALTHBOT_TELEGRAM_WEBHOOK_URL and "
            "HEALTHBOT_TELEGRAM_WEBHOOK_SECRET"
        )
    await app.initialize()
    try:
        await app.start()
        if webhook:
            await app.bot.set_webhook(
                settings.telegram.webhook_url,
                secret_token=webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
        else:
            await app.updater.start_polling(
                allowed_updates=ALLOWED_UPDATES, error_callback=_polling_error
            )
    except BaseException:
        await stop_telegram(app)
        raise
    logger.info("Telegram bot started (%s)", settings.telegram.mode)


async def stop_telegram(app: Application) -> None:
    """Stops polling and handlers and closes the bot's connections (safe to call twice)."""
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()
    logger.info("Telegram bot stopped")


def _polling_error(error: TelegramError) -> None:
    # PTB's default logs the traceback; the type is enough and can't carry a token or content.
    logger.warning("Telegram polling failed (%s); retrying", type(error).__name__)

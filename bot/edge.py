"""The edge process: the web gateway always, Telegram when a token is set, one event loop.

``python -m bot`` (and ``make run``) start it. The log says which channels are live; it never
says what anyone wrote.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from bot.rasa_client import RasaClient
from bot.ratelimit import RateLimiter
from bot.senders import load_secret
from bot.web.clinics import load_clinics
from healthbot.settings import Settings
from healthbot.stores.analyses import open_analysis_store, open_triage_store
from healthbot.stores.uploads import UploadStore, open_store

if TYPE_CHECKING:
    from bot.web.app import Gateway

logger = logging.getLogger("bot.edge")
PURGE_INTERVAL_S = 3600.0


def build_gateway(settings: Settings, store: UploadStore | None = None) -> Gateway:
    """The gateway's shared state, built once from settings (tests pass their own store)."""
    from bot.web.app import Gateway

    return Gateway(
        settings=settings,
        rasa=RasaClient(settings.rasa.url, settings.rasa.timeout_s),
        store=store or open_store(settings.uploads),
        clinics=load_clinics(settings.web.clinics_file),
        secret=load_secret(settings.sender_secret.get_secret_value(), settings.state_dir),
        limiter=RateLimiter(settings.web.rate_per_minute),
        analyses=open_analysis_store(settings.ehr),
        triage=open_triage_store(settings.triage),
    )


class Purgeable(Protocol):
    def purge_expired(self, now: float | None = None) -> int: ...


def purge_once(stores: Sequence[Purgeable]) -> int:
    """Delete everything past retention in each store; one failing store does not stop the rest.
    The actions purge on each save too, but a store nobody writes to must still forget."""
    removed = 0
    for store in stores:
        try:
            removed += store.purge_expired()
        except OSError as error:
            logger.error("retention purge failed: %s", type(error).__name__)
    return removed


async def purge_forever(stores: Sequence[Purgeable], interval_s: float = PURGE_INTERVAL_S) -> None:
    """Uploads, record analyses and triage records past retention: now, then every hour."""
    while True:
        await asyncio.to_thread(purge_once, stores)
        await asyncio.sleep(interval_s)


async def serve(settings: Settings) -> None:
    """Run the gateway (and Telegram) until cancelled."""
    import uvicorn

    from bot.web.app import create_app

    gateway = build_gateway(settings)
    app = create_app(gateway)
    telegram = await _start_telegram(settings, gateway, app)
    config = uvicorn.Config(
        app, host=settings.web.host, port=settings.web.port, access_log=False,
        log_level="warning", proxy_headers=False, server_header=False,
    )  # fmt: skip
    server = uvicorn.Server(config)
    stores = [gateway.store, gateway.analyses, *([gateway.triage] if gateway.triage else [])]
    purge = asyncio.create_task(purge_forever(stores))
    base = settings.web.public_url or f"http://{settings.web.host}:{settings.web.port}"
    logger.info(
        "edge up: web widget and demo page on %s/ (clinics: %s); REST API on %s/api/v1; "
        "Telegram: %s; relaying to Rasa at %s",
        base, ", ".join(gateway.clinics.keys), base, telegram[0], settings.rasa.url,
    )  # fmt: skip
    try:
        await server.serve()
    finally:
        purge.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await purge
        if telegram[1] is not None:
            from bot.telegram.app import stop_telegram

            await stop_telegram(telegram[1])
        await gateway.rasa.aclose()


async def _start_telegram(settings: Settings, gateway: Gateway, web: Any) -> tuple[str, Any]:
    """("off"/"polling"/"webhook", application or None); a failure leaves the web side up."""
    if not settings.telegram.bot_token.get_secret_value():
        return "off (set TELEGRAM_BOT_TOKEN to enable)", None
    from bot.telegram.app import build_application, start_telegram, telegram_webhook_route

    application = build_application(settings, gateway.rasa, gateway.store, gateway.secret)
    if settings.telegram.mode == "webhook":
        secret = settings.telegram.webhook_secret.get_secret_value()
        web.router.routes.append(telegram_webhook_route(application, secret))
    try:
        await start_telegram(application, settings)
    except Exception as error:  # a bad token must not take the web widget down
        logger.error("Telegram did not start (%s); web channels stay up", type(error).__name__)
        return f"failed ({type(error).__name__})", None
    return settings.telegram.mode, application

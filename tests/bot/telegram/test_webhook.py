"""Webhook mode: the secret header, bad bodies, set_webhook, and updates reaching the handlers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from telegram import Update
from telegram.ext import Application

from bot.telegram import build_application, start_telegram, stop_telegram, telegram_webhook_route
from healthbot.stores.uploads import LocalUploadStore
from tests.bot.support import FakeRasa
from tests.fakes.telegram_api import FakeTelegramAPI, LoopThread

from .conftest import SECRET, make_settings

WEBHOOK_SECRET = "s3cret-Token_for-webhooks"
HEADER = "X-Telegram-Bot-Api-Secret-Token"
UPDATE = {
    "update_id": 1,
    "message": {
        "message_id": 5,
        "date": 0,
        "chat": {"id": 8, "type": "private"},
        "from": {"id": 8, "is_bot": False, "first_name": "P"},
        "text": "/help",
        "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
    },
}


@pytest.fixture
def api() -> Iterator[FakeTelegramAPI]:
    with FakeTelegramAPI() as fake:
        yield fake


def make_app(api: FakeTelegramAPI, tmp_path: Path, **overrides: object) -> Application:
    settings = make_settings(api, tmp_path, **overrides)
    store = LocalUploadStore(settings.uploads.dir, settings.uploads.max_bytes, 10**7, 30)
    return build_application(settings, FakeRasa(), store, SECRET)


@pytest.fixture
def client(api: FakeTelegramAPI, tmp_path: Path) -> Iterator[tuple[TestClient, Application]]:
    app = make_app(api, tmp_path)  # not started: updates stay on its queue
    web = Starlette(routes=[telegram_webhook_route(app, WEBHOOK_SECRET)])
    with TestClient(web, raise_server_exceptions=False) as test_client:
        yield test_client, app


def test_the_right_secret_queues_the_update(client: tuple[TestClient, Application]) -> None:
    test_client, app = client
    response = test_client.post("/telegram/webhook", json=UPDATE, headers={HEADER: WEBHOOK_SECRET})
    assert response.status_code == 200
    queued = app.update_queue.get_nowait()
    assert isinstance(queued, Update) and queued.message.text == "/help"


@pytest.mark.parametrize("headers", [{HEADER: "wrong"}, {}, {HEADER: WEBHOOK_SECRET + "x"}])
def test_a_wrong_or_missing_secret_is_refused(
    client: tuple[TestClient, Application], headers: dict[str, str]
) -> None:
    test_client, app = client
    response = test_client.post("/telegram/webhook", json=UPDATE, headers=headers)
    assert response.status_code == 401
    assert app.update_queue.empty()


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2]", b'"text"', b"{}", b'{"update_id": "x", "message": 5}', b"\xff\xfe"],
)
def test_bad_bodies_get_400_never_500(client: tuple[TestClient, Application], body: bytes) -> None:
    test_client, app = client
    headers = {HEADER: WEBHOOK_SECRET, "content-type": "application/json"}
    response = test_client.post("/telegram/webhook", content=body, headers=headers)
    assert response.status_code == 400
    assert app.update_queue.empty()


def test_only_post_is_routed(client: tuple[TestClient, Application]) -> None:
    test_client, _ = client
    assert test_client.get("/telegram/webhook", headers={HEADER: WEBHOOK_SECRET}).status_code == 405


def test_an_empty_configured_secret_refuses_everything(
    api: FakeTelegramAPI, tmp_path: Path
) -> None:
    web = Starlette(routes=[telegram_webhook_route(make_app(api, tmp_path), "")])
    with TestClient(web) as test_client:
        assert (
            test_client.post("/telegram/webhook", json=UPDATE, headers={HEADER: ""}).status_code
            == 401
        )


def test_webhook_mode_registers_the_url_and_handles_posted_updates(
    api: FakeTelegramAPI, tmp_path: Path
) -> None:
    url = "https://clinic.example/telegram/webhook"
    settings = make_settings(
        api, tmp_path, telegram_mode="webhook", telegram_webhook_url=url,
        telegram_webhook_secret=WEBHOOK_SECRET,
    )  # fmt: skip
    store = LocalUploadStore(settings.uploads.dir, settings.uploads.max_bytes, 10**7, 30)
    app = build_application(settings, FakeRasa(), store, SECRET)
    web = Starlette(routes=[telegram_webhook_route(app, WEBHOOK_SECRET)])
    loop = LoopThread()
    try:
        loop.run(start_telegram(app, settings))
        (call,) = api.calls_to("setWebhook")
        assert call.params["url"] == url and call.params["secret_token"] == WEBHOOK_SECRET
        assert api.calls_to("getUpdates") == []  # no polling in webhook mode

        async def post() -> int:  # on the bot's own loop, as in the edge's one process
            transport = httpx.ASGITransport(app=web)
            async with httpx.AsyncClient(transport=transport, base_url="http://edge") as http:
                response = await http.post(
                    "/telegram/webhook", json=UPDATE, headers={HEADER: WEBHOOK_SECRET}
                )
                return response.status_code

        assert loop.run(post()) == 200
        api.wait_for_text(8, "/forget: delete")
    finally:
        loop.run(stop_telegram(app))
        loop.close()


def test_webhook_mode_needs_a_url_and_a_secret(api: FakeTelegramAPI, tmp_path: Path) -> None:
    settings = make_settings(api, tmp_path, telegram_mode="webhook", telegram_webhook_url="")
    app = make_app(api, tmp_path)
    with pytest.raises(ValueError, match="WEBHOOK_URL"):
        asyncio.run(start_telegram(app, settings))
    assert api.calls_to("getMe") == []


def test_a_missing_token_is_a_clear_error(api: FakeTelegramAPI, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="TELEGRAM_BOT_TOKEN"):
        make_app(api, tmp_path, TELEGRAM_BOT_TOKEN="")

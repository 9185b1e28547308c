"""Webhook mode: Telegram POSTs updates to the web gateway, which queues them for the bot.

Telegram sends the secret given to ``set_webhook`` in ``X-Telegram-Bot-Api-Secret-Token``;
anything without it is refused, so nobody else can inject updates. Bad input gets a 4xx, never a
500 (Telegram would retry it forever).
"""

from __future__ import annotations

import hmac
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application

from healthbot import jsonsafe

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
MAX_BODY_BYTES = 1024 * 1024  # updates carry file ids, not files


def telegram_webhook_route(app: Application, secret: str, path: str = "/telegram/webhook") -> Route:
    """``POST path``: checks the secret header, parses the update, puts it on the bot's queue."""
    expected = secret.encode()

    async def receive_update(request: Request) -> Response:
        supplied = request.headers.get(SECRET_HEADER, "").encode()
        if not expected or not hmac.compare_digest(supplied, expected):
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        declared = request.headers.get("content-length", "")
        if not declared.isdigit():
            return JSONResponse({"error": "Content-Length required"}, status_code=411)
        if int(declared) > MAX_BODY_BYTES:
            return JSONResponse({"error": "body too large"}, status_code=413)
        body = await request.body()
        try:
            data = jsonsafe.loads(body)
            update = Update.de_json(data, app.bot) if isinstance(data, dict) else None
        except Exception as error:  # malformed JSON or a shape PTB can't read: the sender's fault
            logger.warning("webhook update refused (%s)", type(error).__name__)
            update = None
        if update is None:
            return JSONResponse({"error": "not a Telegram update"}, status_code=400)
        await app.update_queue.put(update)
        return Response(status_code=200)

    return Route(path, receive_update, methods=["POST"])

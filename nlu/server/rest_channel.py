"""The REST channel with its input checked before Rasa sees it.

Rasa's own REST channel answers 500 to a body that is not a JSON object, passes any JSON
type on as the message, and logs the message text when handling fails. This channel keeps
the same URL and reply format (``POST /webhooks/rest/webhook`` with ``sender`` and
``message``; a JSON list of replies back) but refuses malformed requests with a 4xx and a
plain explanation, caps the message size, strips control characters, and never logs
content. It is the only channel Rasa serves; the edge (bot/) relays to it on loopback.
"""

from __future__ import annotations

import json
import logging
from asyncio import CancelledError
from typing import Any, Awaitable, Callable, Optional

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from healthbot import jsonsafe
from healthbot.contract import clean_text
from healthbot.settings import get_settings
from nlu.server import perf

logger = logging.getLogger(__name__)

# The Rasa server imports this channel at start-up: the right moment to install the fix.
perf.apply()

MAX_MESSAGE_CHARS = get_settings().max_message_chars
MAX_SENDER_CHARS = 128
MAX_BODY_BYTES = 256 * 1024
EMPTY_REPLY = "I didn't get any text there. What would you like to ask or tell me?"


class RequestError(ValueError):
    """A request the channel refuses; carries the HTTP status and a readable reason."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail

    def as_response(self) -> HTTPResponse:
        return response.json({"error": self.code, "detail": self.detail}, status=self.status)


def parse_body(raw: bytes) -> dict[str, Any]:
    """The request body as a JSON object, or a RequestError saying what is wrong."""
    if len(raw) > MAX_BODY_BYTES:
        raise RequestError(
            413, "body_too_large", f"Requests can be at most {MAX_BODY_BYTES} bytes."
        )
    try:
        body = jsonsafe.loads(raw)
    except jsonsafe.JsonTooDeep:
        raise RequestError(400, "too_deep", "The JSON is nested too deeply.") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise RequestError(400, "invalid_json", "The body must be UTF-8 JSON.") from None
    if not isinstance(body, dict):
        raise RequestError(
            400, "invalid_body", 'The body must be a JSON object: {"sender", "message"}.'
        )
    return body


def checked_fields(
    body: dict[str, Any],
) -> tuple[str, str, Optional[dict[str, Any]], Optional[str]]:
    """(sender, message, metadata, input_channel) after type and size checks."""
    sender = body.get("sender", "default")
    if not isinstance(sender, str) or not 0 < len(sender) <= MAX_SENDER_CHARS:
        raise RequestError(
            400, "invalid_sender", f"'sender' must be a string of 1-{MAX_SENDER_CHARS} characters."
        )
    message = body.get("message")
    if not isinstance(message, str):
        raise RequestError(400, "invalid_message", "'message' must be a string.")
    if len(message) > MAX_MESSAGE_CHARS:
        raise RequestError(
            413,
            "message_too_long",
            f"Messages can be at most {MAX_MESSAGE_CHARS} characters; please send a shorter one.",
        )
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise RequestError(400, "invalid_metadata", "'metadata' must be a JSON object.")
    channel = body.get("input_channel")
    if channel is not None and (not isinstance(channel, str) or len(channel) > 32):
        raise RequestError(400, "invalid_input_channel", "'input_channel' must be a short string.")
    return sender, clean_text(message), metadata, channel


class GuardedRestInput(RestInput):
    """Rasa's REST channel (same URL and replies) with input checks and no content in logs."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                sender, text, metadata, channel = checked_fields(parse_body(request.body or b""))
            except RequestError as error:
                return error.as_response()
            if not text:
                return response.json([{"recipient_id": sender, "text": EMPTY_REPLY}])
            collector = CollectingOutputChannel()
            message = UserMessage(
                text, collector, sender, input_channel=channel or self.name(), metadata=metadata
            )
            try:
                await on_new_message(message)
            except CancelledError:
                logger.error("REST message timed out (%d characters).", len(text))
            except Exception as error:
                logger.error("REST message failed: %s", type(error).__name__)
                return response.json(
                    {"error": "internal", "detail": "Something went wrong; please try again."},
                    status=503,
                )
            return response.json(collector.messages)

        return webhook

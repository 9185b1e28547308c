"""Rasa's replies in Telegram's terms: message-sized text, inline keyboards, callback data.

Text goes out as plain text (no ``parse_mode``): the domain's responses are plain, and plain text
shows every character (``*_[]()~`>#+-=|{}.!``) exactly as written, with nothing to escape wrongly.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Iterable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import InlineKeyboardButtonLimit, MessageLimit

from bot.conversation import Button

MAX_TEXT = MessageLimit.MAX_TEXT_LENGTH  # 4096, counted in UTF-16 code units
MAX_CALLBACK_BYTES = InlineKeyboardButtonLimit.MAX_CALLBACK_DATA  # 64


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (characters outside the BMP count twice)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """``text`` in pieces Telegram accepts, cut at a line break or space where possible."""
    pieces: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        head = rest[:limit]
        while utf16_len(head) > limit:  # astral characters: shorten until it fits
            head = head[:-1]
        cut = max(head.rfind("\n"), head.rfind(" "))
        if cut <= len(head) // 2:  # no good break point: cut hard
            cut = len(head)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not pieces:
        pieces.append(rest)
    return pieces


class ButtonPayloads:
    """Callback data for Rasa payloads: the payload itself, or a short token when it is too long.

    Telegram caps callback data at 64 bytes; longer payloads (``/inform{...}`` with entities)
    are kept here, in memory and bounded (oldest first out). A token that has been dropped, or
    that a restart forgot, decodes to None and the patient is asked to type the answer.
    """

    PREFIX = "~p:"

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._by_token: OrderedDict[str, str] = OrderedDict()
        self._by_payload: dict[str, str] = {}

    def encode(self, payload: str) -> str:
        """Callback data for ``payload`` (at most 64 bytes)."""
        if len(payload.encode()) <= MAX_CALLBACK_BYTES and not self._is_token(payload):
            return payload
        token = self._by_payload.get(payload)
        if token is None:
            token = self.PREFIX + secrets.token_urlsafe(9)  # 12 characters
            self._by_token[token], self._by_payload[payload] = payload, token
            while len(self._by_token) > self.max_entries:
                _, dropped = self._by_token.popitem(last=False)
                self._by_payload.pop(dropped, None)
        self._by_token.move_to_end(token)
        return token

    def decode(self, data: str) -> str | None:
        """The payload behind callback ``data``; None when its token is no longer known."""
        if not self._is_token(data):
            return data
        payload = self._by_token.get(data)
        if payload is not None:
            self._by_token.move_to_end(data)
        return payload

    def __len__(self) -> int:
        return len(self._by_token)

    def _is_token(self, data: str) -> bool:
        return data.startswith(self.PREFIX)


def keyboard(buttons: Iterable[Button], payloads: ButtonPayloads) -> InlineKeyboardMarkup | None:
    """One button per row (titles can be long); None when there are no buttons."""
    rows = [
        [InlineKeyboardButton(button.title, callback_data=payloads.encode(button.payload))]
        for button in buttons
    ]
    return InlineKeyboardMarkup(rows) if rows else None


def button_title(markup: InlineKeyboardMarkup | None, data: str) -> str | None:
    """The title of the button in ``markup`` that carries ``data`` (what the patient tapped)."""
    for row in markup.inline_keyboard if markup else ():
        for button in row:
            if button.callback_data == data:
                return button.text
    return None

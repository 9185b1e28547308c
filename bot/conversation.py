"""The conversation core every channel shares: turns to Rasa, uploads, and one reply shape.

A channel (the web gateway's two doors, Telegram) admits a patient and renders what comes back;
everything between is here, so the channels cannot drift apart: how text is cleaned and capped
(``healthbot.contract.clean_text``, ``settings.max_message_chars``), which intent and metadata
announce an upload, that a caption goes to Rasa first (red flags in it get answered), how Rasa's
replies are read (text, buttons, images, the "forgotten" and record-analysis events), and that an
``upload:<id>`` image is shown only to the conversation that owns the file.

Nothing here logs what a patient wrote; a conversation appears in logs as ``short(sender)``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from bot.rasa_client import Rasa, RasaUnavailable
from bot.ratelimit import RateLimiter
from bot.senders import short
from healthbot.contract import (
    ANALYSIS_ID,
    EVENT_EHR_ANALYSIS,
    EVENT_FORGOTTEN,
    EVENT_TRIAGE,
    META_CHANNEL,
    META_KIND,
    META_UPLOAD_ID,
    TRIAGE_ID,
    UPLOAD_REF_PREFIX,
    Channel,
    clean_text,
    upload_intent,
)
from healthbot.stores.uploads import UploadInfo, UploadNotFound, UploadStore

logger = logging.getLogger(__name__)

UNAVAILABLE = "Sorry, I can't reach the assistant right now. Please try again in a minute."
WEB_SCHEMES = ("https://", "http://")


@dataclass(frozen=True)
class StoredImage:
    """An image reply naming a stored upload; each channel renders it (bytes or a URL)."""

    upload_id: str


Image = StoredImage | str  # a str is an http(s) URL


@dataclass(frozen=True)
class Button:
    """A suggested answer: ``payload`` is what goes to Rasa when the patient picks it."""

    title: str
    payload: str


@dataclass(frozen=True)
class Reply:
    """One message from the assistant; at least one of the three parts is set."""

    text: str | None = None
    buttons: tuple[Button, ...] = ()
    image: Image | None = None


@dataclass(frozen=True)
class Turn:
    """What one patient message (or upload) brought back, the same for every channel."""

    replies: tuple[Reply, ...] = ()
    forgotten: bool = False  # the conversation was erased: channels drop their copies too
    analyses: tuple[str, ...] = ()  # record analyses stored this turn (fetched by id)
    triage: tuple[str, ...] = ()  # triage records stored this turn (fetched by id)
    upload: UploadInfo | None = None  # the file this turn announced, if any
    rasa_s: float = field(default=0.0, compare=False)  # time spent waiting for Rasa

    def __add__(self, later: Turn) -> Turn:
        """Two turns answered as one (a caption, then its file)."""
        return Turn(
            self.replies + later.replies,
            self.forgotten or later.forgotten,
            self.analyses + later.analyses,
            self.triage + later.triage,
            later.upload or self.upload,
            self.rasa_s + later.rasa_s,
        )


class TextRefused(ValueError):
    """A message the core will not relay; ``detail`` is a sentence for the patient."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


class RateLimited(Exception):
    """Too many messages in this conversation; the next one is welcome after ``retry_after_s``."""

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"retry after {retry_after_s:.1f} s")
        self.retry_after_s = retry_after_s


def parse_replies(raw: Iterable[Any]) -> Turn:
    """Rasa's REST replies as one Turn: custom events become flags, junk is dropped."""
    replies, forgotten, analyses, triage = [], False, [], []
    for item in raw:
        if not isinstance(item, dict):
            continue
        custom = item.get("custom")
        if isinstance(custom, dict):
            forgotten = forgotten or custom.get("event") == EVENT_FORGOTTEN
            analysis = custom.get(ANALYSIS_ID)
            if custom.get("event") == EVENT_EHR_ANALYSIS and isinstance(analysis, str):
                analyses.append(analysis)
            record = custom.get(TRIAGE_ID)
            if custom.get("event") == EVENT_TRIAGE and isinstance(record, str):
                triage.append(record)
        reply = _reply(item)
        if reply is not None:
            replies.append(reply)
    return Turn(tuple(replies), forgotten, tuple(analyses), tuple(triage))


def _reply(item: dict[str, Any]) -> Reply | None:
    text = item.get("text")
    text = text if isinstance(text, str) and text.strip() else None
    buttons = tuple(_buttons(item.get("buttons")))
    image = _image(item.get("image"))
    return Reply(text, buttons, image) if text or buttons or image else None


def _buttons(raw: object) -> Iterable[Button]:
    """Buttons with a payload; a missing title shows the payload (better than a blank button)."""
    for button in raw if isinstance(raw, list) else ():
        payload = button.get("payload") if isinstance(button, dict) else None
        if isinstance(payload, str) and payload:
            yield Button(str(button.get("title") or payload), payload)


def _image(raw: object) -> Image | None:
    """``upload:<id>`` or an http(s) URL; anything else (``javascript:``, data URLs) is dropped."""
    if not isinstance(raw, str) or not raw:
        return None
    if raw.startswith(UPLOAD_REF_PREFIX):
        return StoredImage(raw.removeprefix(UPLOAD_REF_PREFIX))
    if raw.startswith(WEB_SCHEMES):
        return raw
    logger.warning("image reply with an unsupported reference dropped")
    return None


@dataclass
class Conversations:
    """The edge's conversations with Rasa, for any channel (tests pass fakes for every part)."""

    rasa: Rasa
    store: UploadStore
    max_chars: int
    limiter: RateLimiter | None = None

    def pace(self, sender: str) -> None:
        """Count one patient message; raises RateLimited when the conversation goes too fast."""
        if self.limiter is not None and not self.limiter.allow(sender):
            logger.info("rate limited %s", short(sender))
            raise RateLimited(self.limiter.retry_after(sender))

    def checked_text(self, text: str) -> str:
        """The text as Rasa gets it: cleaned by the shared rule, non-empty, within the limit."""
        cleaned = clean_text(text)
        if not cleaned:
            raise TextRefused("empty_text", "The message is empty.")
        if len(cleaned) > self.max_chars:
            raise TextRefused(
                "text_too_long", f"Messages can be at most {self.max_chars} characters."
            )
        return cleaned

    async def say(self, sender: str, text: str) -> Turn:
        """A text turn (typed text, a tapped button's payload or a command's intent)."""
        return await self._relay(sender, self.checked_text(text))

    async def say_caption(self, sender: str, caption: object) -> Turn:
        """A file's caption as its own turn; a missing or blank caption is no turn at all."""
        text = self._caption(caption)
        return await self._relay(sender, text) if text else Turn()

    async def save(self, sender: str, data: bytes, filename: str | None) -> UploadInfo:
        """Store a file for ``sender``, checked by content; raises UploadRejected."""
        return await asyncio.to_thread(self.store.save, sender, data, filename)

    async def announce(self, sender: str, info: UploadInfo, channel: Channel) -> Turn:
        """Tell Rasa about a stored file: its kind's intent, with the id as metadata."""
        metadata = {META_UPLOAD_ID: info.id, META_KIND: info.kind, META_CHANNEL: channel}
        turn = await self._relay(sender, upload_intent(info.kind), metadata)
        return replace(turn, upload=info)

    async def upload(
        self, sender: str, data: bytes, filename: str | None, caption: object, channel: Channel
    ) -> Turn:
        """Store the file, then the caption's turn, then the file's: one Turn for both."""
        self._caption(caption)  # a refused caption must not leave a stored file behind
        info = await self.save(sender, data, filename)
        return await self.say_caption(sender, caption) + await self.announce(sender, info, channel)

    async def image_bytes(self, image: StoredImage) -> bytes | None:
        """A stored image's bytes (already checked to be the sender's); None once it is gone."""
        try:
            return await asyncio.to_thread(self.store.read, image.upload_id)
        except UploadNotFound:
            return None

    def _caption(self, caption: object) -> str | None:
        if not isinstance(caption, str) or not clean_text(caption):
            return None
        return self.checked_text(caption)

    async def _relay(self, sender: str, text: str, metadata: dict[str, Any] | None = None) -> Turn:
        """One turn through Rasa; raises RasaUnavailable (logged here, once, without content)."""
        started = time.perf_counter()
        try:
            raw = await self.rasa.send(sender, text, metadata)
        except RasaUnavailable as error:
            logger.warning("Rasa unavailable for %s (%s)", short(sender), error)
            raise
        turn = replace(parse_replies(raw), rasa_s=time.perf_counter() - started)
        if any(isinstance(reply.image, StoredImage) for reply in turn.replies):
            turn = await asyncio.to_thread(self._own_images, sender, turn)
        return turn

    def _own_images(self, sender: str, turn: Turn) -> Turn:
        """Drop ``upload:`` images that are missing, not images, or not this sender's."""
        kept = []
        for reply in turn.replies:
            if isinstance(reply.image, StoredImage) and not self._owns(sender, reply.image):
                reply = replace(reply, image=None)
            if reply.text or reply.buttons or reply.image:
                kept.append(reply)
        return replace(turn, replies=tuple(kept))

    def _owns(self, sender: str, image: StoredImage) -> bool:
        try:
            info = self.store.info(image.upload_id)
        except UploadNotFound:
            logger.warning("image reply names a missing upload for %s", short(sender))
            return False
        if info.owner != sender or info.kind != "image":
            logger.warning("image reply refused for %s (owner/kind)", short(sender))
            return False
        return True

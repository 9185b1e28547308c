"""The Telegram channel end to end: the real bot, the real Rasa and action server, a fake Bot API.

The bot runs in this process (its own asyncio loop in a thread) against ``FakeTelegramAPI``, and
reaches Rasa through a TCP proxy that a test can stop and restart to play "Rasa went down".
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image

from bot.rasa_client import RasaClient
from bot.senders import load_secret, sender_id
from bot.telegram import build_application, start_telegram, stop_telegram
from healthbot.stores.consent import ConsentStore
from healthbot.stores.uploads import LocalUploadStore
from tests.bot.support import edge_settings
from tests.fakes.telegram_api import FakeTelegramAPI, LoopThread, free_port

from .conftest import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TURN_S = 60.0  # generous: the first turns may load models
ADVICE = "My advice:"
# Words these tests send or upload; none may appear in the edge's log.
SENT = ["hi there", "forget me", "sore throat", "my throat", "lab-results", "ferritin"]


class TcpProxy:
    """Forwards a loopback port to Rasa; ``stop`` refuses connections, ``start`` resumes."""

    def __init__(self, target_url: str) -> None:
        parts = urlsplit(target_url)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        """Close the port and every connection through it (clients then get refused)."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            connections, self._open = self._open, set()
        for connection in connections:
            _close(connection)

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close(client)
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for connection in (source, target):
                _close(connection)
                with self._lock:
                    self._open.discard(connection)


def _close(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)
    connection.close()


@dataclass
class Edge:
    """The bot as the edge runs it, and what the tests need to drive and inspect it."""

    api: FakeTelegramAPI
    proxy: TcpProxy
    store: LocalUploadStore
    consent: ConsentStore
    secret: bytes
    uploads_dir: Path
    log: Path

    def sender(self, chat_id: int) -> str:
        return sender_id(self.secret, "tg", str(chat_id))

    def wait_texts(
        self, chat_id: int, since: int, done: Callable[[list[str]], bool], timeout: float = TURN_S
    ) -> list[str]:
        """The bot's texts to ``chat_id`` after ``since``, once ``done(texts)`` holds."""
        self.api.wait_until(lambda: done(self.api.texts(chat_id, since)), timeout)
        return self.api.texts(chat_id, since)

    def wait_reply(self, chat_id: int, since: int, *phrases: str) -> list[str]:
        """The bot's texts after ``since``, once one of them contains one of ``phrases``."""
        return self.wait_texts(
            chat_id, since, lambda texts: any(p in text for p in phrases for text in texts)
        )

    def say(self, chat_id: int, text: str, expect: str) -> list[str]:
        """Send ``text``; wait for a reply containing ``expect``; return all replies since."""
        since = self.api.mark()
        self.api.push_text(chat_id, text)
        return self.wait_reply(chat_id, since, expect)

    def tap(self, chat_id: int, data: str, expect: str) -> list[str]:
        """Tap the bot's latest button carrying ``data``; wait for a reply containing ``expect``."""
        since = self.api.mark()
        self.api.push_callback(chat_id, data)
        return self.wait_reply(chat_id, since, expect)

    def agree(self, chat_id: int) -> None:
        self.say(chat_id, "/start", "Do you agree?")
        self.tap(chat_id, "consent:yes", "How can I help")

    def uploads_of(self, chat_id: int) -> list[str]:
        """Ids of the uploads the store holds for this chat's sender."""
        owner = self.sender(chat_id)
        metas = self.uploads_dir.glob("*.json") if self.uploads_dir.is_dir() else []
        return sorted(m.stem for m in metas if json.loads(m.read_text())["owner"] == owner)


@pytest.fixture(scope="module")
def edge(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    log = tmp_path_factory.mktemp("edge") / "telegram-edge.log"
    handler = logging.FileHandler(log)
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    stack.logs.append(log)

    proxy = TcpProxy(stack.rasa_url)
    proxy.start()
    loop = LoopThread()
    with FakeTelegramAPI() as api:
        settings = edge_settings(
            TELEGRAM_BOT_TOKEN=api.token,
            telegram_base_url=api.base_url,
            telegram_base_file_url=api.base_file_url,
            rasa_url=proxy.url,
            state_dir=stack.state_dir,
            uploads_dir=stack.uploads_dir,
            telegram_rate_per_minute=600,
        )
        rasa = RasaClient(settings.rasa.url, timeout_s=settings.rasa.timeout_s)
        store = LocalUploadStore(
            settings.uploads.dir,
            settings.uploads.max_bytes,
            settings.uploads.max_pixels,
            settings.uploads.retention_days,
        )
        secret = load_secret(settings.sender_secret.get_secret_value(), settings.state_dir)
        consent = ConsentStore.in_state_dir(settings.state_dir)
        app = build_application(settings, rasa, store, secret, consent)
        loop.run(start_telegram(app, settings))
        try:
            yield Edge(api, proxy, store, consent, secret, stack.uploads_dir, log)
        finally:
            loop.run(stop_telegram(app))
            loop.run(rasa.aclose())
            loop.close()
            proxy.stop()
            root.removeHandler(handler)
            root.setLevel(previous_level)
            handler.close()


def jpeg(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (180, 90, 80)).save(buffer, format="JPEG")
    return buffer.getvalue()


def test_start_consent_then_a_greeting(edge: Edge) -> None:
    chat = 910_001
    notice = edge.say(chat, "/start", "Do you agree?")[-1]
    assert "not a doctor" in notice and "/forget" in notice
    edge.say(chat, "hi there", "please agree")  # before agreeing: only a reminder
    edge.agree(chat)
    assert edge.consent.has(edge.sender(chat))
    replies = edge.say(chat, "hi there", "health assistant")
    assert any("Hello" in reply for reply in replies), replies


def test_a_button_tap_answers_rasas_question(edge: Edge) -> None:
    chat = 910_002
    edge.agree(chat)
    since = edge.api.mark()
    edge.api.push_text(chat, "forget me")
    question = edge.api.wait_for(
        "sendMessage", lambda call: call.chat_id == chat and bool(call.buttons), TURN_S, since
    )
    assert "delete" in question.text
    assert {b["callback_data"] for b in question.buttons} == {"/affirm", "/deny"}
    replies = edge.tap(chat, "/deny", "kept everything")
    assert replies[0] == "You chose: No, keep it"


def test_a_photo_reaches_the_action_by_its_upload_id(edge: Edge) -> None:
    chat = 910_003
    edge.agree(chat)
    since = edge.api.mark()
    edge.api.push_photo(chat, jpeg(64, 48))
    replies = edge.wait_reply(chat, since, "received your photo")
    (upload_id,) = edge.uploads_of(chat)
    assert any(f"(64×48, ref {upload_id[:8]})" in reply for reply in replies), replies
    assert (edge.uploads_dir / f"{upload_id}.data").is_file()


def test_a_document_reaches_the_action_by_its_upload_id(edge: Edge) -> None:
    chat = 910_004
    edge.agree(chat)
    since = edge.api.mark()
    edge.api.push_document(chat, b"ferritin 35 ug/L\n", "lab-results.txt", "text/plain")
    replies = edge.wait_reply(chat, since, "received your text document")
    (upload_id,) = edge.uploads_of(chat)
    assert any(f"ref {upload_id[:8]}" in reply for reply in replies), replies
    assert (edge.uploads_dir / f"{upload_id}.data").read_bytes() == b"ferritin 35 ug/L\n"


def test_forget_deletes_the_uploads_and_withdraws_consent(edge: Edge) -> None:
    chat = 910_005
    edge.agree(chat)
    since = edge.api.mark()
    edge.api.push_photo(chat, jpeg(32, 32))
    edge.wait_reply(chat, since, "received your photo")
    assert len(edge.uploads_of(chat)) == 1
    since = edge.api.mark()
    edge.api.push_text(chat, "/forget")
    edge.api.wait_for(
        "sendMessage", lambda call: call.chat_id == chat and bool(call.buttons), TURN_S, since
    )
    edge.tap(chat, "/affirm", "deleted this conversation")
    edge.api.wait_until(lambda: not edge.consent.has(edge.sender(chat)))
    assert edge.uploads_of(chat) == []
    edge.say(chat, "hello", "please agree")  # nothing goes to Rasa any more


def test_rasa_down_then_up_again(edge: Edge) -> None:
    chat = 910_006
    edge.agree(chat)
    since = edge.api.mark()
    edge.api.push_text(chat, "i've got a sore throat")
    replies = edge.wait_reply(chat, since, "?")
    asked = next(reply for reply in reversed(replies) if reply.endswith("?"))

    edge.proxy.stop()
    try:
        edge.say(chat, "no", "can't reach the assistant")
    finally:
        edge.proxy.start()

    # Back up: the same answer continues the questions where they stopped.
    since = edge.api.mark()
    edge.api.push_text(chat, "no")
    replies = edge.wait_reply(chat, since, "?", ADVICE)
    assert not any(asked.split("\n")[-1] in reply for reply in replies), replies  # not again
    assert not any("can't reach" in reply for reply in replies), replies


def test_the_edge_log_holds_no_content_chat_ids_or_token(edge: Edge) -> None:
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = edge.log.read_text()
    assert "consent granted" in text  # the log is being written ...
    leaked = [word for word in SENT if word in text.lower()]
    assert not leaked, f"the edge log contains message content: {leaked}"
    assert edge.api.token not in text
    assert not [chat for chat in range(910_001, 910_007) if str(chat) in text]

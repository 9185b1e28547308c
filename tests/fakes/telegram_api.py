"""A fake Telegram Bot API on loopback, for running the real bot (python-telegram-bot) in tests.

It speaks the subset the edge uses (getMe, getUpdates with long polling, sendMessage,
sendChatAction, sendPhoto, getFile + file download, answerCallbackQuery, editMessageReplyMarkup,
setWebhook, deleteWebhook, getWebhookInfo), validates what real Telegram validates where it
matters (text length, callback data of 1-64 bytes, known file ids, the token), and records every
call. Tests inject updates with ``push_*`` and wait for what the bot sent with ``wait_for``.

    with FakeTelegramAPI() as api:
        settings = edge_settings(TELEGRAM_BOT_TOKEN=api.token, telegram_base_url=api.base_url,
                                 telegram_base_file_url=api.base_file_url)  # tests/bot/support.py
        ...
        api.push_text(42, "/start")
        api.wait_for("sendMessage", lambda call: call.chat_id == 42)
"""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import socket
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

T = TypeVar("T")

BOT_ID = 7_000_000
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "Clinic bot", "username": "clinic_bot"}
# Form fields PTB JSON-encodes (everything else is sent as the plain string).
JSON_FIELDS = {
    "chat_id", "message_id", "reply_markup", "allowed_updates", "offset", "timeout", "limit",
    "link_preview_options", "show_alert", "cache_time", "drop_pending_updates", "max_connections",
    "entities", "caption_entities", "disable_notification", "protect_content",
}  # fmt: skip


@dataclass
class Call:
    """One request the bot made: the method, its parameters, and uploaded files' bytes."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    @property
    def text(self) -> str:
        return str(self.params.get("text", ""))

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """The inline keyboard's buttons, flattened ({"text", "callback_data"})."""
        markup = self.params.get("reply_markup") or {}
        return [button for row in markup.get("inline_keyboard", []) for button in row]


class TelegramError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code, self.description = code, description


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakeTelegramAPI:
    """The fake server; start/stop it, or use it as a context manager."""

    def __init__(self, token: str = "123456:TEST-fake-token", port: int | None = None) -> None:
        self.token = token
        self.port = port or free_port()
        self.calls: list[Call] = []
        self.webhook_url = ""
        self._lock = threading.Lock()
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._file_ids = itertools.count(1)
        self._files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, data)
        self._sent: dict[tuple[int, int], dict[str, Any]] = {}  # the bot's messages
        self._query_ids = itertools.count(1)
        self._stopping = False
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    def start(self) -> FakeTelegramAPI:
        app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._api, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._download, methods=["GET"]),
            ]
        )
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning",
            timeout_graceful_shutdown=1, lifespan="off",
        )  # fmt: skip
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True, name="fake-tg")
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake Telegram API did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._stopping = True  # ends pending long polls
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> FakeTelegramAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what tests push -------------------------------------------------------------------

    def push_update(self, body: dict[str, Any]) -> dict[str, Any]:
        """Queue an update (``update_id`` is added) for the next getUpdates."""
        with self._lock:
            update = {"update_id": next(self._update_ids), **body}
            self._updates.append(update)
        return update

    def push_text(self, chat_id: int, text: str) -> dict[str, Any]:
        """A private-chat text message; a leading ``/command`` gets its bot_command entity."""
        message = self._message(chat_id, text=text)
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return self.push_update({"message": message})

    def push_photo(
        self, chat_id: int, jpeg: bytes, caption: str | None = None, file_size: int | None = None
    ) -> dict[str, Any]:
        """A photo in two sizes, as Telegram sends it: a thumbnail first, the original last."""
        width, height = _image_size(jpeg)
        thumb_id = self.add_file(jpeg[: max(1, len(jpeg) // 4)], "photos/thumb.jpg")
        full_id = self.add_file(jpeg, "photos/photo.jpg")
        sizes = [
            _photo_size(thumb_id, max(1, width // 4), max(1, height // 4), len(jpeg) // 4),
            _photo_size(full_id, width, height, len(jpeg) if file_size is None else file_size),
        ]
        message = self._message(chat_id, photo=sizes)
        if caption is not None:
            message["caption"] = caption
        return self.push_update({"message": message})

    def push_document(
        self,
        chat_id: int,
        data: bytes,
        file_name: str | None,
        mime: str | None,
        caption: str | None = None,
        file_size: int | None = None,
    ) -> dict[str, Any]:
        file_id = self.add_file(data, f"documents/file_{next(self._file_ids)}")
        document: dict[str, Any] = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(data) if file_size is None else file_size,
        }
        if file_name is not None:
            document["file_name"] = file_name
        if mime is not None:
            document["mime_type"] = mime
        message = self._message(chat_id, document=document)
        if caption is not None:
            message["caption"] = caption
        return self.push_update({"message": message})

    def push_sticker(self, chat_id: int) -> dict[str, Any]:
        """Something the bot doesn't handle as text, photo or document."""
        sticker = {
            "file_id": "sticker-1", "file_unique_id": "us1", "type": "regular",
            "width": 512, "height": 512, "is_animated": False, "is_video": False,
        }  # fmt: skip
        return self.push_update({"message": self._message(chat_id, sticker=sticker)})

    def push_callback(
        self, chat_id: int, data: str, message: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A tap on an inline button: by default on the bot's latest message carrying ``data``."""
        if message is None:
            message = self.message_with_button(chat_id, data)
        query = {
            "id": f"cq{next(self._query_ids)}",
            "from": _user(chat_id),
            "chat_instance": f"ci{chat_id}",
            "data": data,
            "message": message,
        }
        return self.push_update({"callback_query": query})

    def add_file(self, data: bytes, path_hint: str) -> str:
        """Make ``data`` downloadable through getFile; returns its file id."""
        with self._lock:
            file_id = f"file{next(self._file_ids)}"
            self._files[file_id] = (f"{path_hint.rsplit('.', 1)[0]}_{file_id}.bin", data)
        return file_id

    # --- what tests read -------------------------------------------------------------------

    def mark(self) -> int:
        """A position in the call log: pass it as ``since`` to look only at later calls."""
        with self._lock:
            return len(self.calls)

    def calls_to(self, method: str, chat_id: int | None = None, since: int = 0) -> list[Call]:
        with self._lock:
            calls = self.calls[since:]
        return [
            call
            for call in calls
            if call.method == method and (chat_id is None or call.chat_id == chat_id)
        ]

    def texts(self, chat_id: int, since: int = 0) -> list[str]:
        """What the bot said in ``chat_id`` (sendMessage texts, in order)."""
        return [call.text for call in self.calls_to("sendMessage", chat_id, since)]

    def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 10.0,
        since: int = 0,
    ) -> Call:
        """The first call to ``method`` after ``since`` matching ``predicate``; fails on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            for call in self.calls_to(method, since=since):
                if predicate is None or predicate(call):
                    return call
            if time.monotonic() > deadline:
                seen = [(c.method, c.params.get("text", "")) for c in self.calls[since:]]
                raise AssertionError(f"no matching {method} within {timeout} s; calls: {seen}")
            time.sleep(0.02)

    def wait_until(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until ``condition()`` holds (for counts of calls, say); fails on timeout."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout} s")
            time.sleep(0.02)

    def wait_for_text(
        self, chat_id: int, contains: str, timeout: float = 10.0, since: int = 0
    ) -> Call:
        """The first sendMessage to ``chat_id`` whose text contains ``contains``."""
        return self.wait_for(
            "sendMessage",
            lambda call: call.chat_id == chat_id and contains in call.text,
            timeout,
            since,
        )

    def message_with_button(self, chat_id: int, data: str) -> dict[str, Any]:
        """The bot's latest message in ``chat_id`` with a button carrying ``data``."""
        with self._lock:
            sent = sorted(self._sent.items(), reverse=True)
        for (chat, _), message in sent:
            buttons = [
                button
                for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
                for button in row
            ]
            if chat == chat_id and any(b.get("callback_data") == data for b in buttons):
                return message
        raise AssertionError(f"the bot sent no button with callback data {data!r} to {chat_id}")

    def pending_updates(self) -> int:
        with self._lock:
            return len(self._updates)

    # --- the server ------------------------------------------------------------------------

    async def _api(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.path_params["method"]
        try:
            params, files = await _read_params(request)
        except ValueError:
            return _error(400, "Bad Request: can't parse request body")
        with self._lock:
            self.calls.append(Call(method, params, files))
        if method == "getUpdates":
            return _ok(await self._get_updates(params, request))
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(404, "Not Found")
        try:
            return _ok(handler(params, files))
        except TelegramError as error:
            return _error(error.code, error.description)

    async def _get_updates(self, params: dict[str, Any], request: Request) -> list[dict[str, Any]]:
        """Long polling: waits up to ``timeout`` s, until the client goes or the server stops."""
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        while True:
            with self._lock:
                if offset:  # Telegram forgets confirmed updates
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                ready = self._updates[:limit]
            if ready or time.monotonic() >= deadline or self._stopping:
                return ready
            if await request.is_disconnected():
                return []
            await asyncio.sleep(0.02)

    async def _download(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return Response(status_code=401)
        wanted = request.path_params["path"]
        with self._lock:
            found = [data for path, data in self._files.values() if path == wanted]
        if not found:
            return Response(status_code=404)
        return Response(found[0], media_type="application/octet-stream")

    def _m_getMe(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return {
            **BOT_USER, "can_join_groups": False, "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }  # fmt: skip

    def _m_sendMessage(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        text = str(params.get("text", ""))
        if not text.strip():
            raise TelegramError(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > 4096:
            raise TelegramError(400, "Bad Request: message is too long")
        _check_markup(params.get("reply_markup"))
        return self._remember(params, text=text)

    def _m_sendChatAction(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return True

    def _m_sendPhoto(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        photo = files.get("photo") or params.get("photo")
        if not photo:
            raise TelegramError(400, "Bad Request: there is no photo in the request")
        file_id = self.add_file(photo if isinstance(photo, bytes) else b"", "photos/sent.jpg")
        return self._remember(params, photo=[_photo_size(file_id, 1, 1, 0)])

    def _m_getFile(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        file_id = str(params.get("file_id", ""))
        with self._lock:
            if file_id not in self._files:
                raise TelegramError(400, "Bad Request: invalid file_id")
            path, data = self._files[file_id]
        return {
            "file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(data),
            "file_path": path,
        }  # fmt: skip

    def _m_answerCallbackQuery(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return True

    def _m_editMessageReplyMarkup(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        key = (int(params["chat_id"]), int(params["message_id"]))
        with self._lock:
            message = self._sent.get(key)
            if message is None:
                raise TelegramError(400, "Bad Request: message to edit not found")
            markup = params.get("reply_markup")
            if markup:
                _check_markup(markup)
                message["reply_markup"] = markup
            else:
                message.pop("reply_markup", None)
            return dict(message)

    def _m_setWebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        self.webhook_url = str(params.get("url", ""))
        return True

    def _m_deleteWebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        self.webhook_url = ""
        return True

    def _m_getWebhookInfo(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return {"url": self.webhook_url, "has_custom_certificate": False, "pending_update_count": 0}

    # --- helpers ---------------------------------------------------------------------------

    def _message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Patient"},
            "from": _user(chat_id),
            **content,
        }

    def _remember(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Patient"},
            "from": BOT_USER,
            **content,
        }
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        with self._lock:
            self._sent[(chat_id, message["message_id"])] = message
        return dict(message)


async def _read_params(request: Request) -> tuple[dict[str, Any], dict[str, bytes]]:
    """JSON bodies, form-encoded bodies (PTB's default) and multipart uploads alike."""
    params: dict[str, Any] = dict(request.query_params)
    files: dict[str, bytes] = {}
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        body = await request.body()
        if body:
            params.update(json.loads(body))
        return params, files
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                files[key] = await value.read()
            else:
                params[key] = _decode(key, value)
    return params, files


def _decode(key: str, value: str) -> Any:
    if key in JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _check_markup(markup: Any) -> None:
    for row in (markup or {}).get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= 64:
                raise TelegramError(400, "Bad Request: BUTTON_DATA_INVALID")


def _ok(result: Any) -> JSONResponse:
    return JSONResponse({"ok": True, "result": result})


def _error(code: int, description: str) -> JSONResponse:
    return JSONResponse(
        {"ok": False, "error_code": code, "description": description}, status_code=code
    )


def _user(chat_id: int) -> dict[str, Any]:
    return {"id": chat_id, "is_bot": False, "first_name": "Patient", "language_code": "en"}


def _photo_size(file_id: str, width: int, height: int, size: int) -> dict[str, Any]:
    return {
        "file_id": file_id, "file_unique_id": f"u{file_id}", "width": width, "height": height,
        "file_size": size,
    }  # fmt: skip


def _image_size(data: bytes) -> tuple[int, int]:
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except Exception:  # not an image: the bot will find out
        return 1, 1


class LoopThread:
    """An asyncio loop in a background thread, to host the bot while the test thread drives it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="bot")
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run ``coroutine`` on the loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()

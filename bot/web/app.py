"""The web gateway: serves the widget and its demo page; relays browsers and integrators to Rasa.

Two doors onto the one conversation core (``bot/conversation.py``), answering in one shape
(``{"replies", "forgotten", "analyses", "triage"}``, plus ``"upload"`` for a file):
- ``/api/v1/widget/*`` for the widget in a patient's browser, identified by the clinic's public
  key, allowed only from the clinic's origins (CORS), one conversation per session token;
- ``/api/v1/messages`` and ``/api/v1/uploads`` for a clinic's own servers, authenticated with
  the clinic's secret API key (``Authorization: Bearer …``), one conversation per ``user``.

Message text and files are never logged; request bodies are capped before they are read.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.conversation import (
    UNAVAILABLE,
    Conversations,
    RateLimited,
    Reply,
    StoredImage,
    TextRefused,
    Turn,
)
from bot.rasa_client import Rasa, RasaUnavailable
from bot.ratelimit import RateLimiter
from bot.senders import sender_id
from bot.web.clinics import Clinic, Clinics
from healthbot import jsonsafe
from healthbot.contract import Channel
from healthbot.settings import Settings
from healthbot.stores.analyses import AnalysisStore
from healthbot.stores.uploads import UploadInfo, UploadNotFound, UploadRejected, UploadStore

logger = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
SESSION_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")
USER_PATTERN = re.compile(r"^[A-Za-z0-9_.:@-]{1,128}$")
MAX_JSON_BYTES = 64 * 1024
TOO_LARGE_CODES = frozenset({"too_large", "too_many_pixels", "text_too_long"})


class ApiError(Exception):
    """A refusal with an HTTP status, a machine code and a message for people."""

    def __init__(
        self, status: int, code: str, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.headers = status, code, detail, headers or {}


@dataclass
class Gateway:
    """What the routes share; every part is passed in, so tests can build their own."""

    settings: Settings
    rasa: Rasa
    store: UploadStore
    clinics: Clinics
    secret: bytes
    limiter: RateLimiter
    analyses: AnalysisStore
    triage: AnalysisStore | None = None
    core: Conversations = field(init=False)

    def __post_init__(self) -> None:
        self.core = Conversations(
            self.rasa, self.store, self.settings.max_message_chars, self.limiter
        )


@dataclass(frozen=True)
class Door:
    """Whom a request speaks for: the conversation, its channel, where its files are served."""

    sender: str
    channel: Channel
    file_url: str  # "{id}" stands for an upload id


def _gateway(request: Request) -> Gateway:
    return request.app.state.gateway


def turn_body(turn: Turn, file_url: str) -> dict[str, Any]:
    """The one JSON shape of every message and upload answer (the widget reads it)."""
    body: dict[str, Any] = {
        "replies": [_reply_body(reply, file_url) for reply in turn.replies],
        "forgotten": turn.forgotten,
        "analyses": list(turn.analyses),
        "triage": list(turn.triage),
    }
    if turn.upload is not None:
        body["upload"] = _public(turn.upload)
    return body


def _reply_body(reply: Reply, file_url: str) -> dict[str, Any]:
    image = reply.image
    if isinstance(image, StoredImage):  # the core checked it is this conversation's
        image = file_url.format(id=image.upload_id)
    buttons = [{"title": button.title, "payload": button.payload} for button in reply.buttons]
    return {"text": reply.text, "buttons": buttons, "image": image}


def _answer(turn: Turn, door: Door) -> JSONResponse:
    """The turn as JSON with a Server-Timing header: how long Rasa took (gateway overhead = the
    client's round trip minus this; bench/gateway_bench.py measures it)."""
    headers = {"Server-Timing": f"rasa;dur={turn.rasa_s * 1000:.2f}"}
    return JSONResponse(turn_body(turn, door.file_url), headers=headers)


async def _say(request: Request, door: Door, text: object) -> JSONResponse:
    """A text turn; bad text is refused before it costs the conversation a message."""
    if not isinstance(text, str):
        raise ApiError(400, "invalid_text", "'text' must be a string.")
    core = _gateway(request).core
    core.checked_text(text)
    core.pace(door.sender)
    return _answer(await core.say(door.sender, text), door)


async def _upload(request: Request, door: Door, form: FormData) -> JSONResponse:
    """An upload turn: the file (checked by content), its caption first, then the file's."""
    file = form.get("file")
    if not isinstance(file, UploadFile):
        raise ApiError(400, "missing_file", "Attach the file in a form field named 'file'.")
    gateway = _gateway(request)
    gateway.core.pace(door.sender)
    data = await file.read(gateway.settings.uploads.max_bytes + 1)
    turn = await gateway.core.upload(
        door.sender, data, file.filename, form.get("caption"), door.channel
    )
    return _answer(turn, door)


class BodyLimit:
    """Refuses request bodies over the limit while they stream in (chunked uploads included)."""

    def __init__(self, app: ASGIApp, max_upload: int) -> None:
        self.app, self.max_upload = app, max_upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_upload if scope["path"].endswith("/uploads") else MAX_JSON_BYTES
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await too_large(limit)(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise ApiError(413, "too_large", f"The request is larger than {limit} bytes.")
            return message

        await self.app(scope, limited, send)


def too_large(limit: int) -> JSONResponse:
    mb = limit // (1024 * 1024)
    detail = f"That is too large (the limit is {mb} MB)." if mb else "The request is too large."
    return JSONResponse({"error": "too_large", "detail": detail}, status_code=413)


def create_app(gateway: Gateway) -> FastAPI:
    """The ASGI app; ``gateway`` carries every dependency so tests can build their own."""
    app = FastAPI(
        title="Health assistant gateway",
        version="1",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.gateway = gateway
    _errors(app)
    _static_routes(app)
    _widget_routes(app)
    _integrator_routes(app)
    app.add_middleware(BodyLimit, max_upload=gateway.settings.uploads.max_bytes + 64 * 1024)
    app.add_middleware(Cors, clinics=gateway.clinics)
    return app


def as_api_error(error: Exception) -> ApiError:
    """The HTTP answer to a refusal from the conversation core or the upload store."""
    if isinstance(error, RateLimited):
        wait = str(max(1, round(error.retry_after_s)))
        detail = "You're sending messages very fast. Please wait a moment."
        return ApiError(429, "rate_limited", detail, {"Retry-After": wait})
    if isinstance(error, RasaUnavailable):
        return ApiError(503, "unavailable", UNAVAILABLE, {"Retry-After": "10"})
    if isinstance(error, TextRefused):
        return ApiError(413 if error.code in TOO_LARGE_CODES else 400, error.code, error.detail)
    if isinstance(error, UploadRejected):
        return ApiError(413 if error.code in TOO_LARGE_CODES else 415, error.code, error.message)
    if isinstance(error, ApiError):
        return error
    raise TypeError(type(error).__name__)


def _errors(app: FastAPI) -> None:
    async def refused(request: Request, error: Exception) -> JSONResponse:
        api_error = as_api_error(error)
        body = {"error": api_error.code, "detail": api_error.detail}
        return JSONResponse(body, status_code=api_error.status, headers=api_error.headers)

    for refusal in (ApiError, RateLimited, RasaUnavailable, TextRefused, UploadRejected):
        app.add_exception_handler(refusal, refused)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        detail = "; ".join(str(item.get("msg", "")) for item in error.errors()[:3])
        return JSONResponse({"error": "invalid_request", "detail": detail}, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "error")
        return JSONResponse({"error": code, "detail": str(error.detail)}, error.status_code)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        logger.error("unexpected %s on %s", type(error).__name__, request.url.path)
        detail = "Something went wrong on our side. Please try again shortly."
        return JSONResponse({"error": "internal", "detail": detail}, status_code=500)


def _own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


class Cors:
    """CORS by hand (pure ASGI, no per-request task): the allowed origin depends on the clinic,
    and a preflight has no body, so it is allowed when any clinic lists the origin; the routes
    then check the origin against the clinic the request names."""

    def __init__(self, app: ASGIApp, clinics: Clinics) -> None:
        self.app, self.clinics = app, clinics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        origin = headers.get(b"origin", b"").decode("latin-1")
        widget = scope["path"].startswith("/api/v1/widget/")
        own = f"{scope.get('scheme', 'http')}://{headers.get(b'host', b'').decode('latin-1')}"
        allowed = bool(origin) and (origin == own or self.clinics.origin_known(origin))
        if scope["method"] == "OPTIONS" and widget:
            response = (
                Response(status_code=204, headers=_cors_headers(origin, preflight=True))
                if allowed
                else JSONResponse(
                    {"error": "origin_not_allowed", "detail": "This site may not use the widget."},
                    status_code=403,
                )
            )
            await response(scope, receive, send)
            return
        started = time.perf_counter()
        extra = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
        if widget and allowed:
            extra += [(k.lower().encode(), v.encode()) for k, v in _cors_headers(origin).items()]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                spent = f"edge;dur={(time.perf_counter() - started) * 1000:.2f}".encode()
                headers = list(message.get("headers", []))
                timing = [value for key, value in headers if key == b"server-timing"]
                headers = [(key, value) for key, value in headers if key != b"server-timing"]
                merged = b", ".join([*timing, spent])  # one header: some clients read only one
                message["headers"] = [*headers, *extra, (b"server-timing", merged)]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _cors_headers(origin: str, preflight: bool = False) -> dict[str, str]:
    headers = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
    if preflight:
        headers |= {
            "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
            "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Max-Age": "600",
        }
    return headers


def _static_routes(app: FastAPI) -> None:
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def demo(request: Request) -> HTMLResponse:
        gateway = _gateway(request)
        base = gateway.settings.web.public_url.rstrip("/") or _own_origin(request)
        page = (STATIC / "demo.html").read_text(encoding="utf-8")
        page = page.replace("{{WIDGET_URL}}", f"{base}/widget.js")
        page = page.replace("{{CLINIC_KEY}}", (gateway.clinics.keys or ["demo"])[0])
        return HTMLResponse(page, headers={"Cache-Control": "no-cache"})

    for name, media in (("widget.js", "text/javascript"), ("widget.css", "text/css")):
        app.add_api_route(
            f"/{name}", _static_file(name, media), methods=["GET"], include_in_schema=False
        )

    @app.get("/healthz", include_in_schema=False)
    async def health(request: Request) -> dict[str, Any]:
        return {"status": "ok", "rasa": await _gateway(request).rasa.healthy()}


def _static_file(name: str, media: str) -> Any:
    async def serve() -> FileResponse:
        headers = {"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"}
        return FileResponse(STATIC / name, media_type=media, headers=headers)

    return serve


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = jsonsafe.loads(await request.body())
    except jsonsafe.JsonTooDeep:
        raise ApiError(400, "invalid_json", "The JSON is nested too deeply.") from None
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.")
    return body


async def _form(request: Request) -> FormData:
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ApiError(400, "invalid_form", "Send the file as multipart/form-data.")
    try:
        return await request.form(max_files=1, max_fields=8)
    except ApiError:
        raise
    except Exception:  # multipart parse errors come in several types
        raise ApiError(400, "invalid_form", "Send the file as multipart/form-data.") from None


def _widget_clinic(request: Request, key: object) -> Clinic:
    clinic = _gateway(request).clinics.get(key)
    if clinic is None:
        raise ApiError(404, "unknown_clinic", "This chat is not set up for this site.")
    origin = request.headers.get("origin")
    if request.method != "GET" and origin is None:
        raise ApiError(403, "origin_required", "Widget requests must come from a browser page.")
    if origin is not None and origin != _own_origin(request) and origin not in clinic.origins:
        raise ApiError(403, "origin_not_allowed", "This site may not use this clinic's chat.")
    return clinic


def _sender(request: Request, channel: Channel, clinic: Clinic, key: str) -> str:
    """The conversation's non-reversible id: per channel, clinic and session or user."""
    return sender_id(_gateway(request).secret, channel, f"{clinic.key}:{key}")


def _widget_door(request: Request, clinic_key: object, session: object) -> Door:
    """The widget's conversation: a known clinic, an allowed origin, a well-formed session."""
    clinic = _widget_clinic(request, clinic_key)
    if not isinstance(session, str) or not SESSION_PATTERN.match(session):
        raise ApiError(
            401, "invalid_session", "The chat session expired. Please start a new conversation."
        )
    url = f"/api/v1/widget/files/{{id}}?clinic={clinic.key}&session={session}"
    return Door(_sender(request, "web", clinic, session), "web", url)


def _widget_routes(app: FastAPI) -> None:
    @app.get("/api/v1/widget/config")
    async def config(request: Request, clinic: str = "") -> dict[str, Any]:
        found = _widget_clinic(request, clinic)
        return {"clinic": found.key, "name": found.name, "theme": found.theme.model_dump()}

    @app.post("/api/v1/widget/session")
    async def session(request: Request) -> dict[str, str]:
        body = await _json_body(request)
        _widget_clinic(request, body.get("clinic"))
        if body.get("consent") is not True:
            raise ApiError(400, "consent_required", "Please read and accept the notice first.")
        return {"session": secrets.token_urlsafe(32)}

    @app.post("/api/v1/widget/messages")
    async def message(request: Request) -> JSONResponse:
        body = await _json_body(request)
        door = _widget_door(request, body.get("clinic"), body.get("session"))
        return await _say(request, door, body.get("text"))

    @app.post("/api/v1/widget/uploads")
    async def upload(request: Request) -> JSONResponse:
        form = await _form(request)
        door = _widget_door(request, form.get("clinic"), form.get("session"))
        return await _upload(request, door, form)

    @app.get("/api/v1/widget/files/{upload_id}")
    async def widget_file(
        request: Request, upload_id: str, clinic: str = "", session: str = ""
    ) -> Response:
        return _owned_file(request, upload_id, _widget_door(request, clinic, session))


def _public(info: UploadInfo) -> dict[str, Any]:
    return {"id": info.id, "kind": info.kind, "size": info.size,
            "width": info.width, "height": info.height}  # fmt: skip


def _owned_file(request: Request, upload_id: str, door: Door) -> Response:
    """A stored file, only to the conversation that owns it (404 otherwise: no oracle)."""
    store = _gateway(request).store
    try:
        info = store.info(upload_id)
        if info.owner != door.sender:
            raise UploadNotFound(upload_id)
        data = store.read(upload_id)
    except UploadNotFound:
        raise ApiError(404, "not_found", "That file doesn't exist or was deleted.") from None
    headers = {"Cache-Control": "private, no-store", "Content-Disposition": "inline"}
    return Response(data, media_type=info.mime, headers=headers)


def _integrator(request: Request) -> Clinic:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    clinics = _gateway(request).clinics
    clinic = clinics.by_api_key(token.strip()) if scheme.lower() == "bearer" else None
    if clinic is None:
        raise ApiError(
            401, "unauthorized", "Send the clinic's API key as 'Authorization: Bearer <key>'.",
            {"WWW-Authenticate": "Bearer"},
        )  # fmt: skip
    return clinic


def _integrator_door(request: Request, clinic: Clinic, user: object) -> Door:
    """The integrator's conversation with one of its users (the clinic's own patient id)."""
    if not isinstance(user, str) or not USER_PATTERN.match(user):
        raise ApiError(
            400, "invalid_user", "'user' must be 1-128 characters of A-Z a-z 0-9 _ . : @ -."
        )
    return Door(_sender(request, "api", clinic, user), "api", f"/api/v1/files/{{id}}?user={user}")


def _integrator_routes(app: FastAPI) -> None:
    @app.post("/api/v1/messages")
    async def message(request: Request) -> JSONResponse:
        """Send one message for ``user``; returns the assistant's replies."""
        clinic = _integrator(request)
        body = await _json_body(request)
        door = _integrator_door(request, clinic, body.get("user"))
        return await _say(request, door, body.get("text"))

    @app.post("/api/v1/uploads")
    async def upload(request: Request) -> JSONResponse:
        """Upload a photo or document for ``user`` (multipart: user, file, caption)."""
        clinic = _integrator(request)
        form = await _form(request)
        door = _integrator_door(request, clinic, form.get("user"))
        return await _upload(request, door, form)

    @app.get("/api/v1/analyses/{analysis_id}")
    async def api_analysis(request: Request, analysis_id: str, user: str = "") -> JSONResponse:
        """The clinic's JSON of a record analysis in ``user``'s conversation: every finding
        with its label, offsets, context flags, confidence and source."""
        door = _integrator_door(request, _integrator(request), user)
        data = await run_in_threadpool(_gateway(request).analyses.read, door.sender, analysis_id)
        if data is None:
            raise ApiError(404, "not_found", "That analysis doesn't exist or was deleted.")
        return JSONResponse(data, headers={"Cache-Control": "private, no-store"})

    @app.get("/api/v1/triage/{triage_id}")
    async def api_triage(request: Request, triage_id: str, user: str = "") -> JSONResponse:
        """The clinic's triage record in ``user``'s conversation: the level, the protocols and
        their versions, the rules that fired, the questions asked and answered, the findings
        with their spans into the patient's messages (no message text)."""
        door = _integrator_door(request, _integrator(request), user)
        store = _gateway(request).triage
        data = (
            None if store is None else await run_in_threadpool(store.read, door.sender, triage_id)
        )
        if data is None:
            raise ApiError(404, "not_found", "That triage record doesn't exist or was deleted.")
        return JSONResponse(data, headers={"Cache-Control": "private, no-store"})

    @app.get("/api/v1/files/{upload_id}")
    async def api_file(request: Request, upload_id: str, user: str = "") -> Response:
        """A file of ``user``'s conversation (e.g. an image the assistant sent)."""
        door = _integrator_door(request, _integrator(request), user)
        return _owned_file(request, upload_id, door)

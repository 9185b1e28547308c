"""The web gateway: serves the widget and its demo page; relays browsers and integrators to Rasa.

Two doors, one relay:
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.rasa_client import RasaClient, RasaUnavailable
from bot.ratelimit import RateLimiter
from bot.senders import sender_id
from bot.settings import EdgeSettings
from bot.uploads import UploadInfo, UploadNotFound, UploadRejected, UploadStore
from bot.web.clinics import Clinic, Clinics

logger = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
SESSION_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")
USER_PATTERN = re.compile(r"^[A-Za-z0-9_.:@-]{1,128}$")
MAX_TEXT_CHARS = 5000
MAX_JSON_BYTES = 64 * 1024
UNAVAILABLE = "Sorry, I can't reach the assistant right now. Please try again in a minute."
UPLOAD_INTENTS = {"image": "/check_photo", "pdf": "/analyze_record", "text": "/analyze_record",
                  "json": "/analyze_record"}  # fmt: skip


class ApiError(Exception):
    """A refusal with an HTTP status, a machine code and a message for people."""

    def __init__(
        self, status: int, code: str, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.headers = status, code, detail, headers or {}


@dataclass
class Gateway:
    """What the routes share: settings, the Rasa client, the store, clinics, secret, limits."""

    settings: EdgeSettings
    rasa: RasaClient
    store: UploadStore
    clinics: Clinics
    secret: bytes
    limiter: RateLimiter

    async def relay(
        self,
        sender: str,
        text: str,
        metadata: dict[str, Any] | None = None,
        timing: list[float] | None = None,
    ) -> list[dict[str, Any]]:
        """One turn through Rasa, rate-limited per conversation; appends Rasa's time to timing."""
        if not self.limiter.allow(sender):
            wait = max(1, round(self.limiter.retry_after(sender)))
            raise ApiError(
                429, "rate_limited", "You're sending messages very fast. Please wait a moment.",
                {"Retry-After": str(wait)},
            )  # fmt: skip
        started = time.perf_counter()
        try:
            return await self.rasa.send(sender, text, metadata)
        except RasaUnavailable as error:
            logger.warning("Rasa unavailable (%s)", error)
            raise ApiError(503, "unavailable", UNAVAILABLE, {"Retry-After": "10"}) from None
        finally:
            if timing is not None:
                timing.append(time.perf_counter() - started)

    async def upload(
        self, sender: str, form_file: object, caption: object, timing: list[float] | None = None
    ) -> tuple[UploadInfo, list[dict[str, Any]]]:
        """Store a file (checked by content), then tell Rasa about it with its id as metadata."""
        if not isinstance(form_file, UploadFile):
            raise ApiError(400, "missing_file", "Attach the file in a form field named 'file'.")
        data = await form_file.read(self.settings.upload_max_bytes + 1)
        try:
            info = await run_in_threadpool(self.store.save, sender, data, form_file.filename)
        except UploadRejected as rejected:
            status = 413 if rejected.code in {"too_large", "too_many_pixels"} else 415
            raise ApiError(status, rejected.code, rejected.message) from None
        replies: list[dict[str, Any]] = []
        if isinstance(caption, str) and caption.strip():
            replies += await self.relay(sender, clean_text(caption), timing=timing)
        metadata = {"upload_id": info.id, "kind": info.kind, "channel": "web"}
        replies += await self.relay(sender, UPLOAD_INTENTS[info.kind], metadata, timing)
        return info, replies


def timed(body: dict[str, Any], timing: list[float]) -> JSONResponse:
    """The JSON reply with a Server-Timing header: how long Rasa took (gateway overhead = the
    client's round trip minus this; bench/gateway_bench.py measures it)."""
    return JSONResponse(body, headers={"Server-Timing": f"rasa;dur={sum(timing) * 1000:.2f}"})


def clean_text(value: object) -> str:
    """The message as text: must be a non-empty string within the size limit."""
    if not isinstance(value, str):
        raise ApiError(400, "invalid_text", "'text' must be a string.")
    text = "".join(ch for ch in value if ch in "\n\t" or ord(ch) >= 32).strip()
    if not text:
        raise ApiError(400, "empty_text", "The message is empty.")
    if len(text) > MAX_TEXT_CHARS:
        raise ApiError(
            413, "text_too_long", f"Messages can be at most {MAX_TEXT_CHARS} characters."
        )
    return text


def forgotten(replies: list[dict[str, Any]]) -> bool:
    """Whether this turn erased the conversation (action_forget_me's marker): the widget then
    clears its copy in the browser too."""
    return any(
        isinstance(reply.get("custom"), dict) and reply["custom"].get("event") == "forgotten"
        for reply in replies
    )


def analyses(replies: list[dict[str, Any]]) -> list[str]:
    """Ids of the record analyses this turn stored (action_analyze_record's marker), so a
    clinic's system can fetch the findings as JSON from ``/api/v1/analyses/{id}``."""
    return [
        str(reply["custom"]["analysis_id"])
        for reply in replies
        if isinstance(reply.get("custom"), dict)
        and reply["custom"].get("event") == "ehr_analysis"
        and isinstance(reply["custom"].get("analysis_id"), str)
    ]


def render_replies(replies: list[dict[str, Any]], file_url: str) -> list[dict[str, Any]]:
    """Rasa's replies in the gateway's stable shape; ``upload:<id>`` images become URLs."""
    out = []
    for reply in replies:
        image = reply.get("image")
        if isinstance(image, str) and image.startswith("upload:"):
            image = file_url.format(id=image.removeprefix("upload:"))
        elif not (isinstance(image, str) and image.startswith(("https://", "http://"))):
            image = None
        buttons = [
            {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
            for b in reply.get("buttons") or []
            if isinstance(b, dict) and b.get("payload")
        ]
        text = reply.get("text") if isinstance(reply.get("text"), str) else None
        if text or buttons or image:
            out.append({"text": text, "buttons": buttons, "image": image})
    return out


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
    app.add_middleware(BodyLimit, max_upload=gateway.settings.upload_max_bytes + 64 * 1024)
    app.add_middleware(Cors, clinics=gateway.clinics)
    return app


def _errors(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError) -> JSONResponse:
        body = {"error": error.code, "detail": error.detail}
        return JSONResponse(body, status_code=error.status, headers=error.headers)

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
        gateway: Gateway = request.app.state.gateway
        base = gateway.settings.public_url.rstrip("/") or _own_origin(request)
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
        gateway: Gateway = request.app.state.gateway
        return {"status": "ok", "rasa": await gateway.rasa.healthy()}


def _static_file(name: str, media: str) -> Any:
    async def serve() -> FileResponse:
        headers = {"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"}
        return FileResponse(STATIC / name, media_type=media, headers=headers)

    return serve


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.")
    return body


async def _form(request: Request) -> Any:
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ApiError(400, "invalid_form", "Send the file as multipart/form-data.")
    try:
        return await request.form(max_files=1, max_fields=8)
    except ApiError:
        raise
    except Exception:  # multipart parse errors come in several types
        raise ApiError(400, "invalid_form", "Send the file as multipart/form-data.") from None


def _widget_clinic(request: Request, key: object) -> Clinic:
    gateway: Gateway = request.app.state.gateway
    clinic = gateway.clinics.get(key)
    if clinic is None:
        raise ApiError(404, "unknown_clinic", "This chat is not set up for this site.")
    origin = request.headers.get("origin")
    if request.method != "GET" and origin is None:
        raise ApiError(403, "origin_required", "Widget requests must come from a browser page.")
    if origin is not None and origin != _own_origin(request) and origin not in clinic.origins:
        raise ApiError(403, "origin_not_allowed", "This site may not use this clinic's chat.")
    return clinic


def _sender(request: Request, channel: str, clinic: Clinic, key: str) -> str:
    """The conversation's non-reversible id: per channel, clinic and session or user."""
    gateway: Gateway = request.app.state.gateway
    return sender_id(gateway.secret, channel, f"{clinic.key}:{key}")


def _widget_sender(request: Request, clinic: Clinic, session: object) -> str:
    if not isinstance(session, str) or not SESSION_PATTERN.match(session):
        raise ApiError(
            401, "invalid_session", "The chat session expired. Please start a new conversation."
        )
    return _sender(request, "web", clinic, session)


def _widget_file_url(clinic: Clinic, session: str) -> str:
    return f"/api/v1/widget/files/{{id}}?clinic={clinic.key}&session={session}"


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
        clinic = _widget_clinic(request, body.get("clinic"))
        sender = _widget_sender(request, clinic, body.get("session"))
        gateway: Gateway = request.app.state.gateway
        timing: list[float] = []
        replies = await gateway.relay(sender, clean_text(body.get("text")), timing=timing)
        url = _widget_file_url(clinic, body["session"])
        out = {
            "replies": render_replies(replies, url),
            "forgotten": forgotten(replies),
            "analyses": analyses(replies),
        }
        return timed(out, timing)

    @app.post("/api/v1/widget/uploads")
    async def upload(request: Request) -> JSONResponse:
        form = await _form(request)
        clinic = _widget_clinic(request, form.get("clinic"))
        session = form.get("session")
        sender = _widget_sender(request, clinic, session)
        gateway: Gateway = request.app.state.gateway
        timing: list[float] = []
        info, replies = await gateway.upload(sender, form.get("file"), form.get("caption"), timing)
        url = _widget_file_url(clinic, str(session))
        return timed({"upload": _public(info), "replies": render_replies(replies, url)}, timing)

    @app.get("/api/v1/widget/files/{upload_id}")
    async def widget_file(
        request: Request, upload_id: str, clinic: str = "", session: str = ""
    ) -> Response:
        found = _widget_clinic(request, clinic)
        return _owned_file(request, upload_id, _widget_sender(request, found, session))


def _public(info: UploadInfo) -> dict[str, Any]:
    return {"id": info.id, "kind": info.kind, "size": info.size,
            "width": info.width, "height": info.height}  # fmt: skip


def _owned_file(request: Request, upload_id: str, sender: str) -> Response:
    """A stored file, only to the conversation that owns it (404 otherwise: no oracle)."""
    gateway: Gateway = request.app.state.gateway
    try:
        info = gateway.store.info(upload_id)
        if info.owner != sender:
            raise UploadNotFound(upload_id)
        data = gateway.store.read(upload_id)
    except UploadNotFound:
        raise ApiError(404, "not_found", "That file doesn't exist or was deleted.") from None
    headers = {"Cache-Control": "private, no-store", "Content-Disposition": "inline"}
    return Response(data, media_type=info.mime, headers=headers)


def _integrator(request: Request) -> Clinic:
    gateway: Gateway = request.app.state.gateway
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    clinic = gateway.clinics.by_api_key(token.strip()) if scheme.lower() == "bearer" else None
    if clinic is None:
        raise ApiError(
            401, "unauthorized", "Send the clinic's API key as 'Authorization: Bearer <key>'.",
            {"WWW-Authenticate": "Bearer"},
        )  # fmt: skip
    return clinic


def _integrator_sender(request: Request, clinic: Clinic, user: object) -> str:
    if not isinstance(user, str) or not USER_PATTERN.match(user):
        raise ApiError(
            400, "invalid_user", "'user' must be 1-128 characters of A-Z a-z 0-9 _ . : @ -."
        )
    return _sender(request, "api", clinic, user)


def _integrator_routes(app: FastAPI) -> None:
    @app.post("/api/v1/messages")
    async def message(request: Request) -> JSONResponse:
        """Send one message for ``user``; returns the assistant's replies."""
        clinic = _integrator(request)
        body = await _json_body(request)
        sender = _integrator_sender(request, clinic, body.get("user"))
        gateway: Gateway = request.app.state.gateway
        timing: list[float] = []
        replies = await gateway.relay(sender, clean_text(body.get("text")), timing=timing)
        url = f"/api/v1/files/{{id}}?user={body['user']}"
        out = {
            "replies": render_replies(replies, url),
            "forgotten": forgotten(replies),
            "analyses": analyses(replies),
        }
        return timed(out, timing)

    @app.post("/api/v1/uploads")
    async def upload(request: Request) -> JSONResponse:
        """Upload a photo or document for ``user`` (multipart: user, file, caption)."""
        clinic = _integrator(request)
        form = await _form(request)
        sender = _integrator_sender(request, clinic, form.get("user"))
        gateway: Gateway = request.app.state.gateway
        timing: list[float] = []
        info, replies = await gateway.upload(sender, form.get("file"), form.get("caption"), timing)
        url = f"/api/v1/files/{{id}}?user={form.get('user')}"
        out = {
            "upload": _public(info),
            "replies": render_replies(replies, url),
            "analyses": analyses(replies),
        }
        return timed(out, timing)

    @app.get("/api/v1/analyses/{analysis_id}")
    async def api_analysis(request: Request, analysis_id: str, user: str = "") -> JSONResponse:
        """The clinic's JSON of a record analysis in ``user``'s conversation: every finding
        with its label, offsets, context flags, confidence and source."""
        clinic = _integrator(request)
        sender = _integrator_sender(request, clinic, user)
        from actions.ehr.store import LocalAnalysisStore

        settings = request.app.state.gateway.settings
        store = LocalAnalysisStore(settings.ehr_store_dir, settings.ehr_retention_days)
        data = store.read(sender, analysis_id)
        if data is None:
            raise ApiError(404, "not_found", "That analysis doesn't exist or was deleted.")
        return JSONResponse(data, headers={"Cache-Control": "private, no-store"})

    @app.get("/api/v1/files/{upload_id}")
    async def api_file(request: Request, upload_id: str, user: str = "") -> Response:
        """A file of ``user``'s conversation (e.g. an image the assistant sent)."""
        clinic = _integrator(request)
        return _owned_file(request, upload_id, _integrator_sender(request, clinic, user))

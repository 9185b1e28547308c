"""The web gateway end to end: widget API, integrator API and uploads, over the real stack."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest
import requests

from .conftest import Edge, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def jpeg_with_gps() -> bytes:
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {2: (51.0, 30.0, 0.0)}
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (170, 80, 70)).save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def stored(stack: Stack) -> set[str]:
    folder = stack.uploads_dir
    return {p.name for p in folder.glob("*.data")} if folder.exists() else set()


def user() -> str:
    return f"patient-{uuid.uuid4().hex[:10]}"


class Widget:
    """A browser-like client of the widget API (sends the page's Origin)."""

    def __init__(self, edge: Edge, origin: str | None = None) -> None:
        self.edge, self.origin = edge, origin or edge.allowed_origin
        self.session = self.post("/session", json={"clinic": edge.clinic_key, "consent": True})
        self.session = self.session.json()["session"]

    def post(self, path: str, **kwargs: object) -> requests.Response:
        headers = {"Origin": self.origin, **kwargs.pop("headers", {})}  # type: ignore[dict-item]
        return requests.post(
            f"{self.edge.url}/api/v1/widget{path}", headers=headers, timeout=120, **kwargs
        )

    def say(self, text: object) -> requests.Response:
        body = {"clinic": self.edge.clinic_key, "session": self.session, "text": text}
        return self.post("/messages", json=body)


def texts(response: requests.Response) -> str:
    assert response.status_code == 200, response.text
    return " ".join(reply["text"] or "" for reply in response.json()["replies"])


def test_widget_conversation_and_cors(edge: Edge) -> None:
    widget = Widget(edge)
    response = widget.say("hello")
    assert response.headers["access-control-allow-origin"] == edge.allowed_origin
    assert texts(response)
    preflight = requests.options(
        f"{edge.url}/api/v1/widget/messages",
        headers={"Origin": edge.allowed_origin, "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == edge.allowed_origin


def test_widget_refuses_other_sites_and_bad_sessions(edge: Edge) -> None:
    widget = Widget(edge)
    evil = Widget.__new__(Widget)
    evil.edge, evil.origin, evil.session = edge, "https://evil.example.com", widget.session
    assert evil.say("hello").status_code == 403
    preflight = requests.options(
        f"{edge.url}/api/v1/widget/messages",
        headers={"Origin": "https://evil.example.com", "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert preflight.status_code == 403
    assert "access-control-allow-origin" not in preflight.headers
    no_consent = widget.post("/session", json={"clinic": edge.clinic_key})
    assert no_consent.status_code == 400 and no_consent.json()["error"] == "consent_required"
    unknown = widget.post("/session", json={"clinic": "nope", "consent": True})
    assert unknown.status_code == 404
    widget.session = "not-a-session"
    assert widget.say("hi").status_code == 401


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"", 400),
        (b"{not json", 400),
        (b"\xff\xfe\x00\x01binary", 400),
        (b"[1, 2, 3]", 400),
        (b'{"clinic": "test-clinic", "session": "%s", "text": ""}', 400),
        (b'{"clinic": "test-clinic", "session": "%s", "text": 42}', 400),
        (b'{"clinic": "test-clinic", "session": "%s", "text": "' + b"a" * 50_000 + b'"}', 413),
        (b'{"clinic": "test-clinic", "session": "%s", "text": "' + b"b" * 70_000 + b'"}', 413),
    ],
)
def test_bad_widget_input_gets_a_4xx_and_the_conversation_goes_on(
    edge: Edge, body: bytes, status: int
) -> None:
    widget = Widget(edge)
    payload = body.replace(b"%s", widget.session.encode())
    response = widget.post("/messages", data=payload, headers={"Content-Type": "application/json"})
    assert response.status_code == status, response.text
    assert response.json()["detail"]
    assert texts(widget.say("hello"))


def test_emoji_flood_and_markup_are_just_text(edge: Edge) -> None:
    widget = Widget(edge)
    assert widget.say("😷" * 2000).status_code == 200
    assert widget.say("<script>alert(1)</script> hello").status_code == 200


def test_integrator_api_needs_the_key(edge: Edge) -> None:
    body = {"user": user(), "text": "hello"}
    assert edge.api("/api/v1/messages", json=body, headers={"Authorization": ""}).status_code == 401
    wrong = edge.api("/api/v1/messages", json=body, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    assert edge.api("/api/v1/messages", json={"user": "../x", "text": "hi"}).status_code == 400
    assert texts(edge.api("/api/v1/messages", json=body))


def test_photo_upload_reaches_the_action_by_id(edge: Edge, stack: Stack) -> None:
    patient = user()
    files = {"file": ("IMG_2041.jpg", jpeg_with_gps(), "image/jpeg")}
    response = edge.api("/api/v1/uploads", data={"user": patient}, files=files)
    assert response.status_code == 200, response.text
    upload = response.json()["upload"]
    assert upload["kind"] == "image" and (upload["width"], upload["height"]) == (320, 240)
    said = texts(response)
    assert "received your photo" in said and f"ref {upload['id'][:8]}" in said
    data = (stack.uploads_dir / f"{upload['id']}.data").read_bytes()
    assert b"PhoneMaker" not in data  # EXIF (with the GPS position) is gone
    own = edge.api(f"/api/v1/files/{upload['id']}", method="GET", params={"user": patient})
    assert own.status_code == 200 and own.headers["content-type"] == "image/jpeg"
    other = edge.api(f"/api/v1/files/{upload['id']}", method="GET", params={"user": user()})
    assert other.status_code == 404


def test_document_upload_and_a_red_flag_caption(edge: Edge) -> None:
    files = {"file": ("letter.pdf", PDF, "application/pdf")}
    caption = "my dad collapsed and isn't breathing"
    response = edge.api("/api/v1/uploads", data={"user": user(), "caption": caption}, files=files)
    said = texts(response)
    assert "emergency" in said.lower()  # the caption went through the red-flag floor first
    assert "received your PDF document" in said


def test_widget_upload_then_forget_me_deletes_it(edge: Edge, stack: Stack) -> None:
    widget = Widget(edge)
    form = {"clinic": edge.clinic_key, "session": widget.session}
    response = widget.post(
        "/uploads", data=form, files={"file": ("note.txt", b"Pt has a sore toe.", "text/plain")}
    )
    upload_id = response.json()["upload"]["id"]
    assert f"{upload_id}.data" in stored(stack)
    confirm = widget.say("/forget_me").json()["replies"]
    assert any(button["payload"] == "/affirm" for r in confirm for button in r["buttons"])
    erased = widget.say("/affirm")
    assert "deleted" in texts(erased).lower() and erased.json()["forgotten"] is True
    assert f"{upload_id}.data" not in stored(stack)


HOSTILE = {
    "decompression bomb": ("bomb.png", "tests/healthbot/stores/uploads:bomb", 413),
    "30 MB file": ("big.jpg", b"\xff\xd8\xff" + b"\0" * (30 * 1024 * 1024), 413),
    "PNG renamed .pdf": ("scan.pdf", "png", 415),
    "PDF renamed .jpg": ("photo.jpg", PDF, 415),
    "HTML file": ("page.html", b"<!doctype html><html><script>x()</script></html>", 415),
    "empty file": ("empty.txt", b"", 415),
    "truncated JPEG": ("cut.jpg", "truncated", 415),
}


def _hostile_bytes(spec: object) -> bytes:
    from PIL import Image

    from tests.healthbot.stores.uploads.test_checks import bomb_png

    if spec == "tests/healthbot/stores/uploads:bomb":
        return bomb_png()
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (1, 2, 3)).save(out, format="PNG")
    if spec == "png":
        return out.getvalue()
    if spec == "truncated":
        return jpeg_with_gps()[:600]
    assert isinstance(spec, bytes)
    return spec


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_uploads_are_refused_nothing_stored(edge: Edge, stack: Stack, case: str) -> None:
    name, spec, status = HOSTILE[case]
    before = stored(stack)
    widget = Widget(edge)
    form = {"clinic": edge.clinic_key, "session": widget.session}
    response = widget.post("/uploads", data=form, files={"file": (name, _hostile_bytes(spec))})
    assert response.status_code == status, response.text
    assert len(response.json()["detail"]) > 20
    assert stored(stack) == before
    assert texts(widget.say("hello"))  # the conversation still works


def test_upload_without_a_file_or_as_json(edge: Edge) -> None:
    widget = Widget(edge)
    form = {"clinic": edge.clinic_key, "session": widget.session}
    assert widget.post("/uploads", data=form).status_code == 400
    assert widget.post("/uploads", json=form).status_code == 400


def test_demo_page_and_widget_assets(edge: Edge) -> None:
    page = requests.get(f"{edge.url}/", timeout=10)
    assert page.status_code == 200
    assert f'data-clinic="{edge.clinic_key}"' in page.text and "/widget.js" in page.text
    for asset, kind in (("widget.js", "javascript"), ("widget.css", "css")):
        response = requests.get(f"{edge.url}/{asset}", timeout=10)
        assert response.status_code == 200 and kind in response.headers["content-type"]
    assert requests.get(f"{edge.url}/nope", timeout=10).status_code == 404
    assert requests.get(f"{edge.url}/api/v1/openapi.json", timeout=10).status_code == 200


def test_gateway_log_says_which_channels_are_live(edge: Edge) -> None:
    log = Path(edge.log).read_text()
    assert "edge up" in log and "Telegram: off" in log

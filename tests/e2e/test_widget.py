"""The embeddable chat widget in a real browser (Debian's chromium via Playwright).

The page is the gateway's demo page (or a clinic page on another origin, routed by the browser),
the widget is the real widget.js/widget.css, and the API answers come from the real gateway in
front of the real Rasa and action servers. A few tests replace one API answer in the browser
(hostile bot text, 503, 429) to check how the widget shows what the real stack rarely returns.
Screenshots go to test-artifacts/widget/ at the repository root.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "widget"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 667}
REPLY_TIMEOUT_MS = 90_000
HOSTILE = "<img src=x onerror=alert(1)>"

# Inside the widget's open shadow root (Playwright's CSS selectors pierce it).
LAUNCHER = ".hb-launcher"
PANEL = "#hb-panel"
INPUT = "textarea.hb-input"
BOT = ".hb-msg.hb-bot"
USER = ".hb-msg.hb-user"
NOTICE = ".hb-msg.hb-notice"


# ------------------------------------------------------------------ browser fixtures


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Pages:
    """Fresh browser contexts (fresh storage) that record page errors and alert() dialogs."""

    def __init__(self, browser: Any) -> None:
        self.browser = browser
        self.contexts: list[Any] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []

    def new(self, viewport: dict[str, int] = DESKTOP, **kwargs: Any) -> Any:
        context = self.browser.new_context(viewport=viewport, **kwargs)
        context.set_default_timeout(20_000)
        self.contexts.append(context)
        page = context.new_page()
        self.watch(page)
        return page

    def watch(self, page: Any) -> None:
        page.on("pageerror", lambda error: self.errors.append(str(error)))

        def on_dialog(dialog: Any) -> None:
            self.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(browser: Any) -> Iterator[Pages]:
    pages = Pages(browser)
    yield pages
    pages.close()
    assert pages.errors == [], f"JavaScript errors on the page: {pages.errors}"


# ------------------------------------------------------------------ helpers


def open_demo(page: Any, edge: Any) -> None:
    page.goto(f"{edge.url}/")
    expect(page.locator(LAUNCHER)).to_be_visible()


def open_and_consent(page: Any, edge: Any) -> None:
    open_demo(page, edge)
    page.locator(LAUNCHER).click()
    expect(page.locator(PANEL)).to_be_visible()
    page.get_by_role("button", name="I agree, start chat").click()
    expect(page.locator(INPUT)).to_be_visible()


def send(page: Any, text: str) -> Any:
    """Type ``text``, press Enter, and wait for the bot's answer; returns the last bot message."""
    before = page.locator(BOT).count()
    page.locator(INPUT).fill(text)
    page.locator(INPUT).press("Enter")
    return wait_for_reply(page, before)


def wait_for_reply(page: Any, before: int) -> Any:
    expect(page.locator(BOT)).not_to_have_count(before, timeout=REPLY_TIMEOUT_MS)
    expect(page.locator(".hb-typing")).to_be_hidden(timeout=REPLY_TIMEOUT_MS)
    return page.locator(BOT).last


def shadow(page: Any, script: str) -> Any:
    """Evaluate ``script`` with ``root`` bound to the widget's shadow root."""
    return page.evaluate(
        "(script) => { const root = document.querySelector('healthbot-widget').shadowRoot;"
        " return Function('root', script)(root); }",
        script,
    )


def active_in_shadow(page: Any) -> str:
    """Describes the focused element inside the widget ('' if the focus is elsewhere)."""
    return shadow(
        page,
        "const a = root.activeElement; if (!a) return '';"
        " return a.tagName.toLowerCase() + '.' + a.className.trim().split(/\\s+/).join('.')"
        " + (a.closest('#hb-panel') ? ' in-panel' : '');",
    )


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), animations="disabled")
    return path


def make_photo(path: Path) -> Path:
    """A small but real JPEG: a skin-tone background with a darker patch."""
    image = Image.new("RGB", (800, 600), (224, 172, 150))
    draw = ImageDraw.Draw(image)
    draw.ellipse((250, 170, 560, 420), fill=(170, 80, 70), outline=(120, 50, 45), width=8)
    for x in range(0, 800, 40):
        draw.line((x, 0, x + 120, 600), fill=(214, 162, 140), width=3)
    image.save(path, "JPEG", quality=88)
    return path


def fulfill_json(route: Any, status: int, body: dict[str, Any], **headers: str) -> None:
    origin = route.request.headers.get("origin")
    cors = {"Access-Control-Allow-Origin": origin} if origin else {}
    route.fulfill(
        status=status,
        content_type="application/json",
        headers={**cors, **headers},
        body=json.dumps(body),
    )


# ------------------------------------------------------------------ the conversation


def test_consent_notice_then_a_real_reply(edge: Any, pages: Pages) -> None:
    page = pages.new()
    open_demo(page, edge)
    assert shadow(page, "return root.mode") == "open"
    launcher = page.locator(LAUNCHER)
    expect(launcher).to_have_attribute("aria-expanded", "false")
    launcher.click()
    expect(launcher).to_have_attribute("aria-expanded", "true")

    # The notice comes first: no input, no session, until the patient agrees.
    consent = page.locator(".hb-consent")
    expect(consent).to_be_visible()
    for words in ("automated assistant", "not a doctor", "diagnosis", "emergency", "forget me"):
        expect(consent).to_contain_text(words)
    expect(page.locator(INPUT)).to_be_hidden()
    expect(page.locator(".hb-footer")).to_have_text(
        "Not medical advice. In an emergency call your local emergency number."
    )
    expect(page.locator(".hb-title")).to_have_text("Test Clinic assistant")

    # Every control on the clinic's colour gets the same readable text colour.
    on_color = shadow(
        page,
        "return ['.hb-launcher', '.hb-primary', '.hb-header', '.hb-close'].map("
        "s => getComputedStyle(root.querySelector(s)).color);",
    )
    assert on_color == ["rgb(255, 255, 255)"] * 4

    with page.expect_response(re.compile(r"/api/v1/widget/session$")) as created:
        page.get_by_role("button", name="I agree, start chat").click()
    assert created.value.status == 200
    assert created.value.request.post_data_json == {"clinic": edge.clinic_key, "consent": True}
    expect(page.locator(INPUT)).to_be_focused()

    reply = send(page, "hello")
    expect(page.locator(USER).last).to_have_text(re.compile("hello"))
    assert reply.inner_text().strip()
    # Theme from the clinic's config: user bubbles in the clinic's colour, readable text on it.
    colors = shadow(
        page,
        "const s = getComputedStyle(root.querySelector('.hb-user .hb-bubble'));"
        " return [s.backgroundColor, s.color];",
    )
    assert colors == ["rgb(29, 78, 216)", "rgb(255, 255, 255)"]


def test_quick_reply_sends_payload_and_shows_title(edge: Any, pages: Pages) -> None:
    page = pages.new()
    open_and_consent(page, edge)
    send(page, "forget me")
    keep = page.get_by_role("button", name="No, keep it")
    expect(keep).to_be_visible()
    expect(page.get_by_role("button", name="Yes, delete it")).to_be_visible()

    before = page.locator(BOT).count()
    with page.expect_request(re.compile(r"/api/v1/widget/messages$")) as sent:
        keep.click()
    assert sent.value.post_data_json["text"] == "/deny"  # the payload goes to the assistant
    reply = wait_for_reply(page, before)
    expect(reply).to_contain_text("kept everything")
    expect(page.locator(USER).last).to_contain_text("No, keep it")  # the title is shown
    expect(page.locator(".hb-chip")).to_have_count(0)  # used quick replies are gone


def test_photo_upload_with_preview_and_progress(edge: Any, pages: Pages, tmp_path: Path) -> None:
    page = pages.new()
    open_and_consent(page, edge)
    photo = make_photo(tmp_path / "wound.jpg")
    expect(page.locator("input.hb-file")).to_have_attribute(
        "accept",
        "image/jpeg,image/png,image/webp,image/heic,image/heif,.heic,.heif,"
        "application/pdf,text/plain,application/json,.txt,.json",
    )
    page.locator("input.hb-file").set_input_files(str(photo))
    preview = page.locator(".hb-attachment img.hb-preview")
    expect(preview).to_be_visible()
    expect(page.locator(".hb-attachment")).to_contain_text("wound.jpg")
    expect(page.get_by_role("button", name="Remove attachment")).to_be_visible()

    # Record the progress bar's values as the upload runs (XMLHttpRequest upload progress).
    shadow(
        page,
        "window.__progress = []; const bar = root.querySelector('.hb-progress');"
        " new MutationObserver(() => window.__progress.push(bar.getAttribute('aria-valuenow')))"
        ".observe(bar, {attributes: true, attributeFilter: ['aria-valuenow']});",
    )
    before = page.locator(BOT).count()
    with page.expect_response(re.compile(r"/api/v1/widget/uploads$")) as uploaded:
        page.get_by_role("button", name="Send message").click()
    body = uploaded.value.json()
    assert uploaded.value.status == 200, body
    assert body["upload"]["kind"] == "image"
    assert (body["upload"]["width"], body["upload"]["height"]) == (800, 600)
    reply = wait_for_reply(page, before)
    replies = " ".join(page.locator(BOT).all_inner_texts()[before:])
    assert "received your photo" in replies, replies
    expect(reply).to_be_visible()

    thumb = page.locator(".hb-user img.hb-thumb").last
    expect(thumb).to_be_visible()
    assert thumb.evaluate("img => img.naturalWidth") > 0
    expect(page.locator(".hb-attachment")).to_be_hidden()
    expect(page.locator(".hb-progress")).to_be_hidden()
    assert "100" in page.evaluate("window.__progress"), page.evaluate("window.__progress")
    screenshot(page, "desktop-photo.png")


def test_documents_and_refused_files(edge: Any, pages: Pages, tmp_path: Path) -> None:
    page = pages.new()
    open_and_consent(page, edge)
    file_input = page.locator("input.hb-file")

    # A document shows as a name/size chip.
    note = tmp_path / "blood-test.txt"
    note.write_text("Haemoglobin 13.5 g/dL (13.0-17.0)\nWhite cells 6.1 x10^9/L\n")
    file_input.set_input_files(str(note))
    expect(page.locator(".hb-attachment .hb-file-chip")).to_contain_text("blood-test.txt")
    before = page.locator(BOT).count()
    page.locator(INPUT).press("Enter")
    wait_for_reply(page, before)
    expect(page.locator(".hb-user .hb-file-chip").last).to_contain_text("blood-test.txt")

    # Over 20 MB: refused in the browser, nothing is sent.
    uploads: list[str] = []
    page.on("request", lambda r: uploads.append(r.url) if "/uploads" in r.url else None)
    file_input.set_input_files(
        {"name": "huge.pdf", "mimeType": "application/pdf", "buffer": b"%PDF" + b"0" * (21 << 20)}
    )
    expect(page.locator(NOTICE).last).to_contain_text("20 MB")
    expect(page.locator(".hb-attachment")).to_be_hidden()
    assert uploads == []

    # Not what it claims to be: the gateway refuses it and the chat shows its reason.
    fake = tmp_path / "scan.png"
    fake.write_bytes(b"this is not a picture at all")
    file_input.set_input_files(str(fake))
    with page.expect_response(re.compile(r"/api/v1/widget/uploads$")) as refused:
        page.get_by_role("button", name="Send message").click()
    assert 400 <= refused.value.status < 500
    detail = refused.value.json()["detail"]
    expect(page.locator(NOTICE).last).to_have_text(detail)
    expect(page.locator(".hb-user .hb-file-chip", has_text="scan.png")).to_have_count(0)
    send(page, "hello")  # and the conversation goes on


def test_reload_keeps_the_conversation(edge: Any, pages: Pages) -> None:
    page = pages.new()
    open_and_consent(page, edge)
    send(page, "hello")
    send(page, "forget me")
    texts = page.locator(".hb-msg").all_inner_texts()
    stored = page.evaluate("Object.keys(localStorage).filter(k => k.includes('healthbot'))")
    assert any(edge.clinic_key in key for key in stored), stored

    page.reload()
    expect(page.locator(PANEL)).to_be_visible()  # it was open: it opens again
    expect(page.locator(".hb-msg")).to_have_count(len(texts))
    assert page.locator(".hb-msg").all_inner_texts() == texts
    expect(page.locator(".hb-consent")).to_be_hidden()  # same session, no second notice
    expect(page.get_by_role("button", name="No, keep it")).to_be_visible()
    # The kept session still talks to the same conversation in Rasa.
    before = page.locator(BOT).count()
    page.get_by_role("button", name="No, keep it").click()
    expect(wait_for_reply(page, before)).to_contain_text("kept everything")

    # "New conversation" asks first, then clears this device's copy and asks for consent again.
    page.get_by_role("button", name="Start a new conversation").click()
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator(".hb-msg")).to_have_count(len(texts) + 2)
    page.get_by_role("button", name="Start a new conversation").click()
    page.get_by_role("button", name="Start new").click()
    expect(page.locator(".hb-msg")).to_have_count(0)
    assert page.evaluate("Object.keys(localStorage).filter(k => k.includes('healthbot'))") == []
    expect(page.get_by_role("button", name="I agree, start chat")).to_be_visible()


# ------------------------------------------------------------------ safety of what is shown


def test_hostile_user_text_is_shown_as_text(edge: Any, pages: Pages) -> None:
    page = pages.new()
    open_and_consent(page, edge)
    send(page, HOSTILE)
    expect(page.locator(USER).last).to_contain_text(HOSTILE)
    assert shadow(page, "return root.querySelectorAll('.hb-log img').length") == 0
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    page.wait_for_timeout(300)
    assert pages.dialogs == []


def test_hostile_bot_reply_is_shown_as_text_with_safe_links(edge: Any, pages: Pages) -> None:
    page = pages.new()
    open_and_consent(page, edge)
    text = (
        f"Look: {HOSTILE} and <script>alert(2)</script>\n"
        "- first point\n"
        "• second point with https://medlineplus.gov/highbloodpressure.html.\n"
        "javascript:alert(3) and [x](javascript:alert(4))\n\n"
        "Sources:\n[1] NHLBI (https://www.nhlbi.nih.gov/health/high-blood-pressure)"
    )
    reply = {
        "replies": [
            {"text": text, "buttons": [{"title": "<b>bold?</b>", "payload": "/x"}], "image": None}
        ]
    }
    page.route(
        re.compile(r"/api/v1/widget/messages$"), lambda route: fulfill_json(route, 200, reply)
    )
    message = send(page, "tell me")
    expect(message).to_contain_text(HOSTILE)
    expect(message).to_contain_text("<script>alert(2)</script>")
    expect(message.get_by_role("button", name="<b>bold?</b>")).to_be_visible()
    created = "return root.querySelectorAll('.hb-log img, .hb-log script, .hb-log b').length"
    assert shadow(page, created) == 0
    links = shadow(
        page,
        "return [...root.querySelectorAll('.hb-log a')].map(a => [a.href, a.rel, a.target]);",
    )
    assert links == [
        ["https://medlineplus.gov/highbloodpressure.html", "noopener noreferrer", "_blank"],
        ["https://www.nhlbi.nih.gov/health/high-blood-pressure", "noopener noreferrer", "_blank"],
    ]
    # "- " and "• " lines become a list.
    assert shadow(page, "return root.querySelectorAll('.hb-bot ul li').length") == 2
    page.wait_for_timeout(300)
    assert pages.dialogs == []


def test_unavailable_and_rate_limited_keep_the_typed_text(edge: Any, pages: Pages) -> None:
    page = pages.new()
    open_and_consent(page, edge)
    answers = [
        (503, {"error": "unavailable", "detail": "Sorry, I can't reach the assistant."}, {}),
        (429, {"error": "rate_limited", "detail": "Please wait a moment."}, {"Retry-After": "7"}),
    ]

    def refuse(route: Any) -> None:
        status, body, headers = answers.pop(0)
        fulfill_json(route, status, body, **headers)

    page.route(re.compile(r"/api/v1/widget/messages$"), refuse)
    for expected in ("Sorry, I can't reach the assistant.", "Please wait a moment."):
        page.locator(INPUT).fill("my knee hurts")
        page.locator(INPUT).press("Enter")
        expect(page.locator(NOTICE).last).to_contain_text(expected)
        expect(page.locator(INPUT)).to_have_value("my knee hurts")
        expect(page.locator(USER)).to_have_count(0)  # not shown as sent
    expect(page.locator(NOTICE).last).to_contain_text("7")
    page.unroute(re.compile(r"/api/v1/widget/messages$"))
    before = page.locator(BOT).count()
    page.locator(INPUT).press("Enter")  # retry: the real assistant answers now
    wait_for_reply(page, before)
    expect(page.locator(USER).last).to_contain_text("my knee hurts")


# ------------------------------------------------------------------ embedding and theming


CLINIC_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<link rel="icon" href="data:,"><title>Sunny Clinic</title>
<style>* {{ font-family: "Comic Sans MS" !important; color: red !important; }}
div, button, p {{ display: block; padding: 40px !important; border: 5px dotted red; }}</style>
</head><body><h1>Sunny Clinic</h1><p>Welcome.</p>
<script src="{widget}" data-clinic="{key}" data-color="#ffd400" data-title="Sunny helper"
 data-greeting="Hi from Sunny!" data-position="left" async></script></body></html>"""


def serve_clinic_page(page: Any, origin: str, edge: Any) -> None:
    html = CLINIC_PAGE.format(widget=f"{edge.url}/widget.js", key=edge.clinic_key)
    page.route(
        f"{origin}/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body=html),
    )


def test_embedded_on_an_allowed_clinic_site_with_its_theme(edge: Any, pages: Pages) -> None:
    page = pages.new()
    # The test gateway listens on loopback, which Chromium shields from public sites (Local
    # Network Access); a real gateway is public. Grant it, as a patient's browser never needs to.
    page.context.grant_permissions(["local-network-access"], origin=edge.allowed_origin)
    serve_clinic_page(page, edge.allowed_origin, edge)
    page.goto(f"{edge.allowed_origin}/")
    launcher = page.locator(LAUNCHER)
    expect(launcher).to_be_visible()
    box = launcher.bounding_box()
    assert box is not None and box["x"] < 100  # data-position="left"
    launcher.click()
    expect(page.locator(".hb-title")).to_have_text("Sunny helper")
    page.get_by_role("button", name="I agree, start chat").click()
    expect(page.locator(BOT).first).to_have_text(re.compile("Hi from Sunny!"))
    reply = send(page, "hello")  # cross-origin, through the gateway's CORS
    assert reply.inner_text().strip()
    # A light brand colour gets dark text; the page's own CSS reaches nothing inside.
    header = shadow(
        page,
        "const s = getComputedStyle(root.querySelector('.hb-header'));"
        " const b = getComputedStyle(root.querySelector('.hb-user .hb-bubble'));"
        " const l = getComputedStyle(root.querySelector('.hb-launcher'));"
        " return [s.backgroundColor, s.color, b.color, l.color, b.fontFamily];",
    )
    assert header[0] == "rgb(255, 212, 0)"
    assert header[1] == header[2] == header[3] == "rgb(17, 24, 39)"
    assert "Comic" not in header[4]
    screenshot(page, "desktop-themed.png")


def test_not_shown_on_a_site_the_clinic_did_not_allow(edge: Any, pages: Pages) -> None:
    page = pages.new()
    other = "https://someone-else.example.com"  # not on the clinic's list
    page.context.grant_permissions(["local-network-access"], origin=other)
    serve_clinic_page(page, other, edge)
    # The gateway sends no CORS grant to this origin, so the browser withholds its answer.
    with page.expect_event("requestfailed", lambda request: "/api/v1/widget/config" in request.url):
        page.goto(f"{other}/")
    expect(page.locator("h1")).to_have_text("Sunny Clinic")
    page.wait_for_timeout(500)
    assert page.evaluate("document.querySelector('healthbot-widget')") is None


# ------------------------------------------------------------------ keyboard, ARIA, phones


def test_keyboard_and_aria(edge: Any, pages: Pages) -> None:
    page = pages.new()
    open_demo(page, edge)
    for _ in range(40):  # Tab through the clinic's page until the launcher has the focus
        page.keyboard.press("Tab")
        if active_in_shadow(page).startswith("button.hb-launcher"):
            break
    else:
        pytest.fail("Tab never reached the launcher")
    launcher = page.locator(LAUNCHER)
    outline = shadow(page, "return getComputedStyle(root.activeElement).outlineStyle")
    assert outline != "none"  # a visible focus style
    expect(launcher).to_have_attribute("aria-controls", "hb-panel")
    expect(launcher).to_have_attribute("aria-label", re.compile("Open chat"))

    page.keyboard.press("Enter")
    panel = page.locator(PANEL)
    expect(panel).to_be_visible()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    expect(panel).to_have_attribute("role", "dialog")
    expect(panel).to_have_attribute("aria-label", "Chat with Test Clinic assistant")
    page.wait_for_function(
        "() => document.querySelector('healthbot-widget').shadowRoot.activeElement"
        "?.closest('#hb-panel') != null"
    )
    assert "in-panel" in active_in_shadow(page)
    page.keyboard.press("Enter")  # the focused consent button
    expect(page.locator(INPUT)).to_be_focused()
    page.keyboard.type("hello")
    before = page.locator(BOT).count()
    page.keyboard.press("Enter")
    wait_for_reply(page, before)

    log = page.locator(".hb-log")
    expect(log).to_have_attribute("role", "log")
    expect(log).to_have_attribute("aria-live", "polite")
    unnamed = shadow(
        page,
        "return [...root.querySelectorAll('button')].filter(b =>"
        " !(b.getAttribute('aria-label') || b.textContent.trim())).map(b => b.className);",
    )
    assert unnamed == []

    # Every control in the panel is reachable with the keyboard, in a sensible order.
    page.locator(INPUT).focus()
    page.keyboard.press("Tab")
    assert "hb-send" in active_in_shadow(page)
    page.locator(INPUT).focus()
    backwards = []
    for _ in range(4):
        page.keyboard.press("Shift+Tab")
        backwards.append(active_in_shadow(page).split(" ")[0])
    assert [name.split(".")[-1] for name in backwards] == [
        "hb-attach",
        "hb-log",
        "hb-close",
        "hb-reset",
    ], backwards

    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    assert active_in_shadow(page).startswith("button.hb-launcher")


def test_phone_full_screen_and_screenshots(edge: Any, pages: Pages, tmp_path: Path) -> None:
    phone = pages.new(PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    open_demo(phone, edge)
    screenshot(phone, "phone-closed.png")
    phone.locator(LAUNCHER).click()
    screenshot(phone, "phone-consent.png")
    phone.get_by_role("button", name="I agree, start chat").click()
    send(phone, "hello")
    send(phone, "forget me")
    box = phone.locator(PANEL).bounding_box()
    assert box == {"x": 0, "y": 0, "width": PHONE["width"], "height": PHONE["height"]}
    field = phone.locator(INPUT)
    expect(field).to_be_visible()
    expect(field).to_be_in_viewport()
    field_box = field.bounding_box()
    assert field_box is not None and field_box["y"] + field_box["height"] <= PHONE["height"]
    screenshot(phone, "phone-chat.png")

    desktop = pages.new(DESKTOP)
    open_and_consent(desktop, edge)
    send(desktop, "hello")
    send(desktop, "forget me")
    box = desktop.locator(PANEL).bounding_box()
    assert box is not None and box["width"] < 500  # a panel, not full screen
    screenshot(desktop, "desktop-chat.png")

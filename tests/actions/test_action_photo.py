"""The photo actions with a real tracker, the real upload store and the shipped CNN."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from actions.action_forget import ActionForgetMe
from actions.action_photo import (
    NO_WOUND,
    NOT_A_PHOTO,
    SEND_A_PHOTO,
    ActionCheckPhoto,
    ActionWoundAdvice,
)
from actions.photo.advice import SIGNS
from actions.services import Services, get_services

from .conftest import make_tracker, run_action

CASES = Path(__file__).parent / "photo" / "gate_cases"
WOUNDS = Path(__file__).parent / "photo" / "data"


@pytest.fixture
def stores(services: Services, tmp_path: Path) -> Iterator[Path]:
    """Uploads and photo history in a temporary folder, through the environment."""
    yield tmp_path


def wound_photo() -> bytes:
    photos = sorted(p for p in WOUNDS.glob("*.*") if "mask" not in p.name)
    assert photos, f"no wound photo fixtures in {WOUNDS}"
    return photos[0].read_bytes()


def check(data: bytes, sender: str, domain, name: str = "photo.jpg"):
    info = get_services().uploads.save(sender, data, name)
    tracker = make_tracker(
        "/check_photo", "check_photo", sender_id=sender,
        extra_parse={"metadata": {"upload_id": info.id, "kind": info.kind}},
    )  # fmt: skip
    return run_action(ActionCheckPhoto(), tracker, domain)


def slot(events: list[dict], name: str) -> object:
    return next(e["value"] for e in events if e.get("event") == "slot" and e["name"] == name)


def texts(dispatcher) -> str:
    return " ".join(m.get("text") or "" for m in dispatcher.messages)


def test_a_wound_photo_gets_an_outline_a_trend_and_the_questions(stores: Path, domain) -> None:
    dispatcher, events = check(wound_photo(), "tg-a", domain)
    said = texts(dispatcher)
    assert "received your photo" in said and "outlined it in yellow" in said
    assert "first photo" in said
    [image] = [m["image"] for m in dispatcher.messages if m.get("image")]
    overlay = get_services().uploads.info(image.removeprefix("upload:"))
    assert overlay.owner == "tg-a" and overlay.kind == "image"
    assert slot(events, "wound_found") is True
    assert all(slot(events, name) is None for name in SIGNS)  # the answers start empty
    assert dispatcher.messages[-1]["response"] == "utter_wound_questions_intro"

    again, _ = check(wound_photo(), "tg-a", domain)
    assert "same size as on" in texts(again)  # the same photo twice: no change


def test_an_unusable_photo_gets_the_reason_and_a_tip(stores: Path, domain) -> None:
    dark = next(CASES.glob("bad/too_dark_*"))
    dispatcher, events = check(dark.read_bytes(), "tg-b", domain, dark.name)
    said = texts(dispatcher)
    assert "Tip:" in said and "dark" in said.lower()
    assert slot(events, "wound_found") is False
    assert not get_services().photo_history.previous("tg-b")


def test_a_screenshot_is_stopped_by_the_gate(stores: Path, domain) -> None:
    import io

    from PIL import Image

    out = io.BytesIO()
    screenshot = next(CASES.glob("bad/not_a_photo_*"))
    Image.open(screenshot).convert("RGB").save(out, format="JPEG")
    dispatcher, events = check(out.getvalue(), "tg-c", domain)
    assert slot(events, "wound_found") is False
    said = texts(dispatcher)
    assert "Tip:" in said and NO_WOUND not in said  # the gate answers; the CNN never runs
    assert not get_services().photo_history.previous("tg-c")


def test_no_upload_or_a_document(stores: Path, domain) -> None:
    dispatcher, events = run_action(ActionCheckPhoto(), make_tracker("/check_photo"), domain)
    assert texts(dispatcher) == SEND_A_PHOTO and slot(events, "wound_found") is False
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    dispatcher, _ = check(pdf, "tg-d", domain, "letter.pdf")
    assert NOT_A_PHOTO in texts(dispatcher)


@pytest.mark.parametrize(
    ("answers", "response"),
    [
        ({}, "utter_wound_routine"),
        ({"wound_pus": True}, "utter_wound_same_day"),
        ({"wound_fever": True, "wound_redness": True}, "utter_wound_emergency"),
    ],
)
def test_advice_follows_the_table(domain, answers: dict, response: str) -> None:
    slots = {name: answers.get(name, False) for name in SIGNS}
    dispatcher, _ = run_action(ActionWoundAdvice(), make_tracker("no", "deny", slots), domain)
    [message] = dispatcher.messages
    assert message["response"] == response
    if response == "utter_wound_emergency":
        assert message["emergency_number"]
    if response == "utter_wound_same_day":
        assert message["signs"] == "pus or discharge"


def test_forget_me_deletes_the_photo_history(stores: Path, domain) -> None:
    check(wound_photo(), "tg-e", domain)
    assert get_services().photo_history.previous("tg-e")
    run_action(ActionForgetMe(), make_tracker("yes", "affirm", sender_id="tg-e"), domain)
    assert not get_services().photo_history.previous("tg-e")


def test_the_checker_is_loaded_once() -> None:
    assert get_services().photo_checker is get_services().photo_checker

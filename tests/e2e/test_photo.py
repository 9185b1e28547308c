"""A wound photo end to end: upload through the gateway, the real action server runs the quality
gate and the CNN, the patient gets the outline and the trend, then the infection questions."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest

from .conftest import Edge, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FIXTURES = Path(__file__).resolve().parents[1] / "actions" / "photo" / "data"


def wound_photo() -> bytes:
    photos = sorted(p for p in FIXTURES.glob("*.*") if "mask" not in p.name)
    assert photos, f"no wound photo fixtures in {FIXTURES}"
    return photos[0].read_bytes()


def upload(edge: Edge, user: str) -> dict:
    files = {"file": ("foot.jpg", wound_photo(), "image/jpeg")}
    response = edge.api("/api/v1/uploads", data={"user": user}, files=files)
    assert response.status_code == 200, response.text
    return response.json()


def say(edge: Edge, user: str, text: str) -> list[dict]:
    response = edge.api("/api/v1/messages", json={"user": user, "text": text})
    assert response.status_code == 200, response.text
    return response.json()["replies"]


def joined(replies: list[dict]) -> str:
    return " ".join(reply["text"] or "" for reply in replies)


def test_wound_photo_outline_trend_and_questions(edge: Edge, stack: Stack) -> None:
    user = f"patient-{uuid.uuid4().hex[:8]}"
    body = upload(edge, user)
    text = joined(body["replies"])
    assert "outlined it in yellow" in text and "of the photo" in text
    assert "first photo" in text
    [overlay] = [r["image"] for r in body["replies"] if r["image"]]
    image = edge.api(overlay, method="GET")
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    question = body["replies"][-1]
    assert "redness" in question["text"]
    assert [b["payload"] for b in question["buttons"]] == ["/affirm", "/deny"]

    replies = []
    for answer in ["/deny"] * 6 + ["/affirm"]:  # only new pain
        replies = say(edge, user, answer)
    assert "new or worse pain" in joined(replies) and "today" in joined(replies)

    again = joined(upload(edge, user)["replies"])
    assert "than on" in again or "same size as on" in again  # the trend, from the second photo

    with sqlite3.connect(stack.env["HEALTHBOT_PHOTO_HISTORY_DB"]) as db:
        count = db.execute("SELECT COUNT(*) FROM measurements").fetchone()[0]
    assert count >= 2
    say(edge, user, "/stop")
    say(edge, user, "/forget_me")
    assert "deleted" in joined(say(edge, user, "/affirm")).lower()


def test_fever_with_spreading_redness_is_an_emergency(edge: Edge) -> None:
    user = f"patient-{uuid.uuid4().hex[:8]}"
    upload(edge, user)
    answers = ["yes", "no", "no", "no", "no", "yes"]  # redness ... fever
    for answer in answers:
        replies = say(edge, user, answer)
    replies = say(edge, user, "no")
    text = joined(replies)
    assert "emergency" in text.lower() and "112" in text


def test_stop_ends_the_questions(edge: Edge) -> None:
    user = f"patient-{uuid.uuid4().hex[:8]}"
    upload(edge, user)
    assert "stopped the questions" in joined(say(edge, user, "stop"))
    assert "redness" not in joined(say(edge, user, "hello"))

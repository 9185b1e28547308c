"""How the gateway shapes Rasa's replies and checks message text."""

from __future__ import annotations

import pytest

from bot.web.app import ApiError, clean_text, render_replies

URL = "/files/{id}?s=1"


def test_replies_keep_text_buttons_and_safe_images() -> None:
    replies = render_replies(
        [
            {
                "recipient_id": "x",
                "text": "Pick one",
                "buttons": [{"title": "Yes", "payload": "/affirm"}],
            },
            {"image": "upload:AbCdEfGhIjKlMnOpQrStUv"},
            {"image": "javascript:alert(1)"},
            {"image": "https://example.org/a.png"},
            {"custom": {"anything": 1}},
            {"text": "x", "buttons": [{"title": "no payload"}, "junk"]},
        ],
        URL,
    )
    assert replies[0] == {
        "text": "Pick one",
        "buttons": [{"title": "Yes", "payload": "/affirm"}],
        "image": None,
    }
    assert replies[1]["image"] == "/files/AbCdEfGhIjKlMnOpQrStUv?s=1"
    assert replies[2]["image"] == "https://example.org/a.png"  # the javascript: one was dropped
    assert replies[3] == {"text": "x", "buttons": [], "image": None}
    assert len(replies) == 4


@pytest.mark.parametrize(
    ("value", "code"),
    [("", "empty_text"), ("   \n ", "empty_text"), (None, "invalid_text"), (42, "invalid_text"),
     ({"a": 1}, "invalid_text"), ("x" * 5001, "text_too_long"), ("\x00\x01\x02", "empty_text")],
)  # fmt: skip
def test_bad_text_is_refused(value: object, code: str) -> None:
    with pytest.raises(ApiError) as error:
        clean_text(value)
    assert error.value.code == code and error.value.status in {400, 413}


def test_control_characters_are_dropped_but_newlines_kept() -> None:
    assert clean_text(" a\x00b\nc\x1b ") == "ab\nc"

"""Input checks of the REST channel (runs in .venv-rasa)."""

from __future__ import annotations

import json

import pytest

from nlu.server.rest_channel import (
    MAX_MESSAGE_CHARS,
    RequestError,
    checked_fields,
    clean_text,
    parse_body,
)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"{not json", "invalid_json"),
        (b"", "invalid_json"),
        (b"\xff\xfe\x00", "invalid_json"),
        (b"[1, 2]", "invalid_body"),
        (b'"text"', "invalid_body"),
        (b"x" * (300 * 1024), "body_too_large"),
        (b"[" * 5000 + b"]" * 5000, "too_deep"),
        (
            b'{"sender": "a", "message": "hi", "metadata": '
            + b'{"a": ' * 5000
            + b"1"
            + b"}" * 5001,
            "too_deep",
        ),
    ],
)
def test_bad_bodies_are_refused(raw: bytes, code: str) -> None:
    with pytest.raises(RequestError) as error:
        parse_body(raw)
    assert error.value.code == code
    assert 400 <= error.value.status < 500


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"sender": "a"}, "invalid_message"),
        ({"sender": "a", "message": 42}, "invalid_message"),
        ({"sender": "a", "message": ["x"]}, "invalid_message"),
        ({"sender": "", "message": "hi"}, "invalid_sender"),
        ({"sender": "x" * 500, "message": "hi"}, "invalid_sender"),
        ({"sender": 7, "message": "hi"}, "invalid_sender"),
        ({"sender": "a", "message": "x" * (MAX_MESSAGE_CHARS + 1)}, "message_too_long"),
        ({"sender": "a", "message": "hi", "metadata": "x"}, "invalid_metadata"),
        ({"sender": "a", "message": "hi", "input_channel": "x" * 100}, "invalid_input_channel"),
    ],
)
def test_bad_fields_are_refused(body: dict, code: str) -> None:
    with pytest.raises(RequestError) as error:
        checked_fields(body)
    assert error.value.code == code
    payload = json.loads(error.value.as_response().body)
    assert payload["error"] == code and payload["detail"]


def test_good_request_is_cleaned() -> None:
    body = parse_body(
        json.dumps(
            {"sender": "p1", "message": " \x00hi\x07 there\n", "metadata": {"upload_id": "u"}}
        ).encode()
    )
    sender, text, metadata, channel = checked_fields(body)
    assert (sender, text, metadata, channel) == ("p1", "hi there", {"upload_id": "u"}, None)


def test_clean_text_keeps_emoji_and_newlines() -> None:
    assert clean_text("😷 sore\nthroat\u200b") == "😷 sore\nthroat\u200b"
    assert clean_text("\x00\x01") == ""

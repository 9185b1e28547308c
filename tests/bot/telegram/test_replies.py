"""Rasa replies in Telegram's terms: text pieces, keyboards, callback data."""

from __future__ import annotations

from bot.conversation import Button
from bot.telegram.replies import (
    MAX_CALLBACK_BYTES,
    ButtonPayloads,
    button_title,
    keyboard,
    split_text,
    utf16_len,
)

LONG_PAYLOAD = '/inform{"symptom": "a sharp pain in the lower right side of my belly", "days": 3}'


def test_short_text_is_one_piece_unchanged() -> None:
    text = "Take *care* _now_ [1](x) ~`>#+-=|{}.!\\"
    assert split_text(text) == [text]
    assert split_text("") == [""]


def test_long_text_is_split_at_spaces_within_the_limit() -> None:
    text = " ".join(f"word{i}" for i in range(2000))  # ~15,000 characters
    pieces = split_text(text)
    assert len(pieces) > 3
    assert all(utf16_len(piece) <= 4096 for piece in pieces)
    assert " ".join(pieces) == text  # nothing lost, no word cut


def test_astral_characters_count_twice() -> None:
    text = "🙂" * 3000  # 6000 UTF-16 units
    pieces = split_text(text)
    assert all(utf16_len(piece) <= 4096 for piece in pieces)
    assert "".join(pieces) == text


def test_a_short_payload_is_its_own_callback_data() -> None:
    payloads = ButtonPayloads()
    assert payloads.encode("/deny") == "/deny"
    assert payloads.decode("/deny") == "/deny"
    assert len(payloads) == 0


def test_a_long_payload_maps_through_a_short_token() -> None:
    payloads = ButtonPayloads()
    assert len(LONG_PAYLOAD.encode()) > MAX_CALLBACK_BYTES
    data = payloads.encode(LONG_PAYLOAD)
    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    assert data != LONG_PAYLOAD
    assert payloads.decode(data) == LONG_PAYLOAD
    assert payloads.encode(LONG_PAYLOAD) == data  # the same payload keeps its token


def test_multibyte_payloads_are_measured_in_bytes() -> None:
    payload = "/inform" + "é" * 30  # 37 characters, 67 bytes
    data = ButtonPayloads().encode(payload)
    assert data != payload and len(data.encode()) <= MAX_CALLBACK_BYTES


def test_the_map_is_bounded_and_forgotten_tokens_decode_to_none() -> None:
    payloads = ButtonPayloads(max_entries=3)
    tokens = [payloads.encode(f"{LONG_PAYLOAD} #{i}") for i in range(5)]
    assert len(payloads) == 3
    assert payloads.decode(tokens[0]) is None
    assert payloads.decode(tokens[-1]) == f"{LONG_PAYLOAD} #4"
    assert payloads.decode("~p:neverissued") is None


def test_a_payload_that_looks_like_a_token_is_mapped_too() -> None:
    payloads = ButtonPayloads()
    data = payloads.encode("~p:abc")
    assert data != "~p:abc" and payloads.decode(data) == "~p:abc"


def test_keyboard_has_one_button_per_row() -> None:
    payloads = ButtonPayloads()
    markup = keyboard(
        [Button("Mild", '/inform{"severity": "mild"}'), Button("Long", LONG_PAYLOAD)], payloads
    )
    assert markup is not None
    rows = markup.inline_keyboard
    assert [[button.text for button in row] for row in rows] == [["Mild"], ["Long"]]
    assert rows[0][0].callback_data == '/inform{"severity": "mild"}'
    assert payloads.decode(rows[1][0].callback_data) == LONG_PAYLOAD
    assert button_title(markup, rows[1][0].callback_data) == "Long"
    assert button_title(markup, "/other") is None
    assert keyboard([], payloads) is None

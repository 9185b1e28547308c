"""The conversation core: one reply shape, shared cleaning and limits, uploads, owned images."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bot.conversation import (
    Button,
    Conversations,
    RateLimited,
    Reply,
    StoredImage,
    TextRefused,
    Turn,
    parse_replies,
)
from bot.rasa_client import RasaUnavailable
from bot.ratelimit import RateLimiter
from healthbot.contract import ANALYZE_RECORD, CHECK_PHOTO
from healthbot.stores.uploads import LocalUploadStore, UploadRejected
from tests.bot.support import PDF, FakeRasa, jpeg

ME, OTHER = "web-me", "web-someone-else"
T = TypeVar("T")


@pytest.fixture
def store(tmp_path: Path) -> LocalUploadStore:
    return LocalUploadStore(tmp_path / "uploads", 1_000_000, 10_000_000, 30)


@pytest.fixture
def rasa() -> FakeRasa:
    return FakeRasa()


@pytest.fixture
def core(rasa: FakeRasa, store: LocalUploadStore) -> Conversations:
    return Conversations(rasa, store, max_chars=100)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


# --- reading Rasa's replies ----------------------------------------------------------------


def test_replies_keep_text_buttons_and_safe_images() -> None:
    turn = parse_replies(
        [
            {
                "recipient_id": "x",
                "text": "Pick one",
                "buttons": [{"title": "Yes", "payload": "/y"}],
            },
            {"image": "upload:AbCdEfGhIjKlMnOpQrStUv"},
            {"image": "javascript:alert(1)"},
            {"image": "https://example.org/a.png"},
            {"text": "x", "buttons": [{"title": "no payload"}, "junk", {"payload": "/bare"}]},
            {"text": "   "},
            "not a reply",
        ]
    )
    assert turn.replies == (
        Reply("Pick one", (Button("Yes", "/y"),)),
        Reply(image=StoredImage("AbCdEfGhIjKlMnOpQrStUv")),
        Reply(image="https://example.org/a.png"),
        Reply("x", (Button("/bare", "/bare"),)),  # a button without a title shows its payload
    )
    assert not turn.forgotten and turn.analyses == ()


def test_custom_events_become_flags_and_are_not_shown() -> None:
    turn = parse_replies(
        [
            {"text": "Done. I've deleted this conversation."},
            {"custom": {"event": "forgotten"}},
            {"custom": {"event": "ehr_analysis", "analysis_id": "abc"}},
            {"custom": {"event": "ehr_analysis", "analysis_id": 42}},
            {"custom": {"anything": 1}},
        ]
    )
    assert turn.replies == (Reply("Done. I've deleted this conversation."),)
    assert turn.forgotten and turn.analyses == ("abc",)
    assert not parse_replies([{"text": "I've deleted this conversation"}]).forgotten


def test_two_turns_answer_as_one_in_order() -> None:
    first = Turn((Reply("caption reply"),), forgotten=True, analyses=("a",), rasa_s=0.5)
    second = Turn((Reply("file reply"),), analyses=("b",), rasa_s=0.25)
    both = first + second
    assert [reply.text for reply in both.replies] == ["caption reply", "file reply"]
    assert both.forgotten and both.analyses == ("a", "b") and both.rasa_s == 0.75


# --- text turns ----------------------------------------------------------------------------


def test_text_is_cleaned_by_the_shared_rule_before_rasa_sees_it(
    core: Conversations, rasa: FakeRasa
) -> None:
    turn = run(core.say(ME, "  sore\x00 throat\u0085\nsince\tmonday\ue000 "))
    assert rasa.turns == [(ME, "sore throat\nsince\tmonday", None)]
    assert turn.replies == (Reply("echo: sore throat\nsince\tmonday"),)
    assert turn.rasa_s >= 0


@pytest.mark.parametrize(
    ("text", "code"),
    [("", "empty_text"), (" \n\t ", "empty_text"), ("\x00\x01", "empty_text"),
     ("x" * 101, "text_too_long")],
)  # fmt: skip
def test_empty_or_too_long_text_never_reaches_rasa(
    core: Conversations, rasa: FakeRasa, text: str, code: str
) -> None:
    with pytest.raises(TextRefused) as refused:
        run(core.say(ME, text))
    assert refused.value.code == code and refused.value.detail.endswith(".")
    assert rasa.turns == []


def test_the_limit_counts_cleaned_characters(core: Conversations, rasa: FakeRasa) -> None:
    run(core.say(ME, "y" * 100 + "\x00" * 50))
    assert rasa.texts() == ["y" * 100]


def test_rasa_down_is_raised_and_logged_without_content(
    core: Conversations, rasa: FakeRasa, caplog: pytest.LogCaptureFixture
) -> None:
    rasa.down = True
    with caplog.at_level(logging.INFO), pytest.raises(RasaUnavailable):
        run(core.say(ME, "my private symptom"))
    assert "Rasa unavailable for web-me" in caplog.text
    assert "private symptom" not in caplog.text


def test_pace_refuses_a_fast_conversation_but_not_another(
    rasa: FakeRasa, store: LocalUploadStore
) -> None:
    now = [0.0]
    core = Conversations(rasa, store, 100, RateLimiter(60, burst=2, clock=lambda: now[0]))
    core.pace(ME)
    core.pace(ME)
    with pytest.raises(RateLimited) as limited:
        core.pace(ME)
    assert 0 < limited.value.retry_after_s <= 1.0
    core.pace(OTHER)
    now[0] += 1.0
    core.pace(ME)


# --- uploads -------------------------------------------------------------------------------


def test_an_upload_is_stored_then_announced_with_its_metadata(
    core: Conversations, rasa: FakeRasa, store: LocalUploadStore
) -> None:
    turn = run(core.upload(ME, jpeg(), "IMG_1.jpg", None, "web"))
    assert turn.upload is not None and turn.upload.kind == "image"
    assert store.info(turn.upload.id).owner == ME
    assert rasa.turns == [
        (ME, CHECK_PHOTO, {"upload_id": turn.upload.id, "kind": "image", "channel": "web"})
    ]


def test_the_caption_goes_first_as_its_own_turn(core: Conversations, rasa: FakeRasa) -> None:
    rasa.answers["my dad collapsed"] = [{"text": "Call the emergency number now."}]
    turn = run(core.upload(ME, PDF, "letter.pdf", " my dad collapsed ", "api"))
    assert rasa.texts() == ["my dad collapsed", ANALYZE_RECORD]
    assert rasa.turns[1][2] == {"upload_id": turn.upload.id, "kind": "pdf", "channel": "api"}
    assert turn.replies[0] == Reply("Call the emergency number now.")
    assert turn.replies[1].text.startswith("Received pdf ref")


@pytest.mark.parametrize("caption", [None, "", "  \x00 ", 42])
def test_a_blank_caption_is_no_turn(core: Conversations, rasa: FakeRasa, caption: object) -> None:
    run(core.upload(ME, PDF, "letter.pdf", caption, "web"))
    assert rasa.texts() == [ANALYZE_RECORD]


def test_refusals_store_nothing_and_send_nothing(
    core: Conversations, rasa: FakeRasa, tmp_path: Path
) -> None:
    with pytest.raises(TextRefused):
        run(core.upload(ME, jpeg(), "a.jpg", "c" * 101, "web"))
    with pytest.raises(UploadRejected) as rejected:
        run(core.upload(ME, PDF, "photo.jpg", "what is this?", "web"))
    assert rejected.value.message
    assert rasa.turns == []
    assert list((tmp_path / "uploads").glob("*.data")) == []


def test_forgotten_survives_an_upload_turn(core: Conversations, rasa: FakeRasa) -> None:
    rasa.answers[CHECK_PHOTO] = [{"text": "Deleted."}, {"custom": {"event": "forgotten"}}]
    assert run(core.upload(ME, jpeg(), None, "hello", "telegram")).forgotten


# --- images that name stored files ---------------------------------------------------------


def test_only_the_senders_own_stored_images_are_kept(
    core: Conversations, rasa: FakeRasa, store: LocalUploadStore
) -> None:
    mine = store.save(ME, jpeg(), None)
    theirs = store.save(OTHER, jpeg(), None)
    document = store.save(ME, PDF, "a.pdf")
    rasa.answers["show"] = [
        {"text": "Here it is", "image": f"upload:{mine.id}"},
        {"image": f"upload:{theirs.id}"},
        {"text": "and theirs", "image": f"upload:{theirs.id}"},
        {"image": f"upload:{document.id}"},
        {"image": "upload:doesnotexist00000000"},
        {"image": "upload:../../etc/passwd"},
    ]
    turn = run(core.say(ME, "show"))
    assert turn.replies == (Reply("Here it is", image=StoredImage(mine.id)), Reply("and theirs"))
    assert run(core.image_bytes(StoredImage(mine.id))) == store.read(mine.id)
    store.delete(mine.id)
    assert run(core.image_bytes(StoredImage(mine.id))) is None

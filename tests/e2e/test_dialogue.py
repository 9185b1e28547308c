"""End to end over the REST channel, against the real Rasa server and action server."""

from __future__ import annotations

import sqlite3

import pytest

from .conftest import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ADVICE = "My advice:"


def answer_questions(
    stack: Stack, sender: str, replies: list[str], answer: str = "no", max_turns: int = 10
) -> tuple[list[str], int]:
    """Answer every triage question with ``answer`` until the advice arrives; (replies, asked)."""
    for asked in range(max_turns):
        if any(ADVICE in reply for reply in replies):
            return replies, asked
        assert replies and replies[-1].endswith("?"), f"expected a question, got {replies}"
        replies = stack.say(sender, answer)
    pytest.fail(f"no advice after {max_turns} answers: {replies}")


def test_a_description_leads_to_questions_then_a_care_level(stack: Stack, sender: str) -> None:
    assert any("health assistant" in reply for reply in stack.say(sender, "hi there"))
    replies = stack.say(sender, "I've had a sore throat for 3 days")
    assert replies[-1].endswith("?") and "few quick questions" in "\n".join(replies), replies
    replies, asked = answer_questions(stack, sender, replies)
    advice = "\n".join(replies)
    assert 1 <= asked <= 8
    assert "My advice: look after it at home" in advice or "My advice: book" in advice, advice
    assert "not a diagnosis" in advice


def test_what_the_description_already_says_raises_the_level(stack: Stack, sender: str) -> None:
    """A fever in a baby under 3 months is an emergency (NICE NG143), whatever else is said:
    the classifier may already call it an emergency, or triage gets there."""
    replies = stack.say(sender, "my 2 month old baby has a temperature of 38.6")
    if not any("This could be an emergency" in reply for reply in replies):
        replies, _ = answer_questions(stack, sender, replies)
    advice = "\n".join(replies)
    assert any(word in advice for word in ("emergency department", "ambulance", "emergency"))
    assert "112" in advice


def test_a_red_flag_interrupts_the_questions(stack: Stack, sender: str) -> None:
    replies = stack.say(sender, "I have a headache")
    assert replies[-1].endswith("?"), replies
    replies = stack.say(sender, "my dad just collapsed and isn't breathing")
    assert any("emergency" in reply.lower() and "112" in reply for reply in replies), replies
    # The questions are over: a greeting is answered as a greeting, not taken as an answer.
    replies = stack.say(sender, "hello")
    assert any("health assistant" in reply for reply in replies), replies


def test_stop_ends_the_questions(stack: Stack, sender: str) -> None:
    replies = stack.say(sender, "my knee hurts")
    assert replies[-1].endswith("?"), replies
    replies = stack.say(sender, "stop")
    assert any("stopped the questions" in reply for reply in replies), replies


def test_parse_returns_red_flags(stack: Stack) -> None:
    parsed = stack.parse("my wife's face is drooping and she can't lift her arm")
    assert parsed["intent"]["name"] == "emergency"
    assert parsed["red_flags"], parsed
    assert {"id", "category", "text"} <= parsed["red_flags"][0].keys()
    calm = stack.parse("no chest pain, just a runny nose")
    assert calm["red_flags"] == []


def test_forget_me_erases_the_conversation(stack: Stack, sender: str) -> None:
    stack.say(sender, "hello")
    stack.say(sender, "i have a rash on my arm")
    assert stack.stored_events(sender) > 0
    replies = stack.say(sender, "please forget me and delete my data")
    assert any("delete" in reply for reply in replies), replies
    replies = stack.say(sender, "yes")
    assert any("deleted this conversation" in reply for reply in replies), replies
    assert stack.stored_events(sender) == 0
    # A new message starts fresh and still works.
    assert stack.say(sender, "hi")


def test_handoff_is_recorded_in_the_tracker_store(stack: Stack, sender: str) -> None:
    stack.say(sender, "hello")
    replies = stack.say(sender, "can i talk to a real person please")
    assert any("clinic team" in reply for reply in replies), replies
    with sqlite3.connect(stack.tracker_db) as db:
        rows = db.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'slot'", (sender,)
        ).fetchall()
    assert any('"handoff_request"' in data and "requested_at" in data for (data,) in rows)

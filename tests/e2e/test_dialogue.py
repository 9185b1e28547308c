"""End to end over the REST channel, against the real Rasa server and action server."""

from __future__ import annotations

import sqlite3

import pytest

from .conftest import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# What the patient answers to each intake question, keyed by a phrase of the question.
ANSWERS = {
    "main symptom": "a sore throat",
    "Where on your body": "my throat",
    "How long": "about 3 days",
    "How bad": "pretty bad",
}


def answer_intake(stack: Stack, sender: str, replies: list[str], max_turns: int = 6) -> list[str]:
    """Answer whatever the form asks until the summary arrives."""
    for _ in range(max_turns):
        if any("Here is what you told me" in reply for reply in replies):
            return replies
        question = next((key for key in ANSWERS if any(key in r for r in replies)), None)
        assert question, f"expected an intake question, got {replies}"
        replies = stack.say(sender, ANSWERS[question])
    pytest.fail(f"no summary after {max_turns} answers: {replies}")


def test_symptom_intake_ends_in_a_summary(stack: Stack, sender: str) -> None:
    assert any("health assistant" in reply for reply in stack.say(sender, "hi there"))
    replies = stack.say(sender, "i've got a sore throat")
    summary = "\n".join(answer_intake(stack, sender, replies))
    assert "sore throat" in summary
    assert "Suggested next step (see a GP)" in summary  # moderate for 3 days
    assert "This is not a diagnosis" in summary


def test_emergency_interrupts_the_intake(stack: Stack, sender: str) -> None:
    replies = stack.say(sender, "my knee hurts")
    assert any(key in reply for key in ANSWERS for reply in replies), replies
    replies = stack.say(sender, "my dad just collapsed and isn't breathing")
    assert any("emergency" in reply.lower() and "112" in reply for reply in replies), replies
    # The form is over: a greeting is answered as a greeting, not taken as an intake answer.
    replies = stack.say(sender, "hello")
    assert not any(key in reply for key in ANSWERS for reply in replies), replies


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

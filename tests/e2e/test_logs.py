"""No health content in any process's logs: Rasa, the action server and the edge.

Runs after the other end-to-end tests (conftest orders it last), so it scans everything they sent:
messages, captions, file contents and file names.
"""

from __future__ import annotations

import pytest

from .conftest import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# Phrases the end-to-end tests send; none may appear in a log line.
SENT = [
    "sore throat",
    "my knee hurts",
    "collapsed",
    "face is drooping",
    "runny nose",
    "rash on my arm",
    "my head hurts",
    "talk to a real person",
    "sore toe",  # the content of a text file uploaded through the gateway
    "isn't breathing",  # a photo caption
    "img_2041",  # an uploaded file's name
    "note.txt",
    "pneumonia",  # a pasted discharge summary and its findings
    "amoxicillin",
    "codeine",
    "sodium 131",
    "2 month old",  # a triage description and what it says
    "temperature of 38.6",
    "i have a headache",
]


def test_logs_hold_no_message_content(stack: Stack, sender: str) -> None:
    assert len(stack.logs) >= 2
    stack.say(sender, "i have a sore throat and my knee hurts")
    for log in stack.logs:
        text = log.read_text(errors="replace").lower()
        leaked = [phrase for phrase in SENT if phrase in text]
        assert not leaked, f"{log.name} contains message content: {leaked}"

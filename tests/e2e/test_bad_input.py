"""Hostile and broken input over the REST channel: a clear answer or a 4xx, never a crash."""

from __future__ import annotations

import json

import pytest
import requests

from .conftest import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

BAD_MESSAGES = {
    "empty": "",
    "whitespace": "   \n\t ",
    "huge": "my head hurts " * 3_600,  # about 50,000 characters
    "binary junk": bytes(range(256)).decode("latin-1") * 20,
    "emoji flood": "😷🤒🤕" * 5_000,
    "control characters": "\x00\x01\x02 hello \x7f",
    "markup": "<script>alert(1)</script> {{7*7}} ${jndi:ldap://x}",
}


@pytest.mark.parametrize("kind", sorted(BAD_MESSAGES))
def test_bad_messages_get_an_answer_and_state_survives(stack: Stack, sender: str, kind: str):
    stack.say(sender, "i have a headache")
    response = stack.send(sender, BAD_MESSAGES[kind])
    assert response.status_code < 500, response.text
    if response.status_code == 200:
        assert all(isinstance(reply, dict) for reply in response.json())
    # The conversation still works afterwards.
    assert stack.say(sender, "hello")


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"", b"\xff\xfe\x00garbage", json.dumps({"sender": "x"}).encode(),
     json.dumps({"message": 42, "sender": "x"}).encode(), json.dumps(["a"]).encode()],
)  # fmt: skip
def test_malformed_requests_are_refused_cleanly(stack: Stack, body: bytes):
    response = requests.post(
        f"{stack.rasa_url}/webhooks/rest/webhook",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["detail"]  # a plain reason, not a stack trace


@pytest.mark.parametrize(
    "sender_id", ["never-seen-before", "x" * 2_000, "../../etc/passwd", "😷", "' OR 1=1 --"]
)
def test_unknown_and_odd_sender_ids(stack: Stack, sender_id: str):
    response = stack.send(sender_id, "hello")
    assert response.status_code < 500, response.text
    if response.status_code == 200:
        assert stack.say(sender_id, "what can you do")

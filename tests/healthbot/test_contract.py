"""The contract's names exist in the Rasa project, and text is cleaned by one rule."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from healthbot import contract

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def domain() -> dict:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def test_every_intent_payload_is_an_intent_of_the_domain(domain: dict) -> None:
    payloads = {
        contract.CHECK_PHOTO,
        contract.ANALYZE_RECORD,
        contract.FORGET_ME,
        contract.REQUEST_HUMAN,
        *contract.UPLOAD_INTENTS.values(),
    }
    assert {p.removeprefix("/") for p in payloads} <= set(domain["intents"])


def test_every_upload_kind_has_an_intent() -> None:
    from healthbot.stores.uploads.types import Kind

    assert set(contract.UPLOAD_INTENTS) == set(Kind.__args__)
    assert contract.upload_intent("image") == "/check_photo"


def test_the_custom_events_are_the_ones_the_actions_send() -> None:
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "actions").glob("*.py"))
    assert "EVENT_FORGOTTEN" in sources and "EVENT_EHR_ANALYSIS" in sources


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        (" a\x00b\nc\x1b ", "ab\nc"),
        ("😷 sore\nthroat\u200b", "😷 sore\nthroat\u200b"),
        ("\x00\x01", ""),
        ("tab\there", "tab\there"),
        ("\ue000private", "private"),
        ("", ""),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert contract.clean_text(raw) == clean

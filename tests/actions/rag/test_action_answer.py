"""The answer action: thin glue from the tracker to the answer service."""

from __future__ import annotations

from pathlib import Path

import pytest

from actions import action_answer
from actions.rag.service import AnswerService
from actions.services import Services
from healthbot.settings import AnswerSettings, KbSettings

from ..conftest import make_tracker, run_action


@pytest.fixture
def service(built_kb: tuple[Path, Path], embedder, services: Services) -> None:
    kb, index = built_kb
    instance = AnswerService(
        KbSettings(dir=kb, index_dir=index), AnswerSettings(), embedder=embedder
    )
    services.override(answers=instance)


@pytest.mark.usefixtures("service")
def test_the_action_replies_with_a_cited_answer(domain) -> None:
    tracker = make_tracker(
        "how is it treated",
        "ask_health_info",
        entities=[{"entity": "condition", "value": "asthma", "start": 0, "end": 0}],
    )
    dispatcher, events = run_action(action_answer.ActionAnswerHealthQuestion(), tracker, domain)
    assert events == []
    [message] = dispatcher.messages
    assert "inhaler" in message["text"] and "[1]" in message["text"]
    assert "action_answer_health_question" in domain["actions"]


@pytest.mark.usefixtures("service")
def test_the_action_never_logs_the_question(domain, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    tracker = make_tracker("my secret gout question", "ask_health_info")
    run_action(action_answer.ActionAnswerHealthQuestion(), tracker, domain)
    assert "secret" not in caplog.text and "gout" not in caplog.text.lower()


class BrokenService:
    """A service whose model files are missing: every answer raises."""

    def answer(self, question: str, entities: tuple[str, ...] = ()) -> None:
        raise RuntimeError("model files missing")


def test_a_failing_service_still_gets_the_patient_a_reply(
    domain, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    services.override(answers=BrokenService())
    tracker = make_tracker("my private question about gout", "ask_health_info")
    dispatcher, events = run_action(action_answer.ActionAnswerHealthQuestion(), tracker, domain)
    assert events == []
    [message] = dispatcher.messages
    assert "try again shortly" in message["text"]
    assert "gout" not in caplog.text and "RuntimeError" in caplog.text

"""The core package works inside Rasa's environment (Python 3.10, pydantic 1.10) too."""

from __future__ import annotations

import sys

import pytest

from healthbot import contract
from healthbot.settings import PYDANTIC_V2, ComputeSettings, Settings


def test_rasa_reads_the_same_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert sys.version_info[:2] == (3, 10) and not PYDANTIC_V2
    monkeypatch.setenv("HEALTHBOT_MAX_MESSAGE_CHARS", "777")
    monkeypatch.setenv("HEALTHBOT_UPLOADS_DIR", "/srv/uploads")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    settings = Settings()
    assert settings.max_message_chars == 777
    assert str(settings.uploads.dir) == "/srv/uploads"
    assert settings.compute.threads == 1 and ComputeSettings().threads == 1


def test_rest_channel_uses_the_core_rules() -> None:
    from nlu.server import rest_channel

    assert rest_channel.clean_text is contract.clean_text
    assert Settings().max_message_chars == rest_channel.MAX_MESSAGE_CHARS


def test_the_red_flag_detector_runs_from_the_core() -> None:
    from healthbot.safety.red_flags import default_detector

    assert default_detector().detect("my dad collapsed")

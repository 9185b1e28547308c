"""Tests for the red-flag NLU component, on real Rasa objects (Python 3.10, .venv-rasa).

Run with::

    cd <repo> && PYTHONPATH=. .venv-rasa/bin/python -m pytest tests/nlu
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from nlu.components.red_flag_detector import RED_FLAGS_KEY, RedFlagDetector


def _create(tmp_path: Path, **config: Any) -> RedFlagDetector:
    """Build the component the way Rasa's graph does: default config merged with the user's."""
    return RedFlagDetector.create(
        {**RedFlagDetector.get_default_config(), **config},
        LocalModelStorage(tmp_path),
        Resource("red_flag_detector"),
        ExecutionContext(GraphSchema({}), "1"),
    )


def _classified(text: str, intent: str = "report_symptom", confidence: float = 0.8) -> Message:
    """A message as it leaves DIET + FallbackClassifier."""
    message = Message(data={TEXT: text})
    message.set(INTENT, {"name": intent, "confidence": confidence}, add_to_output=True)
    message.set(
        INTENT_RANKING_KEY,
        [{"name": intent, "confidence": confidence}, {"name": "inform", "confidence": 0.1}],
        add_to_output=True,
    )
    return message


@pytest.fixture()
def component(tmp_path: Path) -> RedFlagDetector:
    return _create(tmp_path)


def test_registered_as_untrainable_intent_classifier() -> None:
    registered = DefaultV1Recipe._from_registry("nlu.components.red_flag_detector.RedFlagDetector")
    assert registered.types == {DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER}
    assert registered.is_trainable is False
    assert RedFlagDetector.get_default_config() == {"emergency_intent": "emergency"}


@pytest.mark.parametrize(
    ("text", "expected_ids"),
    [
        ("my dad collapsed and he isn't breathing", {"RF002", "RF007"}),
        ("crushing pain in my chest", {"RF004"}),
        ("my baby's lips are turning blue", {"RF023"}),
        ("i want to kill myself", {"RF008"}),
    ],
)
def test_red_flag_sets_flags_and_forces_emergency(
    component: RedFlagDetector, text: str, expected_ids: set[str]
) -> None:
    [message] = component.process([_classified(text)])
    flags = message.get(RED_FLAGS_KEY)
    assert {flag["id"] for flag in flags} == expected_ids
    assert all(text[f["start"] : f["end"]] == f["text"] for f in flags)
    assert message.get(INTENT) == {"name": "emergency", "confidence": 1.0}
    ranking = message.get(INTENT_RANKING_KEY)
    assert ranking[0] == {"name": "emergency", "confidence": 1.0}
    assert ranking[1] == {"name": "report_symptom", "confidence": 0.8}


@pytest.mark.parametrize(
    "text",
    ["i have a sore throat", "no chest pain, just a cough", "what are the signs of a stroke"],
)
def test_everyday_message_keeps_its_intent(component: RedFlagDetector, text: str) -> None:
    [message] = component.process([_classified(text, "ask_health_info", 0.9)])
    assert message.get(RED_FLAGS_KEY) == []
    assert message.get(INTENT) == {"name": "ask_health_info", "confidence": 0.9}
    assert message.get(INTENT_RANKING_KEY)[0]["name"] == "ask_health_info"


def test_red_flags_are_part_of_the_parse_output(component: RedFlagDetector) -> None:
    """`MessageProcessor` builds /model/parse from `as_dict(only_output_properties=True)`."""
    [message] = component.process([_classified("my son is having a seizure")])
    output = message.as_dict(only_output_properties=True)
    assert [flag["id"] for flag in output[RED_FLAGS_KEY]] == ["RF019"]
    assert output[INTENT]["name"] == "emergency"


def test_nlu_fallback_is_overridden_and_kept_in_ranking(component: RedFlagDetector) -> None:
    [message] = component.process([_classified("cant breathe", "nlu_fallback", 0.5)])
    assert message.get(INTENT)["name"] == "emergency"
    assert [r["name"] for r in message.get(INTENT_RANKING_KEY)] == [
        "emergency",
        "nlu_fallback",
        "inform",
    ]


def test_message_without_a_classifier_intent(component: RedFlagDetector) -> None:
    [message] = component.process([Message(data={TEXT: "my wife can't breathe"})])
    assert message.get(INTENT) == {"name": "emergency", "confidence": 1.0}
    assert message.get(INTENT_RANKING_KEY) == [{"name": "emergency", "confidence": 1.0}]


def test_configured_emergency_intent(tmp_path: Path) -> None:
    component = _create(tmp_path, emergency_intent="urgent_help")
    [message] = component.process([_classified("coughing up blood")])
    assert message.get(INTENT)["name"] == "urgent_help"


def test_self_harm_flag_is_marked(component: RedFlagDetector) -> None:
    [message] = component.process([_classified("i'm thinking about ending my life")])
    [flag] = message.get(RED_FLAGS_KEY)
    assert flag["id"] == "RF008"
    assert flag["category"] == "mental health"
    assert flag["self_harm"] is True


@pytest.mark.parametrize("text", ["", None, "\x00\x01" * 1000, "😩" * 20000])
def test_odd_input_never_breaks_the_pipeline(component: RedFlagDetector, text: Any) -> None:
    message = Message(data={TEXT: text} if text is not None else {})
    [processed] = component.process([message])
    assert processed.get(RED_FLAGS_KEY) == []
    assert processed.get(INTENT) is None

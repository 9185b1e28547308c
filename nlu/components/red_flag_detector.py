"""Emergency red flags in Rasa's NLU pipeline: flags every message, overrides the intent.

Why here: ARCHITECTURE.md puts "emergencies first" - every message passes the red-flag detector
before anything else, whatever the intent classifier thought. Running it as the last NLU
component means rules can react to one intent (``emergency``) and the action server finds the
flags in ``tracker.latest_message["red_flags"]``.

For each message this component:

- sets ``red_flags``: a list of ``RedFlag.to_dict()`` (``id``, ``category``, ``text``, ``start``,
  ``end``, ``label``, ``self_harm``), added to the output so ``/model/parse`` and the tracker's
  ``latest_message`` carry it (``Message.set(..., add_to_output=True)`` puts it in
  ``output_properties``, which ``MessageProcessor`` keeps);
- when there is at least one flag, sets the intent to ``emergency_intent`` with confidence 1.0,
  and puts the classifier's intent below it in ``intent_ranking``.

The detector itself (``healthbot/safety/red_flags.py``) is pure standard-library Python, shared
with the action server. Usage in config.yml, after the intent classifier and FallbackClassifier::

    - name: nlu.components.red_flag_detector.RedFlagDetector
      # emergency_intent: emergency
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from healthbot.safety.red_flags import RedFlagDetector as _Detector
from healthbot.safety.red_flags import default_detector

logger = logging.getLogger(__name__)

RED_FLAGS_KEY = "red_flags"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class RedFlagDetector(GraphComponent, IntentClassifier):
    """Adds ``red_flags`` to each message and forces the emergency intent when any is found."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """``emergency_intent``: the intent set when a red flag is found (must be in the domain)."""
        return {"emergency_intent": "emergency"}

    def __init__(self, config: dict[str, Any], detector: _Detector | None = None) -> None:
        """Store the config; the detector is the process-wide cached one unless given."""
        self._emergency_intent: str = config["emergency_intent"]
        self._detector = detector or default_detector()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RedFlagDetector:
        """Nothing to train or persist: the patterns ship with the code."""
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        """Detect red flags in each message; override the intent of flagged ones."""
        for message in messages:
            flags = self._detect(message.get(TEXT))
            message.set(RED_FLAGS_KEY, flags, add_to_output=True)
            if flags:
                self._force_emergency(message)
        return messages

    def _detect(self, text: Any) -> list[dict[str, Any]]:
        """Flags as plain dicts; odd input or a detector bug never breaks message handling."""
        if not isinstance(text, str) or not text:
            return []
        try:
            return [flag.to_dict() for flag in self._detector.detect(text)]
        except Exception as error:  # the pipeline must answer; an exception text may quote content
            logger.error("red-flag detection failed: %s (message not logged)", type(error).__name__)
            return []

    def _force_emergency(self, message: Message) -> None:
        """Emergency intent at 1.0; the classifier's intent stays visible in the ranking."""
        previous = message.get(INTENT) or {}
        ranking = [
            entry
            for entry in message.get(INTENT_RANKING_KEY) or []
            if entry.get(INTENT_NAME_KEY) != self._emergency_intent
        ]
        previous_name = previous.get(INTENT_NAME_KEY)
        ranked = {entry.get(INTENT_NAME_KEY) for entry in ranking}
        if previous_name and previous_name not in ranked | {self._emergency_intent}:
            ranking.insert(0, dict(previous))
        emergency = {INTENT_NAME_KEY: self._emergency_intent, PREDICTED_CONFIDENCE_KEY: 1.0}
        message.set(INTENT, emergency, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [dict(emergency), *ranking], add_to_output=True)

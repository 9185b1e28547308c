"""Health and medicine questions, answered from the knowledge base with citations.

The action is thin: `actions/rag/service.py` does the work; `actions/services.py` builds it once
per process (and warms it up when the server starts).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.rag.service import UNAVAILABLE
from actions.services import get_services

logger = logging.getLogger(__name__)
BOOSTED_ENTITIES = ("condition", "medication")


def _entities(tracker: Tracker) -> tuple[str, ...]:
    found = tracker.latest_message.get("entities") or []
    return tuple(
        str(e.get("value"))
        for e in found
        if e.get("entity") in BOOSTED_ENTITIES and isinstance(e.get("value"), str)
    )


class ActionAnswerHealthQuestion(Action):
    """Answers `ask_health_info` and `ask_medication_info`."""

    def name(self) -> str:
        return "action_answer_health_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        question = str(tracker.latest_message.get("text") or "")
        try:
            service = await asyncio.to_thread(lambda: get_services().answers)
            result = await asyncio.to_thread(service.answer, question, _entities(tracker))
        except Exception as error:  # a patient gets a reply, never a silent 500
            logger.error("health answer failed: %s (question not logged)", type(error).__name__)
            dispatcher.utter_message(text=UNAVAILABLE)
            return []
        logger.info(
            "health question answered: status=%s backend=%s citations=%d latency_ms=%.0f",
            result.status,
            result.backend,
            len(result.citations),
            result.latency_ms,
        )
        dispatcher.utter_message(text=result.text)
        return []

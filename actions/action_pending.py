"""Capabilities whose services are still being built: say so, never improvise medical content.

They already acknowledge an upload (proving the file reached the action server by id), so the
photo checker and the record analyzer only have to replace the "being set up" part.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.attachments import describe, latest_upload


class PendingCapabilityAction(Action, ABC):
    """Says the capability is being set up; subclasses name it (abstract: not registered)."""

    capability = ""
    ask_for_file = ""

    @abstractmethod
    def name(self) -> str:
        """The action name in domain.yml."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        upload = latest_upload(tracker)
        if upload is not None:
            dispatcher.utter_message(text=f"I've received your {describe(upload)}.")
        dispatcher.utter_message(response="utter_capability_pending", capability=self.capability)
        return []


class ActionAnalyzeRecord(PendingCapabilityAction):
    """Health record explanations (the EHR analyzer fills this in)."""

    capability = "Explaining health records"

    def name(self) -> str:
        return "action_analyze_record"

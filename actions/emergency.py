"""The emergency reply, shared by every action that meets a red flag (not an action itself)."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from healthbot.safety.red_flags import is_self_harm
from healthbot.settings import Settings


def emergency_reply(dispatcher: CollectingDispatcher, tracker: Tracker, settings: Settings) -> None:
    """What to do now and the emergency number; a crisis line for self-harm."""
    flags = [f for f in tracker.latest_message.get("red_flags") or [] if isinstance(f, dict)]
    response = "utter_emergency_self_harm" if is_self_harm(flags) else "utter_emergency"
    dispatcher.utter_message(
        response=response,
        emergency_number=settings.emergency_number,
        crisis_line=settings.crisis_line,
    )

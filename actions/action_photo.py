"""Wound photos: check the photo, outline the wound, track its size, ask about infection.

Thin: `actions/photo/service.py` does the image work, the photo history
(`healthbot/stores/photo_history.py`) keeps the sizes for the trend, `actions/photo/advice.py`
holds the rule table behind the advice; all come from `actions/services.py`. Nothing about
the photo or the answers is logged.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.attachments import describe, latest_upload
from actions.photo.advice import SIGNS, advise
from actions.photo.trend import trend_text
from actions.services import get_services
from healthbot.contract import UPLOAD_REF_PREFIX

if TYPE_CHECKING:
    from actions.photo.service import PhotoResult

logger = logging.getLogger(__name__)

SEND_A_PHOTO = (
    "Please send the photo itself: tap the paperclip (📎) and choose a photo of the wound. "
    "Take it in daylight, from about 30 cm, straight above the wound."
)
NOT_A_PHOTO = "That's a document, not a photo. To check a wound, please send a photo of it."
NO_WOUND = (
    "I couldn't find a wound in this photo. If there is one, make sure it's in the middle of the "
    "picture, in focus and well lit, and send it again. If you're worried about your foot, "
    "contact the clinic."
)
CAVEAT = (
    "Sizes only compare when photos are taken the same way: the same distance (about 30 cm), "
    "straight above the wound, in daylight, without zoom. This is a measurement, not a diagnosis."
)
FIRST_PHOTO = "This is your first photo here: from the next one on, I'll compare the size."
FAILED = (
    "Sorry, I couldn't check the photo just now. Please try again in a few minutes, or show it "
    "to the clinic team."
)


def share(fraction: float) -> str:
    """ "about 3 %" ("less than 1 %" for small ones)."""
    percent = fraction * 100
    return "less than 1 %" if percent < 1 else f"about {percent:.0f} %"


def _reset(found: bool) -> list[dict[str, Any]]:
    """The infection answers start empty for every photo."""
    return [SlotSet("wound_found", found), *(SlotSet(slot, None) for slot in SIGNS)]


class ActionCheckPhoto(Action):
    """Replies to a photo upload with the check, the overlay and the trend."""

    def name(self) -> str:
        return "action_check_photo"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        services = get_services()
        upload = latest_upload(tracker, services.uploads)
        if upload is None or upload.kind != "image":
            dispatcher.utter_message(text=SEND_A_PHOTO if upload is None else NOT_A_PHOTO)
            return _reset(False)
        dispatcher.utter_message(text=f"I've received your {describe(upload)}.")
        try:
            data = await asyncio.to_thread(services.uploads.read, upload.id)
            checker = await asyncio.to_thread(lambda: services.photo_checker)
            result = await asyncio.to_thread(checker.check, data)
        except Exception as error:  # the patient gets an answer, never a silent 500
            logger.error("photo check failed: %s", type(error).__name__)
            dispatcher.utter_message(text=FAILED)
            return _reset(False)
        # Timings only: whether a wound was found is health data and stays out of the log.
        logger.info("photo checked in %s ms", {k: round(v) for k, v in result.timings_ms.items()})
        if not result.usable:
            for problem in result.problems:
                dispatcher.utter_message(text=f"{problem.message} Tip: {problem.tip}")
            return _reset(False)
        if not result.wound_found:
            dispatcher.utter_message(text=NO_WOUND)
            return _reset(False)
        await self._report(dispatcher, tracker.sender_id, result)
        dispatcher.utter_message(response="utter_wound_questions_intro")
        return _reset(True)

    @staticmethod
    async def _report(dispatcher: CollectingDispatcher, sender: str, result: PhotoResult) -> None:
        area = float(result.wound_area_fraction or 0.0)
        services = get_services()
        overlay = await asyncio.to_thread(services.photo_checker.overlay, result)
        stored = await asyncio.to_thread(services.uploads.save, sender, overlay, "overlay.jpg")
        history = services.photo_history
        trend = trend_text(area, await asyncio.to_thread(history.previous, sender))
        await asyncio.to_thread(history.add, sender, area)
        await asyncio.to_thread(history.purge)  # retention: everyone's old sizes go
        text = (
            f"I found what looks like a wound and outlined it in yellow. "
            f"It covers {share(area)} of the photo."
        )
        dispatcher.utter_message(text=text, image=f"{UPLOAD_REF_PREFIX}{stored.id}")
        dispatcher.utter_message(text=f"{trend or FIRST_PHOTO} {CAVEAT}")


class ActionWoundAdvice(Action):
    """After the infection questions: emergency, same-day clinic, or routine care."""

    def name(self) -> str:
        return "action_wound_advice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        advice = advise({slot: tracker.get_slot(slot) for slot in SIGNS})
        if advice.level == "emergency":
            dispatcher.utter_message(
                response="utter_wound_emergency",
                emergency_number=get_services().settings.emergency_number,
            )
        elif advice.level == "same_day":
            dispatcher.utter_message(response="utter_wound_same_day", signs=", ".join(advice.signs))
        else:
            dispatcher.utter_message(response="utter_wound_routine")
        return [SlotSet("wound_found", None)]

"""The infection questions after a wound photo, and the advice their answers lead to.

A transparent table, not a model. The signs are the local and systemic signs of diabetic foot
infection that the IWGDF/IDSA guideline uses (Senneville et al., "IWGDF/IDSA guidelines on the
diagnosis and treatment of diabetes-related foot infections", 2023): redness spreading from the
wound, warmth, swelling, pus, and (patient-reported) bad smell and new pain; fever with spreading
redness suggests a systemic infection, which needs emergency care the same hour, not a booking.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# Slot name → how the sign is named back to the patient (order = the order of the questions).
SIGNS: dict[str, str] = {
    "wound_redness": "spreading redness",
    "wound_warmth": "warmth around the wound",
    "wound_swelling": "swelling",
    "wound_pus": "pus or discharge",
    "wound_smell": "a bad smell",
    "wound_fever": "fever or chills",
    "wound_pain": "new or worse pain",
}
EMERGENCY_COMBINATION = ("wound_fever", "wound_redness")

Level = Literal["emergency", "same_day", "routine"]


@dataclass(frozen=True)
class Advice:
    """What to tell the patient: the level and the signs they reported."""

    level: Level
    signs: tuple[str, ...]


def advise(answers: dict[str, object]) -> Advice:
    """Fever with spreading redness → emergency; any other yes → same day; else routine."""
    yes = tuple(slot for slot in SIGNS if answers.get(slot) is True)
    named = tuple(SIGNS[slot] for slot in yes)
    if all(slot in yes for slot in EMERGENCY_COMBINATION):
        return Advice("emergency", named)
    return Advice("same_day" if yes else "routine", named)

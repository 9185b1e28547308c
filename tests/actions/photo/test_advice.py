"""The infection questions' rule table."""

from __future__ import annotations

import pytest

from actions.photo.advice import SIGNS, advise


def test_nothing_reported_is_routine() -> None:
    assert advise({slot: False for slot in SIGNS}).level == "routine"
    assert advise({}).level == "routine"  # unanswered is not a yes


@pytest.mark.parametrize("slot", sorted(SIGNS))
def test_any_single_yes_is_same_day(slot: str) -> None:
    advice = advise({slot: True})
    assert advice.level == "same_day" and advice.signs == (SIGNS[slot],)


def test_fever_with_spreading_redness_is_an_emergency() -> None:
    advice = advise({"wound_fever": True, "wound_redness": True, "wound_pus": False})
    assert advice.level == "emergency"
    assert advice.signs == ("spreading redness", "fever or chills")


def test_fever_alone_or_redness_alone_is_same_day() -> None:
    assert advise({"wound_fever": True}).level == "same_day"
    assert advise({"wound_redness": True, "wound_warmth": True}).level == "same_day"


def test_strings_are_not_answers() -> None:
    assert advise({"wound_fever": "yes", "wound_redness": "true"}).level == "routine"

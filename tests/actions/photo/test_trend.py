"""The trend sentence: compared with the latest earlier photo, rounded like a person would."""

from __future__ import annotations

import time

from actions.photo.trend import trend_text
from healthbot.stores.photo_history import Measurement


def test_trend_wording() -> None:
    nov12 = time.mktime((2026, 11, 12, 10, 0, 0, 0, 0, -1))
    earlier = [Measurement(nov12, 0.050)]
    assert trend_text(0.040, earlier) == "The wound looks about 20 % smaller than on 12 Nov."
    assert trend_text(0.065, earlier) == "The wound looks about 30 % larger than on 12 Nov."
    assert trend_text(0.052, earlier) == "The wound looks about the same size as on 12 Nov."
    assert trend_text(0.05, []) is None
    assert trend_text(0.05, [Measurement(nov12, 0.0)]) is None

"""How a wound's size changed since the last photo, in words a patient can act on."""

from __future__ import annotations

import time

from healthbot.stores.photo_history import Measurement


def trend_text(current: float, earlier: list[Measurement]) -> str | None:
    """ "about 20 % smaller than on 12 Nov" against the latest earlier photo, or None."""
    if not earlier:
        return None
    last = earlier[-1]
    when = time.strftime("%-d %b", time.localtime(last.taken))
    if last.area_fraction <= 0:
        return None
    change = (current - last.area_fraction) / last.area_fraction
    if abs(change) < 0.10:
        return f"The wound looks about the same size as on {when}."
    direction = "smaller" if change < 0 else "larger"
    percent = round(abs(change) * 100 / 5) * 5  # to the nearest 5 %: photos are not rulers
    return f"The wound looks about {percent:.0f} % {direction} than on {when}."

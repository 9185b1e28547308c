"""The wound-size history behind the trend: per sender, retention, deletion."""

from __future__ import annotations

import time
from pathlib import Path

from healthbot.stores.photo_history import PhotoHistory

DAY = 86_400.0


def test_add_previous_delete(tmp_path: Path) -> None:
    history = PhotoHistory(tmp_path / "h.db", retention_days=30)
    history.add("a", 0.05, taken=time.time() - 2 * DAY)
    history.add("a", 0.04)
    history.add("b", 0.10)
    assert [round(m.area_fraction, 2) for m in history.previous("a")] == [0.05, 0.04]
    assert history.delete_owner("a") == 2
    assert history.previous("a") == [] and len(history.previous("b")) == 1


def test_retention(tmp_path: Path) -> None:
    history = PhotoHistory(tmp_path / "h.db", retention_days=10)
    now = time.time()
    history.add("a", 0.05, taken=now - 20 * DAY)
    history.add("a", 0.04, taken=now - 1 * DAY)
    assert len(history.previous("a", now=now)) == 1  # old ones are not used for the trend
    assert history.purge(now=now) == 1
    assert history.purge(now=now) == 0

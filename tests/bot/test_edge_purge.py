"""Retention at the edge: uploads, record analyses and triage records past their retention are
deleted by the hourly purge even when nothing new is written."""

from __future__ import annotations

import os
import time
from pathlib import Path

from bot.edge import purge_once
from healthbot.stores.analyses import LocalAnalysisStore


def _age(folder: Path, days: float) -> None:
    old = time.time() - days * 86_400
    for path in folder.rglob("*.json"):
        os.utime(path, (old, old))


def test_the_purge_reaches_analyses_and_triage_records(tmp_path: Path) -> None:
    analyses = LocalAnalysisStore(tmp_path / "ehr", retention_days=30)
    triage = LocalAnalysisStore(tmp_path / "triage", retention_days=30)
    old_analysis = analyses.save("p-1", {"findings": []})
    old_triage = triage.save("p-1", {"level": "routine"})
    _age(tmp_path, 31)
    kept = triage.save("p-2", {"level": "urgent"})
    assert purge_once([analyses, triage]) == 2
    assert analyses.read("p-1", old_analysis) is None and triage.read("p-1", old_triage) is None
    assert triage.read("p-2", kept) == {"level": "urgent"}


class Broken:
    def purge_expired(self, now: float | None = None) -> int:
        raise OSError("disk gone")


def test_one_failing_store_does_not_stop_the_others(tmp_path: Path) -> None:
    triage = LocalAnalysisStore(tmp_path / "triage", retention_days=1)
    triage.save("p-1", {"level": "routine"})
    _age(tmp_path, 2)
    assert purge_once([Broken(), triage]) == 1

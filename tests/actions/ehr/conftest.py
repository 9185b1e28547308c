"""One real analyzer (the shipped NER model + ConText pipeline) for the whole session."""

from __future__ import annotations

from pathlib import Path

import pytest

from actions.ehr.analyzer import EhrAnalyzer

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def analyzer() -> EhrAnalyzer:
    return EhrAnalyzer(ROOT / "models" / "ehr-ner", device="cpu", batch_size=8)

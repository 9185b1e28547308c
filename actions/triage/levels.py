"""The five care levels, lowest to highest; the wording a patient reads lives in levels.yml."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict

Level = Literal["self_care", "routine", "urgent", "emergency", "emergency_ambulance"]
LEVELS: tuple[Level, ...] = ("self_care", "routine", "urgent", "emergency", "emergency_ambulance")
EMERGENCY_LEVELS: frozenset[str] = frozenset({"emergency", "emergency_ambulance"})
LEVELS_FILE = Path(__file__).with_name("levels.yml")


def rank(level: str) -> int:
    """0 (self care) … 4 (call an ambulance); higher is more urgent."""
    return LEVELS.index(level)  # type: ignore[arg-type]


def highest(*levels: str | None) -> Level:
    """The most urgent of the given levels (self care when none is given)."""
    given = [level for level in levels if level is not None]
    return max(given, key=rank, default="self_care")  # type: ignore[return-value]


class LevelText(BaseModel):
    """What the patient reads for a level: the level in plain words, what to do, when to act
    sooner. ``{emergency_number}`` is filled from the settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    do_now: str
    safety_net: str
    source: str


@lru_cache(maxsize=1)
def level_texts() -> dict[str, LevelText]:
    """levels.yml, checked: one entry per level."""
    raw = yaml.safe_load(LEVELS_FILE.read_text(encoding="utf-8"))
    texts = {level: LevelText(**raw[level]) for level in LEVELS}
    return texts

"""Pick safe, general next steps from the transparent rule table in ``next_steps.yml``.

The table is data, not code, so a clinic can read and change it; this module only
evaluates it (first matching rule wins) and refuses a malformed table at load time
with the file and rule that is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

TABLE_PATH = Path(__file__).with_name("next_steps.yml")
SEVERITIES = ("mild", "moderate", "severe")
_CONDITIONS = {"severity", "min_days", "max_days"}


@dataclass(frozen=True)
class NextStep:
    """One row of the table."""

    rule_id: str
    level: str
    advice: str
    when: dict[str, Any]

    def matches(self, severity: str | None, days: float | None) -> bool:
        """All conditions hold (an unknown value never satisfies a condition on it)."""
        if "severity" in self.when and severity != self.when["severity"]:
            return False
        if "min_days" in self.when and (days is None or days < self.when["min_days"]):
            return False
        return not ("max_days" in self.when and (days is None or days > self.when["max_days"]))


class RuleTableError(ValueError):
    """The rule table is malformed; the message names the file and the rule."""


def load_table(path: Path = TABLE_PATH) -> list[NextStep]:
    """Parse and check the table; the last rule must match everything."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    rows = data.get("rules")
    if not isinstance(rows, list) or not rows:
        raise RuleTableError(f"{path}: expected a non-empty 'rules:' list")
    table = [_parse_row(path, index, row) for index, row in enumerate(rows, start=1)]
    if table[-1].when:
        raise RuleTableError(f"{path}: the last rule ({table[-1].rule_id}) must have `when: {{}}`")
    return table


def _parse_row(path: Path, index: int, row: Any) -> NextStep:
    where = f"{path}: rule #{index}"
    if not isinstance(row, dict) or not {"id", "level", "advice"} <= row.keys():
        raise RuleTableError(f"{where}: needs id, level, advice and when")
    when = row.get("when") or {}
    unknown = set(when) - _CONDITIONS
    if unknown:
        raise RuleTableError(f"{where} ({row['id']}): unknown condition(s) {sorted(unknown)}")
    if "severity" in when and when["severity"] not in SEVERITIES:
        raise RuleTableError(f"{where} ({row['id']}): severity must be one of {SEVERITIES}")
    return NextStep(str(row["id"]), str(row["level"]), " ".join(str(row["advice"]).split()), when)


@lru_cache(maxsize=1)
def default_table() -> tuple[NextStep, ...]:
    """The shipped table, loaded once per process."""
    return tuple(load_table())


def next_step(severity: str | None, days: float | None) -> NextStep:
    """The first rule of the shipped table that matches."""
    return next(row for row in default_table() if row.matches(severity, days))

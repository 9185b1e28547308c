"""Triage: select protocols, answer what the text already answers, decide the level, pick the next
question.

The level is the most urgent of the red-flag floor, every rule that holds and the protocols'
base levels; while a question that could still raise it is open, at least the protocol's
``unresolved_level`` (capped at what the open rules could give). The next question is the open
one that could raise the level the most (the protocol file's order breaks ties), so a patient is
asked only what can still change the advice, most dangerous first.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml

from actions.triage.findings import Findings, Reader, Span, answer_from_text
from actions.triage.levels import EMERGENCY_LEVELS, Level, highest, rank
from actions.triage.protocols import PROTOCOL_DIR, Condition, Protocol, Question, Rule
from actions.triage.protocols import load_protocols as _load_protocols

AnswerValue = Literal["yes", "no", "unsure"]
MAX_QUESTIONS = 8
RED_FLAG_LEVELS = Path(__file__).with_name("red_flag_levels.yml")
SCHEMA = "healthbot.triage/v1"


@dataclass(frozen=True)
class Fired:
    """A rule that holds, for the patient's "because …" and the clinic's record."""

    protocol: str
    rule: str
    level: str
    reason: str
    source: str


@dataclass
class Result:
    """One assessment of the conversation so far."""

    level: Level
    protocols: list[str]
    fired: list[Fired]
    findings: Findings
    answers: dict[str, dict[str, Any]]
    red_flags: list[str]
    next_question: tuple[str, Question] | None
    unresolved: bool
    versions: dict[str, int]
    latency_ms: float = 0.0
    titles: dict[str, str] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.next_question is None

    def reasons(self) -> list[str]:
        """The reasons of the rules that set the level (most urgent first, no repeats)."""
        top = [f for f in self.fired if f.level == self.level]
        return list(dict.fromkeys(f.reason for f in top))

    def to_json(self) -> dict[str, Any]:
        """The clinic's triage record: no message text, only spans into the messages."""
        return {
            "schema": SCHEMA, "level": self.level, "protocols": self.protocols,
            "protocol_versions": self.versions, "red_flags": self.red_flags,
            "rules_fired": [f.__dict__ for f in self.fired], "answers": self.answers,
            "findings": self.findings.to_json(), "unresolved": self.unresolved,
            "done": self.done,
        }  # fmt: skip


@lru_cache(maxsize=1)
def red_flag_levels() -> dict[str, str]:
    """Red-flag id → floor level (``emergency`` for those not listed)."""
    raw = yaml.safe_load(RED_FLAG_LEVELS.read_text(encoding="utf-8"))
    return {str(k): str(v["level"]) for k, v in (raw.get("levels") or {}).items()}


def evaluate(condition: Condition, answers: Mapping[str, str], facts: Findings) -> bool | None:
    """True, False, or None when it depends on a question not answered yet (or "not sure")."""
    op = condition.op
    if op in ("yes_to", "no_to"):
        answer = answers.get(condition.arg)
        if answer not in ("yes", "no"):
            return None
        return answer == ("yes" if op == "yes_to" else "no")
    if op in ("all", "any", "not"):
        values = [evaluate(part, answers, facts) for part in condition.parts]
        if op == "not":
            return None if values[0] is None else not values[0]
        decided = op != "all"
        if decided in values:
            return decided
        return None if None in values else not decided
    return _fact(condition, facts)


def _fact(condition: Condition, facts: Findings) -> bool:
    """A condition on what the text says; an unknown fact is False (questions learn more)."""
    op, arg, age = condition.op, condition.arg, facts.age_years
    checks = {
        "age_gte": lambda: age is not None and age >= arg,
        "age_lt": lambda: age is not None and age < arg,
        "age_lt_months": lambda: age is not None and age * 12 < arg,
        "sex": lambda: facts.sex == arg,
        "pregnant": lambda: bool(facts.pregnant) is bool(arg),
        "risk": lambda: arg in facts.risks,
        "duration_days_gte": lambda: facts.duration_days is not None and facts.duration_days >= arg,
        "duration_days_lt": lambda: facts.duration_days is not None and facts.duration_days < arg,
        "severity_gte": lambda: facts.severity is not None and facts.severity >= arg,
        "vital": lambda: _vital(condition, facts),
    }  # fmt: skip
    return bool(checks[op]())


def _vital(condition: Condition, facts: Findings) -> bool:
    value = facts.vitals.get(condition.arg)
    if value is None or condition.compare is None:
        return False
    key, limit = condition.compare
    return {"gte": value >= limit, "gt": value > limit, "lte": value <= limit,
            "lt": value < limit}[key]  # fmt: skip


class TriageEngine:
    """Protocols and the findings reader, loaded once; ``assess`` is pure and fast."""

    def __init__(self, protocols: Sequence[Protocol], reader: Reader | None = None) -> None:
        self.protocols = tuple(p for p in protocols if not p.fallback and not p.always)
        self.fallback = next((p for p in protocols if p.fallback), None)
        self.always = tuple(p for p in protocols if p.always)
        self.reader = reader or Reader()

    @classmethod
    def load(cls, folder: Path = PROTOCOL_DIR) -> TriageEngine:
        return cls(_load_protocols(folder))

    def assess(
        self,
        messages: Sequence[str],
        answers: Mapping[str, AnswerValue] | None = None,
        asked: Sequence[str] = (),
        max_questions: int = MAX_QUESTIONS,
    ) -> Result:
        """The level and the next question, from the patient's messages (oldest first), the
        answers given with buttons (question id → yes/no/unsure) and the questions asked."""
        started = time.perf_counter()
        messages = [m for m in messages if isinstance(m, str) and m.strip()]
        contexts = [self.reader.context(m[:5000]) for m in messages]
        facts = self.reader.read(messages)
        selected = self._select(contexts, facts)
        known = self._answers(selected, contexts, dict(answers or {}))
        values = {qid: a["value"] for qid, a in known.items()}
        flags = self._red_flags(messages)
        fired, open_rules = self._rules(selected, values, facts)
        floor = highest(*(red_flag_levels().get(f, "emergency") for f in flags)) if flags else None
        certain = highest(floor, *(f.level for f in fired), *(p.base_level for p in selected))
        budget = max_questions - len(asked)
        finished = budget <= 0 and bool(asked)
        level, unresolved = self._unresolved(open_rules, certain, finished)
        question = self._next(selected, open_rules, certain, values, asked) if budget > 0 else None
        return Result(
            level=level, protocols=[p.id for p in selected], fired=fired, findings=facts,
            answers=known, red_flags=flags, next_question=question, unresolved=unresolved,
            versions={p.id: p.version for p in selected},
            latency_ms=(time.perf_counter() - started) * 1000,
            titles={p.id: p.title for p in selected},
        )  # fmt: skip

    def question(self, question_id: object) -> Question | None:
        """A question by id, in any protocol."""
        if not isinstance(question_id, str):
            return None
        for protocol in self._everything():
            if question_id in protocol.question_index:
                return protocol.question_index[question_id]
        return None

    def protocol(self, protocol_id: str) -> Protocol | None:
        return next((p for p in self._everything() if p.id == protocol_id), None)

    def _everything(self) -> tuple[Protocol, ...]:
        return (*self.protocols, *self.always, *((self.fallback,) if self.fallback else ()))

    def _select(self, contexts: Sequence[tuple[Any, Any]], facts: Findings) -> list[Protocol]:
        chosen = [p for p in self.protocols if self._mentioned(p, contexts) and _fits(p, facts)]
        if not chosen and self.fallback is not None:
            chosen = [self.fallback]
        return [*chosen, *self.always]

    @staticmethod
    def _mentioned(protocol: Protocol, contexts: Sequence[tuple[Any, Any]]) -> bool:
        for norm, context in contexts:
            for pattern in protocol.triggers:
                for match in pattern.finditer(norm.text):
                    if context.suppression(match.start(), match.end()) in (None, "historical"):
                        return True
        return False

    def _answers(
        self,
        selected: Sequence[Protocol],
        contexts: Sequence[tuple[Any, Any]],
        given: Mapping[str, str],
    ) -> dict[str, dict[str, Any]]:
        """Button answers first; otherwise what the text says (with the span it came from)."""
        known: dict[str, dict[str, Any]] = {}
        for protocol in selected:
            for question in protocol.questions:
                value, span = answer_from_text(question.detect, question.detect_no, contexts)
                if question.id in given:
                    known[question.id] = {"value": given[question.id], "from": "answer"}
                elif value is not None:
                    known[question.id] = {"value": value, "from": "text", "span": _span(span)}
        return known

    def _red_flags(self, messages: Sequence[str]) -> list[str]:
        found: list[str] = []
        for message in messages:
            found += [f.id for f in self.reader.detector.detect(message) if f.id not in found]
        return found

    @staticmethod
    def _rules(
        selected: Sequence[Protocol], values: Mapping[str, str], facts: Findings
    ) -> tuple[list[Fired], list[tuple[Protocol, Rule]]]:
        fired, open_rules = [], []
        for protocol in selected:
            for rule in protocol.rules:
                verdict = evaluate(rule.condition, values, facts)
                if verdict:
                    url = protocol.sources[rule.source].url
                    fired.append(Fired(protocol.id, rule.id, rule.level, rule.reason, url))
                elif verdict is None:
                    open_rules.append((protocol, rule))
        fired.sort(key=lambda f: -rank(f.level))
        return fired, open_rules

    @staticmethod
    def _unresolved(
        open_rules: Sequence[tuple[Protocol, Rule]], level: Level, finished: bool = False
    ) -> tuple[Level, bool]:
        """Danger not ruled out: at least the protocol's unresolved level, capped at what the
        open rules could give. Once every question the budget allows was asked (most dangerous
        first), only an emergency left open still counts: the rest were less urgent by design."""
        raised = level
        for protocol, rule in open_rules:
            if finished and rule.level not in EMERGENCY_LEVELS:
                continue
            if rank(rule.level) > rank(level):
                cap = rule.level if rank(rule.level) < rank(protocol.unresolved_level) else None
                raised = highest(raised, cap or protocol.unresolved_level)
        return raised, any(rank(rule.level) > rank(level) for _, rule in open_rules)

    @staticmethod
    def _next(
        selected: Sequence[Protocol],
        open_rules: Sequence[tuple[Protocol, Rule]],
        level: str,
        values: Mapping[str, str],
        asked: Sequence[str],
    ) -> tuple[str, Question] | None:
        """The unanswered question that could raise the level the most above what is known."""
        best: tuple[int, int, int] | None = None
        choice: tuple[str, Question] | None = None
        order = {p.id: n for n, p in enumerate(selected)}
        for protocol, rule in open_rules:
            if rank(rule.level) <= rank(level):
                continue
            for number, question in enumerate(protocol.questions):
                if question.id not in rule.condition.questions():
                    continue
                if question.id in values or question.id in asked:
                    continue
                key = (rank(rule.level), -order[protocol.id], -number)
                if best is None or key > best:
                    best, choice = key, (protocol.id, question)
        return choice


def _fits(protocol: Protocol, facts: Findings) -> bool:
    """Whether an age-limited protocol fits; with no age said, a child's protocols fit when
    the text is about a child ("my baby", "my son"), an adult's otherwise."""
    if protocol.ages is None:
        return True
    low, high = protocol.ages
    if facts.age_years is None:
        return high <= 16 if facts.child else low >= 16 or low == 0
    return low <= facts.age_years < high


def _span(span: Span | None) -> list[int] | None:
    return list(span) if span is not None else None

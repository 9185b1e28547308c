"""Triage protocols: reviewable YAML, one file per presenting complaint, checked on load.

A protocol says which words select it (``triggers``), what level it gives when every question
is answered "no" (``base_level``) and when a dangerous question is left open (``unresolved_level``),
the discriminator questions (most dangerous first; ``detect`` phrases answer a question from what
the patient already wrote), and the rules: a condition over answers and findings, the minimum
level it sets, the reason shown to the patient, and its public source. The format, with an
example, is in ``protocols/README.md``; ``healthbot triage validate`` reports every problem as
``path:line: error: …``.

Conditions (one key per mapping; lists combine them):
``{yes_to: q}`` / ``{no_to: q}`` (the answer to question ``q``; not ``yes:``, which YAML reads
as true), ``{all: [...]}``, ``{any: [...]}``,
``{not: ...}``, ``{age_gte: years}``, ``{age_lt: years}``, ``{age_lt_months: months}``,
``{sex: female|male}``, ``{pregnant: true}``, ``{risk: name}``,
``{vital: name, gte|gt|lte|lt: number}``, ``{duration_days_gte: n}``, ``{duration_days_lt: n}``,
``{severity_gte: 0-10}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from actions.triage.levels import LEVELS, rank

PROTOCOL_DIR = Path(__file__).with_name("protocols")
RISKS = ("diabetes", "immunosuppressed", "anticoagulant", "heart_disease", "lung_disease",
         "recent_surgery", "kidney_disease")  # fmt: skip
VITALS = ("temperature_c", "heart_rate", "respiratory_rate", "systolic_bp", "diastolic_bp",
          "spo2", "glucose_mmol")  # fmt: skip
COMPARISONS = ("gte", "gt", "lte", "lt")
ID = re.compile(r"^[a-z][a-z0-9_]*$")
RULE_ID = re.compile(r"^[A-Z]{2,4}[0-9]{2,3}$")
TOP_KEYS = {"id", "title", "version", "triggers", "base_level", "unresolved_level",
            "questions", "rules", "sources", "kb_query", "fallback", "ages", "always"}  # fmt: skip


class ProtocolError(ValueError):
    """Problems in one or more protocol files, each as ``path:line: error: message``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# --- conditions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    """A parsed condition: ``op`` and its arguments (see the module docstring)."""

    op: str
    arg: Any = None
    parts: tuple[Condition, ...] = ()
    compare: tuple[str, float] | None = None

    def questions(self) -> set[str]:
        """The question ids this condition reads."""
        own = {self.arg} if self.op in ("yes_to", "no_to") else set()
        return own.union(*(part.questions() for part in self.parts))


def parse_condition(raw: object, where: str) -> Condition:
    """A condition from YAML; raises ValueError naming what is wrong (``where`` says which)."""
    if isinstance(raw, list):
        return Condition("all", parts=tuple(parse_condition(r, where) for r in raw))
    if not isinstance(raw, Mapping) or not raw:
        raise ValueError(f"{where}: a condition must be a mapping such as {{yes_to: question_id}}")
    if "vital" in raw:
        return _vital(raw, where)
    if len(raw) != 1:
        raise ValueError(f"{where}: one key per condition (use all/any to combine): {dict(raw)}")
    [(op, arg)] = raw.items()
    if op in ("all", "any"):
        if not isinstance(arg, list) or not arg:
            raise ValueError(f"{where}: '{op}' takes a non-empty list of conditions")
        return Condition(op, parts=tuple(parse_condition(r, where) for r in arg))
    if op == "not":
        return Condition("not", parts=(parse_condition(arg, where),))
    return Condition(op, _argument(op, arg, where))


def _argument(op: str, arg: object, where: str) -> object:
    checks: dict[str, tuple[type | tuple[type, ...], str]] = {
        "yes_to": (str, "a question id"), "no_to": (str, "a question id"),
        "age_gte": ((int, float), "years"), "age_lt": ((int, float), "years"),
        "age_lt_months": ((int, float), "months"), "duration_days_gte": ((int, float), "days"),
        "duration_days_lt": ((int, float), "days"), "severity_gte": ((int, float), "0-10"),
        "sex": (str, "female or male"), "pregnant": (bool, "true"), "risk": (str, "a risk"),
    }  # fmt: skip
    if op is True or op is False:
        raise ValueError(f"{where}: write yes_to/no_to: YAML reads a bare yes/no key as true/false")
    if op not in checks:
        raise ValueError(f"{where}: unknown condition '{op}'")
    kind, what = checks[op]
    if isinstance(arg, bool) and kind is not bool:
        raise ValueError(f"{where}: '{op}' takes {what}, not {arg!r}")
    if not isinstance(arg, kind):
        raise ValueError(f"{where}: '{op}' takes {what}, not {arg!r}")
    if op == "sex" and arg not in ("female", "male"):
        raise ValueError(f"{where}: sex must be female or male")
    if op == "risk" and arg not in RISKS:
        raise ValueError(f"{where}: unknown risk {arg!r} (known: {', '.join(RISKS)})")
    return arg


def _vital(raw: Mapping[str, Any], where: str) -> Condition:
    name = raw["vital"]
    if name not in VITALS:
        raise ValueError(f"{where}: unknown vital {name!r} (known: {', '.join(VITALS)})")
    compares = [(k, v) for k, v in raw.items() if k != "vital"]
    if len(compares) != 1 or compares[0][0] not in COMPARISONS:
        raise ValueError(f"{where}: a vital takes one of {', '.join(COMPARISONS)}: a number")
    key, value = compares[0]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{where}: {key} needs a number")
    return Condition("vital", name, compare=(key, float(value)))


# --- protocols ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    id: str
    ask: str
    detect: tuple[re.Pattern[str], ...]
    detect_no: tuple[re.Pattern[str], ...] = ()


@dataclass(frozen=True)
class Rule:
    id: str
    condition: Condition
    level: str
    reason: str
    source: str


@dataclass(frozen=True)
class Source:
    title: str
    url: str


@dataclass(frozen=True)
class Protocol:
    id: str
    title: str
    version: int
    triggers: tuple[re.Pattern[str], ...]
    base_level: str
    unresolved_level: str
    questions: tuple[Question, ...]
    rules: tuple[Rule, ...]
    sources: Mapping[str, Source]
    path: Path
    kb_query: str = ""
    fallback: bool = False
    always: bool = False  # applies to every triage (vital-sign limits), beside the others
    ages: tuple[float, float] | None = None  # (min, max) years this protocol is for
    question_index: Mapping[str, Question] = field(default_factory=dict)


def phrase(text: str) -> re.Pattern[str]:
    """A trigger or detect phrase: a regex fragment matched on whole words, lowercase."""
    return re.compile(rf"(?<![\w-])(?:{text})(?![\w-])")


def _lines(node: yaml.Node, path: tuple[object, ...] = ()) -> Iterator[tuple[tuple, int]]:
    """(path into the document, 1-based line) for every node, to point errors at lines."""
    yield path, node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield from _lines(value, (*path, key.value))
    elif isinstance(node, yaml.SequenceNode):
        for number, item in enumerate(node.value):
            yield from _lines(item, (*path, number))


class _Reader:
    """Reads one file, collecting problems with their lines instead of stopping at the first."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[str] = []
        text = path.read_text(encoding="utf-8")
        try:
            self.lines = dict(_lines(yaml.compose(text))) if text.strip() else {}
            self.raw = yaml.safe_load(text)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 1
            self.raw, self.lines = None, {}
            self.error((), f"not valid YAML: {getattr(error, 'problem', error)}", line)

    def error(self, where: tuple[object, ...], message: str, line: int | None = None) -> None:
        while line is None and where and where not in self.lines:
            where = where[:-1]
        line = line or self.lines.get(where, 1)
        self.problems.append(f"{self.path}:{line}: error: {message}")


def load_protocol(path: Path) -> Protocol:
    """One protocol file, or ProtocolError listing every problem in it."""
    reader = _Reader(path)
    protocol = _build(reader) if not reader.problems else None
    if reader.problems or protocol is None:
        raise ProtocolError(reader.problems or [f"{path}:1: error: could not be read"])
    return protocol


def _build(r: _Reader) -> Protocol | None:
    raw = r.raw
    if not isinstance(raw, dict):
        r.error((), "a protocol is a mapping with id, title, triggers, questions, rules, sources")
        return None
    for key in sorted(set(raw) - TOP_KEYS, key=str):
        r.error((key,), f"unknown key '{key}'")
    pid = _text(r, raw, "id")
    if pid and (not ID.match(pid) or pid != r.path.stem):
        r.error(("id",), f"id '{pid}' must be lowercase_with_underscores and match the file name")
    sources = _sources(r, raw.get("sources"))
    questions = _questions(r, raw.get("questions") or [])
    rules = _rules(r, raw.get("rules"), {q.id for q in questions}, set(sources))
    levels = [_level(r, raw, key) for key in ("base_level", "unresolved_level")]
    if all(levels) and rank(levels[1]) < rank(levels[0]):
        r.error(("unresolved_level",), "unresolved_level must not be below base_level")
    optional = bool(raw.get("fallback") or raw.get("always"))
    triggers = _patterns(r, raw.get("triggers"), ("triggers",), required=not optional)
    ages = _ages(r, raw.get("ages"))
    if r.problems:
        return None
    return Protocol(
        id=pid, title=_text(r, raw, "title"), version=int(raw.get("version") or 1),
        triggers=triggers, base_level=levels[0], unresolved_level=levels[1],
        questions=tuple(questions), rules=tuple(rules), sources=sources, path=r.path,
        kb_query=str(raw.get("kb_query") or ""), fallback=bool(raw.get("fallback")),
        always=bool(raw.get("always")),
        ages=ages, question_index={q.id: q for q in questions},
    )  # fmt: skip


def _text(r: _Reader, raw: Mapping[str, Any], key: str, where: tuple = ()) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        r.error((*where, key), f"'{key}' must be a non-empty text")
        return ""
    return value.strip()


def _level(r: _Reader, raw: Mapping[str, Any], key: str, where: tuple = ()) -> str:
    value = raw.get(key)
    if value not in LEVELS:
        r.error((*where, key), f"'{key}' must be one of {', '.join(LEVELS)}, not {value!r}")
        return ""
    return str(value)


def _patterns(
    r: _Reader, raw: object, where: tuple, required: bool = True
) -> tuple[re.Pattern[str], ...]:
    if raw is None and not required:
        return ()
    if not isinstance(raw, list) or not raw or not all(isinstance(p, str) for p in raw):
        r.error(where, "expected a non-empty list of phrases")
        return ()
    patterns = []
    for number, text in enumerate(raw):
        if text != text.lower():
            r.error((*where, number), f"phrase {text!r} must be lowercase")
        try:
            patterns.append(phrase(text))
        except re.error as error:
            r.error((*where, number), f"phrase {text!r} is not a valid pattern: {error}")
    return tuple(patterns)


def _sources(r: _Reader, raw: object) -> dict[str, Source]:
    if not isinstance(raw, dict) or not raw:
        r.error(("sources",), "'sources' must map each source id to {title, url}")
        return {}
    sources = {}
    for key, value in raw.items():
        ok = isinstance(value, dict) and isinstance(value.get("url"), str)
        if not ok or not str(value.get("url")).startswith("https://"):
            r.error(("sources", key), f"source '{key}' needs a title and an https:// url")
            continue
        sources[str(key)] = Source(str(value.get("title") or key), str(value["url"]))
    return sources


def _questions(r: _Reader, raw: object) -> list[Question]:
    if not isinstance(raw, list):
        r.error(("questions",), "'questions' must be a list")
        return []
    questions, seen = [], set()
    for number, item in enumerate(raw):
        where = ("questions", number)
        if not isinstance(item, dict):
            r.error(where, "a question is a mapping with id, ask, detect")
            continue
        qid = _text(r, item, "id", where)
        if qid in seen or (qid and not ID.match(qid)):
            r.error((*where, "id"), f"question id '{qid}' is repeated or not lowercase_words")
        seen.add(qid)
        detect = _patterns(r, item.get("detect"), (*where, "detect"))
        detect_no = _patterns(r, item.get("detect_no"), (*where, "detect_no"), required=False)
        questions.append(Question(qid, _text(r, item, "ask", where), detect, detect_no))
    return questions


def _rules(r: _Reader, raw: object, questions: set[str], sources: set[str]) -> list[Rule]:
    if not isinstance(raw, list) or not raw:
        r.error(("rules",), "'rules' must be a non-empty list")
        return []
    rules, seen = [], set()
    for number, item in enumerate(raw):
        where = ("rules", number)
        if not isinstance(item, dict):
            r.error(where, "a rule is a mapping with id, if, level, reason, source")
            continue
        rid = _text(r, item, "id", where)
        if rid and (not RULE_ID.match(rid) or rid in seen):
            r.error((*where, "id"), f"rule id '{rid}' is repeated or not like CP01")
        seen.add(rid)
        try:
            condition = parse_condition(item.get("if"), f"rule {rid}")
        except ValueError as error:
            r.error((*where, "if"), str(error))
            continue
        for missing in sorted(condition.questions() - questions):
            r.error((*where, "if"), f"rule {rid} reads unknown question '{missing}'")
        source = _text(r, item, "source", where)
        if source and source not in sources:
            r.error((*where, "source"), f"rule {rid} cites '{source}', not in sources")
        rule = Rule(rid, condition, _level(r, item, "level", where),
                    _text(r, item, "reason", where), source)  # fmt: skip
        rules.append(rule)
    return rules


def _ages(r: _Reader, raw: object) -> tuple[float, float] | None:
    if raw is None:
        return None
    if isinstance(raw, dict) and set(raw) <= {"min", "max"}:
        return float(raw.get("min", 0)), float(raw.get("max", 200))
    r.error(("ages",), "'ages' is {min: years, max: years}")
    return None


def validate_dir(folder: Path = PROTOCOL_DIR) -> tuple[list[Protocol], list[str]]:
    """Every protocol in ``folder`` and every problem found (across files too)."""
    protocols, problems = [], []
    for path in sorted(folder.glob("*.yml")):
        try:
            protocols.append(load_protocol(path))
        except ProtocolError as error:
            problems += error.problems
    ids = [rule.id for p in protocols for rule in p.rules]
    for rule_id in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(f"{folder}: error: rule id {rule_id} is used in more than one protocol")
    if not protocols and not problems:
        problems.append(f"{folder}: error: no protocols (*.yml)")
    if sum(p.fallback for p in protocols) > 1:
        problems.append(f"{folder}: error: more than one protocol says fallback: true")
    return protocols, problems


@lru_cache(maxsize=4)
def load_protocols(folder: Path = PROTOCOL_DIR) -> tuple[Protocol, ...]:
    """The protocols, loaded once; raises ProtocolError when any file has a problem."""
    protocols, problems = validate_dir(folder)
    if problems:
        raise ProtocolError(problems)
    return tuple(protocols)

"""Emergency red-flag detection: does this message describe an emergency happening now?

Every message passes through here before anything else (ARCHITECTURE.md: "Emergencies first"). The
Rasa process (Python 3.10, Rasa only) imports it from ``nlu/components/red_flag_detector.py`` and
the action server (Python 3.11) may import it too, so it uses the standard library only and never
imports rasa or rasa_sdk.

How it works:

1. The message is normalised (``_text``): lower case, no apostrophes, typos fixed, first 5,000
   characters only, with a map back to the original offsets.
2. Lay and paraphrase patterns for each red flag (``data/red_flag_patterns.json``, one list per
   id of ``data/red_flags.csv``) are matched. Some patterns also ``require`` a qualifier in the
   same sentence (e.g. back pain needs cardiac context) or are cancelled by an ``unless`` word
   (a numb lip "after the dentist").
3. Each match is judged in context (``_context``, ConText/NegEx style): negated ("no chest pain"),
   historical ("had a stroke in 2019"), hypothetical or informational ("what are the signs of a
   stroke") mentions are dropped. Third-person reports ("my dad collapsed") are kept.

Recall matters more than precision: when in doubt a pattern flags. ``bench/red_flags_eval.py``
measures recall on the test cases and false alarms on everyday messages.

Usage::

    from healthbot.safety.red_flags import default_detector
    flags = default_detector().detect("my dad collapsed and isn't breathing")
    [flag.id for flag in flags]           # ['RF002', 'RF007']
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from healthbot.safety._context import ContextRules, MessageContext
from healthbot.safety._text import MAX_CHARS, NormalizedText, normalize

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_CSV = DATA_DIR / "red_flags.csv"
DEFAULT_PATTERNS = DATA_DIR / "red_flag_patterns.json"
SELF_HARM_ID = "RF008"

__all__ = [
    "MAX_CHARS",
    "SELF_HARM_ID",
    "RedFlag",
    "RedFlagDetector",
    "RedFlagPatternError",
    "default_detector",
    "is_self_harm",
]

_MACRO_RE = re.compile(r"\{([A-Z_]+)\}")
_FILLER_RE = re.compile(r"<([0-9])> ")


class RedFlagPatternError(ValueError):
    """A data file is inconsistent; the message names the file, the id and the pattern."""


@dataclass(frozen=True)
class RedFlag:
    """One red flag found in a message.

    ``text`` is the matched span of the original message (``message[start:end]``), ``label`` the
    red flag as the source list words it, ``category`` the CSV category ("cardiac", "mental
    health", ...). ``self_harm`` is true for suicide and self-harm mentions (RF008), for which the
    emergency reply adds a crisis line.
    """

    id: str
    category: str
    text: str
    start: int
    end: int
    label: str
    self_harm: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data, as Rasa puts it in the parse result under ``red_flags``."""
        return {
            "id": self.id,
            "category": self.category,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "label": self.label,
            "self_harm": self.self_harm,
        }


@dataclass(frozen=True)
class _Definition:
    """A row of red_flags.csv."""

    id: str
    label: str
    category: str


@dataclass(frozen=True)
class _Pattern:
    """A compiled pattern entry of red_flag_patterns.json."""

    flag_id: str
    regex: re.Pattern[str]
    requires: re.Pattern[str] | None
    unless: re.Pattern[str] | None
    self_harm: bool


def is_self_harm(flags: Iterable[RedFlag | Mapping[str, Any]]) -> bool:
    """Whether any flag (object or ``to_dict()`` form) is a suicide/self-harm mention."""
    return any(
        flag.self_harm if isinstance(flag, RedFlag) else bool(flag.get("self_harm"))
        for flag in flags
    )


def _expand(source: str, macros: Mapping[str, str]) -> str:
    """Expand ``{MACRO}``s (nested up to 5 deep) and ``<N> `` word fillers into a regex."""
    for _ in range(5):
        expanded = _MACRO_RE.sub(lambda m: macros[m.group(1)], source)
        if expanded == source:
            break
        source = expanded
    return _FILLER_RE.sub(lambda m: f"(?:[^\\W_]+ ){{0,{m.group(1)}}}", source)


def _compile(source: str, macros: Mapping[str, str], where: str) -> re.Pattern[str]:
    """Compile one pattern on whole words; name the id and pattern if it is broken."""
    try:
        return re.compile(r"(?<!\w)(?:" + _expand(source, macros) + r")(?!\w)")
    except (re.error, KeyError) as error:
        raise RedFlagPatternError(f"red_flag_patterns.json {where}: {error}: {source!r}") from error


def _load_definitions(csv_path: Path) -> dict[str, _Definition]:
    with csv_path.open(encoding="utf-8", newline="") as handle:
        return {
            row["id"]: _Definition(row["id"], row["red_flag"], row["category"])
            for row in csv.DictReader(handle)
        }


def _load_patterns(
    config: Mapping[str, Any], definitions: Mapping[str, _Definition]
) -> list[_Pattern]:
    """Compile every flag's patterns; each CSV id needs patterns and each pattern a CSV id."""
    flags: Mapping[str, list[Any]] = config["flags"]
    macros: Mapping[str, str] = config["macros"]
    unknown = sorted(set(flags) - set(definitions))
    uncovered = sorted(set(definitions) - set(flags))
    if unknown or uncovered:
        raise RedFlagPatternError(
            f"red_flag_patterns.json: ids not in red_flags.csv: {unknown}; "
            f"red_flags.csv ids without patterns: {uncovered}"
        )
    patterns: list[_Pattern] = []
    for flag_id, entries in flags.items():
        for index, raw in enumerate(entries):
            entry = {"re": raw} if isinstance(raw, str) else raw
            where = f"{flag_id}[{index}]"
            patterns.append(
                _Pattern(
                    flag_id=flag_id,
                    regex=_compile(entry["re"], macros, where),
                    requires=_compile(entry["requires"], macros, where)
                    if "requires" in entry
                    else None,
                    unless=_compile(entry["unless"], macros, where) if "unless" in entry else None,
                    self_harm=bool(entry.get("self_harm", False)),
                )
            )
    return patterns


class RedFlagDetector:
    """Finds emergency red flags in one message; build once, call ``detect`` per message.

    Thread-safe and stateless between calls. ``detect`` never raises on odd input: non-text gives
    no flags, and only the first ``MAX_CHARS`` characters are read.
    """

    def __init__(
        self,
        definitions: Mapping[str, _Definition],
        patterns: list[_Pattern],
        typos: Mapping[str, str],
        context_rules: ContextRules,
    ) -> None:
        self._definitions = dict(definitions)
        self._patterns = patterns
        self._typos = dict(typos)
        self._rules = context_rules

    @classmethod
    def from_files(
        cls, csv_path: Path = DEFAULT_CSV, patterns_path: Path = DEFAULT_PATTERNS
    ) -> RedFlagDetector:
        """Load the red-flag list and its patterns (the repo's copies by default)."""
        definitions = _load_definitions(csv_path)
        config = json.loads(patterns_path.read_text(encoding="utf-8"))
        return cls(
            definitions,
            _load_patterns(config, definitions),
            config.get("typos", {}),
            ContextRules.from_config(config["context"]),
        )

    @property
    def ids(self) -> list[str]:
        """The red-flag ids this detector knows, in CSV order."""
        return list(self._definitions)

    def detect(self, text: str) -> list[RedFlag]:
        """Red flags that ``text`` reports as happening now, one per id, in message order."""
        if not isinstance(text, str) or not text.strip():
            return []
        norm = normalize(text, self._typos)
        context = MessageContext(norm.text, self._rules)
        found: dict[str, tuple[int, int, bool]] = {}
        for pattern in self._patterns:
            for match in pattern.regex.finditer(norm.text):
                previous = found.get(pattern.flag_id)
                if previous is not None and previous[0] <= match.start():
                    break
                if self._accepted(pattern, match, context):
                    self_harm = pattern.self_harm or (previous is not None and previous[2])
                    found[pattern.flag_id] = (match.start(), match.end(), self_harm)
                    break
        flags = [self._flag(fid, span, text, norm) for fid, span in found.items()]
        return sorted(flags, key=lambda flag: (flag.start, flag.id))

    def context(self, text: str) -> tuple[NormalizedText, MessageContext]:
        """The normalised text and its context (negated, past, hypothetical spans), for other
        readers of patients' words (triage) that must judge mentions by the same rules."""
        norm = normalize(text if isinstance(text, str) else "", self._typos)
        return norm, MessageContext(norm.text, self._rules)

    def explain(self, text: str) -> list[tuple[str, str, str]]:
        """Every pattern match as ``(id, matched normalised text, verdict)``: for debugging."""
        norm = normalize(text, self._typos)
        context = MessageContext(norm.text, self._rules)
        verdicts: list[tuple[str, str, str]] = []
        for pattern in self._patterns:
            for match in pattern.regex.finditer(norm.text):
                verdict = self._verdict(pattern, match, context) or "flagged"
                verdicts.append((pattern.flag_id, match.group(), verdict))
        return verdicts

    def _accepted(self, pattern: _Pattern, match: re.Match[str], context: MessageContext) -> bool:
        return self._verdict(pattern, match, context) is None

    def _verdict(
        self, pattern: _Pattern, match: re.Match[str], context: MessageContext
    ) -> str | None:
        """Why this match is not a flag (qualifier missing, negated, ...) or ``None``."""
        left, right = context.sentence(match.start(), match.end())
        if pattern.unless is not None and pattern.unless.search(context.text, left, right):
            return "unless"
        requires = pattern.requires
        if requires is not None and not self._qualified(requires, context, left, right):
            return "qualifier missing"
        return context.suppression(match.start(), match.end())

    @staticmethod
    def _qualified(
        requires: re.Pattern[str], context: MessageContext, left: int, right: int
    ) -> bool:
        """A required qualifier counts only if it is not itself negated ('but no chest pain')."""
        return any(
            not context.is_negated(q.start(), q.end())
            for q in requires.finditer(context.text, left, right)
        )

    def _flag(
        self, flag_id: str, found: tuple[int, int, bool], text: str, norm: NormalizedText
    ) -> RedFlag:
        start, end = norm.original_span(found[0], found[1])
        definition = self._definitions[flag_id]
        return RedFlag(
            id=flag_id,
            category=definition.category,
            text=text[start:end],
            start=start,
            end=end,
            label=definition.label,
            self_harm=found[2],
        )


@lru_cache(maxsize=1)
def default_detector() -> RedFlagDetector:
    """The detector built from the repo's data files, loaded once per process."""
    return RedFlagDetector.from_files()

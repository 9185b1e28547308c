"""ConText/NegEx-style context rules: is a red-flag mention negated, past, hypothetical?

Why: "no chest pain", "had chest pain two years ago" and "what are the signs of a stroke" all
contain a red-flag phrase, but none is an emergency now. Following NegEx/ConText (Chapman et al.),
each context has trigger phrases whose scope runs over nearby words until a break; a mention
inside a trigger's scope takes that context. The phrases live in ``data/red_flag_patterns.json``
(``context``); this module holds only the scope rules:

- negation, before the mention: at most 8 words; stopped by sentence punctuation, by terminators
  ("but", "however", "now", ...), and by a new clause (", my ...", "and i ..."). A comma stops it
  too unless the trigger opens a list ("denies fever, chills, chest pain") or an "or"/"nor" joins
  the list ("no fever, cough or chest pain"). So "no fever but chest pain" and
  "no fever, my chest hurts" are still flagged: a missed emergency costs more than a false alarm.
- negation, after the mention ("chest pain has gone"): at most 4 words, same clause.
- historical ("history of", "two years ago", "last year"): either side, at most 8 words, stopped
  by sentence punctuation and terminators only ("two years ago, I had a stroke" is historical).
- hypothetical/informational ("if", "signs of", "how do i know"): before the mention, at most
  15 words in the same sentence; a comma followed by a new subject ends it.
- general question: a clause that opens like a question ("is", "can", "what", ...) and names no
  person ("i", "my", "he", "this", ...) asks about the topic, not about a patient:
  "is chest pain serious?" is not flagged, "is my dad having a stroke?" is.
- pseudo-triggers ("not sure if", "no idea", "oh no", "never felt ... like this") contain a
  trigger word but are not triggers; they cancel any trigger they overlap.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

NEGATION_WINDOW = 8
POST_NEGATION_WINDOW = 4
HISTORICAL_WINDOW = 8
HYPOTHETICAL_WINDOW = 15
_LOOKAROUND_CHARS = 200  # no window above is wider than this many characters

Span = tuple[int, int]
_CONTEXT_KEYS = (
    "negation_pre",
    "negation_post",
    "list_negation",
    "historical",
    "hypothetical_pre",
    "pseudo",
    "terminators",
    "new_clause_subjects",
    "question_starts",
    "personal",
)


def compile_phrases(phrases: Iterable[str]) -> re.Pattern[str]:
    """One regex for a list of phrases, longest first, matched on whole words."""
    ordered = sorted(set(phrases), key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(f"(?:{p})" for p in ordered) + r")(?!\w)")


@dataclass(frozen=True)
class ContextRules:
    """The compiled trigger lists (see the module docstring for how each is scoped)."""

    negation_pre: re.Pattern[str]
    negation_post: re.Pattern[str]
    list_negation: re.Pattern[str]
    historical: re.Pattern[str]
    hypothetical_pre: re.Pattern[str]
    pseudo: re.Pattern[str]
    terminators: re.Pattern[str]
    comma_clause: re.Pattern[str]
    and_clause: re.Pattern[str]
    question_start: re.Pattern[str]
    personal: re.Pattern[str]

    @classmethod
    def from_config(cls, config: Mapping[str, Sequence[str]]) -> ContextRules:
        """Build from the ``context`` section of the patterns file; names a missing key."""
        missing = [key for key in _CONTEXT_KEYS if not config.get(key)]
        if missing:
            raise ValueError(f"red_flag_patterns.json: context is missing {', '.join(missing)}")
        subjects = "|".join(sorted(config["new_clause_subjects"], key=len, reverse=True))
        return cls(
            negation_pre=compile_phrases(config["negation_pre"]),
            negation_post=compile_phrases(config["negation_post"]),
            list_negation=compile_phrases(config["list_negation"]),
            historical=compile_phrases(config["historical"]),
            hypothetical_pre=compile_phrases(config["hypothetical_pre"]),
            pseudo=compile_phrases(config["pseudo"]),
            terminators=compile_phrases(config["terminators"]),
            comma_clause=re.compile(rf", (?:{subjects})(?!\w)"),
            and_clause=re.compile(
                rf"(?<!\w)(?:and|so|because|cause|cuz|coz|then) (?:{subjects})(?!\w)"
            ),
            question_start=re.compile(r"(?:" + "|".join(config["question_starts"]) + r")(?!\w)"),
            personal=compile_phrases(config["personal"]),
        )


def _spans(pattern: re.Pattern[str], text: str) -> list[Span]:
    return [m.span() for m in pattern.finditer(text)]


def _without(spans: list[Span], blockers: list[Span]) -> list[Span]:
    """Drop trigger spans that overlap a pseudo-trigger span."""
    if not blockers:
        return spans
    return [s for s in spans if not any(b[0] < s[1] and s[0] < b[1] for b in blockers)]


def _any_in(positions: Sequence[int], start: int, end: int) -> bool:
    """Whether a sorted position list has an entry in ``[start, end)``."""
    index = bisect_left(positions, start)
    return index < len(positions) and positions[index] < end


def _word_count(text: str) -> int:
    return len(text.split())


class MessageContext:
    """Triggers and breaks of one normalised message, to judge each red-flag mention in it."""

    def __init__(self, text: str, rules: ContextRules) -> None:
        self.text = text
        self._rules = rules
        pseudo = _spans(rules.pseudo, text)
        self._neg_pre = _without(_spans(rules.negation_pre, text), pseudo)
        self._neg_post = _without(_spans(rules.negation_post, text), pseudo)
        self._historical = _without(_spans(rules.historical, text), pseudo)
        self._hypothetical = _without(_spans(rules.hypothetical_pre, text), pseudo)
        self._neg_pre_ends = [end for _, end in self._neg_pre]
        self._sentence_breaks = [m.start() for m in re.finditer(r"[.!?;:]", text)]
        self._commas = [m.start() for m in re.finditer(",", text)]
        self._terms = [s for s, _ in _spans(rules.terminators, text)]
        self._comma_clauses = [s for s, _ in _spans(rules.comma_clause, text)]
        self._and_clauses = [s for s, _ in _spans(rules.and_clause, text)]

    # -- scopes -------------------------------------------------------------------------------

    def sentence(self, start: int, end: int) -> Span:
        """The sentence around ``[start, end)``: between sentence punctuation marks."""
        before = bisect_right(self._sentence_breaks, start) - 1
        after = bisect_left(self._sentence_breaks, end)
        left = self._sentence_breaks[before] + 1 if before >= 0 else 0
        breaks = self._sentence_breaks
        right = breaks[after] if after < len(breaks) else len(self.text)
        return left, right

    def _clause_start(self, start: int) -> int:
        """Start of the clause holding ``start``: after punctuation, a comma or a terminator."""
        stops = [
            *(p + 1 for p in self._sentence_breaks if p < start),
            *(p + 1 for p in self._commas if p < start),
            *(p for p in self._terms if p < start),
        ]
        return max(stops, default=0)

    def _clause_end(self, end: int) -> int:
        stops = [
            *(p for p in self._sentence_breaks if p >= end),
            *(p for p in self._commas if p >= end),
            *(p for p in self._terms if p >= end),
        ]
        return min(stops, default=len(self.text))

    # -- the contexts -------------------------------------------------------------------------

    def suppression(self, start: int, end: int) -> str | None:
        """Why the mention at ``[start, end)`` is not a current emergency, or ``None``."""
        if self.is_negated(start, end):
            return "negated"
        if self._is_historical(start, end):
            return "historical"
        if self._is_hypothetical(start):
            return "hypothetical"
        if self._is_general_question(start, end):
            return "general question"
        return None

    def is_negated(self, start: int, end: int) -> bool:
        """A negation trigger before (NegEx 'pre') or after ('post') the mention scopes over it."""
        return self._negated_before(start) or self._negated_after(end)

    def _negated_before(self, start: int) -> bool:
        first = bisect_left(self._neg_pre_ends, start - _LOOKAROUND_CHARS)
        last = bisect_right(self._neg_pre_ends, start)
        for t_start, t_end in self._neg_pre[first:last]:
            gap = self.text[t_end:start]
            if _word_count(gap) > NEGATION_WINDOW or self._hard_break(t_end, start):
                continue
            if _any_in(self._and_clauses, t_end, start):
                continue
            if _any_in(self._commas, t_end, start) and not self._list_continues(t_start, gap):
                continue
            return True
        return False

    def _list_continues(self, trigger_start: int, gap: str) -> bool:
        """A negation runs through commas in a list: 'denies fever, chest pain' / 'no x, y or z'."""
        if self._rules.list_negation.match(self.text, trigger_start):
            return True
        return re.search(r"(?<!\w)(?:or|nor)(?!\w)", gap) is not None

    def _negated_after(self, end: int) -> bool:
        for t_start, _ in self._neg_post:
            if t_start < end or t_start - end > _LOOKAROUND_CHARS:
                continue
            gap = self.text[end:t_start]
            if _word_count(gap) <= POST_NEGATION_WINDOW and not self._soft_break(end, t_start):
                return True
        return False

    def _is_historical(self, start: int, end: int) -> bool:
        for t_start, t_end in self._historical:
            if t_end <= start and start - t_end <= _LOOKAROUND_CHARS:
                left, right = t_end, start
            elif t_start >= end and t_start - end <= _LOOKAROUND_CHARS:
                left, right = end, t_start
            else:
                continue
            gap = self.text[left:right]
            if _word_count(gap) <= HISTORICAL_WINDOW and not self._hard_break(left, right):
                return True
        return False

    def _is_hypothetical(self, start: int) -> bool:
        for _, t_end in self._hypothetical:
            if t_end > start or start - t_end > _LOOKAROUND_CHARS:
                continue
            if _word_count(self.text[t_end:start]) > HYPOTHETICAL_WINDOW:
                continue
            if self._hard_break(t_end, start) or _any_in(self._comma_clauses, t_end, start):
                continue
            return True
        return False

    def _is_general_question(self, start: int, end: int) -> bool:
        left, right = self._clause_start(start), self._clause_end(end)
        clause = self.text[left:right].strip()
        if not self._rules.question_start.match(clause):
            return False
        return self._rules.personal.search(clause) is None

    # -- breaks -------------------------------------------------------------------------------

    def _hard_break(self, start: int, end: int) -> bool:
        """Sentence punctuation or a terminator ('but', 'however', 'now') in ``[start, end)``."""
        return _any_in(self._sentence_breaks, start, end) or _any_in(self._terms, start, end)

    def _soft_break(self, start: int, end: int) -> bool:
        """A hard break, a comma or a new clause in ``[start, end)``."""
        return (
            self._hard_break(start, end)
            or _any_in(self._commas, start, end)
            or _any_in(self._and_clauses, start, end)
        )

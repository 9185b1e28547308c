"""Message normalisation for the red-flag detector, with a map back to the original text.

Why: patients type fast and loosely ("cant breathe", "CHEST PIAN!!", "light-headed"), and the
detector must report where in *their* text a flag was found. So we lower-case, drop apostrophes,
turn hyphens, emoji and other symbols into word breaks, fix a few common typos, and keep each
token's original span. Only the first ``MAX_CHARS`` characters are read and over-long tokens are
replaced, which bounds the work done on hostile input (50,000 characters, binary junk, emoji).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass

MAX_CHARS = 5_000
"""Characters of a message the detector reads; emergencies are stated early in a message."""

MAX_TOKEN_CHARS = 40
"""Longer 'words' are junk; replacing them keeps every regex scan linear."""

_TOKEN_RE = re.compile(r"[^\W_]+(?:['’‘`´][^\W_]+)*|[.!?;:,\n\r]")
_APOSTROPHES_RE = re.compile(r"['’‘`´]")
_SENTENCE_PUNCT = frozenset(".!?;:\n\r")


@dataclass(frozen=True)
class NormalizedText:
    """Normalised tokens joined by single spaces, with each token's span in the original."""

    text: str
    starts: tuple[int, ...]
    spans: tuple[tuple[int, int], ...]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a ``[start, end)`` range of ``text`` back to the original message."""
        first = bisect_right(self.starts, start) - 1
        last = bisect_right(self.starts, max(start, end - 1)) - 1
        return self.spans[max(first, 0)][0], self.spans[max(last, 0)][1]


def _lower_same_length(raw: str) -> str:
    """Lower-case without changing offsets (a few characters, like 'İ', grow when lowered)."""
    lowered = raw.lower()
    if len(lowered) == len(raw):
        return lowered
    return "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in raw)


def _normal_token(token: str, typos: Mapping[str, str]) -> str:
    """One token as the patterns expect it: no apostrophes, typos fixed, punctuation unified."""
    if len(token) == 1 and token in _SENTENCE_PUNCT:
        return "." if token in "\n\r" else token  # noqa: S105 - punctuation, not a secret
    word = _APOSTROPHES_RE.sub("", token)
    if len(word) > MAX_TOKEN_CHARS:
        return "x"
    return typos.get(word, word)


def normalize(raw: str, typos: Mapping[str, str]) -> NormalizedText:
    """Normalise the first ``MAX_CHARS`` characters of ``raw`` (see the module docstring)."""
    clipped = raw[:MAX_CHARS]
    lowered = _lower_same_length(clipped)
    parts: list[str] = []
    starts: list[int] = []
    spans: list[tuple[int, int]] = []
    position = 0
    for match in _TOKEN_RE.finditer(lowered):
        token = _normal_token(match.group(), typos)
        starts.append(position)
        spans.append(match.span())
        parts.append(token)
        position += len(token) + 1
    return NormalizedText(" ".join(parts), tuple(starts), tuple(spans))

"""Text hygiene for answers: sentence splitting, prompt-injection spotting, question cleanup.

Passages come from files that editors (and, for MedQuAD, third parties) wrote, and questions come
from anyone; both reach the generator, so instruction-like text aimed at a model is dropped before
it can steer one. Everything here is regex based and costs microseconds per passage.
"""

from __future__ import annotations

import re
import unicodedata

# Abbreviations that (almost) never end a sentence, lowercased without the final period. "etc."
# and "a.m." often do end one, so they are left out on purpose.
_ABBREVIATION_TEXT = "e.g i.e vs cf approx dr drs mr mrs ms prof st fig figs u.s u.k mt resp"
_ABBREVIATIONS = frozenset(_ABBREVIATION_TEXT.split())

# A candidate boundary: terminal punctuation, closing quotes/brackets, citation markers, space.
_BOUNDARY = re.compile(r"[.!?]+[\"'”’)\]]*(?:\s*\[\d+(?:\s*[,–-]\s*\d+)*\])*(?=\s+)")
_NEXT_START = re.compile(r"\s+(?!\[\d)[\"'“‘(\[]?[A-Z0-9•]")
_WORD_BEFORE = re.compile(r"([A-Za-z](?:[A-Za-z.]*[A-Za-z])?)$")
_BULLET = re.compile(r"^\s*(?:[-*•·]|\d{1,2}[.)])\s+")
# MedQuAD flattens lists into one line: "following: - Fever. - Cough."
_INLINE_BULLET = re.compile(r"(?<=[.:;!?])[ \t]+[-•][ \t]+(?=[A-Z0-9])")
_ORDERED = re.compile(r"^\s*(\d{1,2})[.)]\s+")


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``, in order, stripped; citation markers stay with their sentence.

    List items ("- item", "* item", "• item", "1. item") become one sentence each; unordered
    markers are normalised to "- " so callers can keep the list shape, ordered ones are kept.
    """
    sentences: list[str] = []
    for block in _blocks(text):
        bullet = _BULLET.match(block)
        if bullet:
            first, *rest = _split_prose(block[bullet.end() :]) or [""]
            sentences.extend([_marker(bullet.group(0)) + first, *rest])
        else:
            sentences.extend(_split_prose(block))
    return sentences


def _blocks(text: str) -> list[str]:
    """Paragraphs, with each list item as its own block (wrapped lines are joined)."""
    blocks: list[str] = []
    current: list[str] = []
    for line in _INLINE_BULLET.sub("\n- ", text).splitlines():
        if not line.strip() or _BULLET.match(line):
            if current:
                blocks.append(" ".join(current))
            current = [line.strip()] if line.strip() else []
        else:
            current.append(line.strip())
    if current:
        blocks.append(" ".join(current))
    return [re.sub(r"\s+", " ", block) for block in blocks]


def _marker(raw: str) -> str:
    """The list marker as the sentence keeps it: "1. " for ordered items, "- " otherwise."""
    ordered = _ORDERED.match(raw)
    return f"{ordered.group(1)}. " if ordered else "- "


def _split_prose(block: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(block):
        end = match.end()
        if not _NEXT_START.match(block, end) or _is_abbreviation(block, match.start()):
            continue
        pieces.append(block[start:end].strip())
        start = end
    pieces.append(block[start:].strip())
    return [piece for piece in pieces if piece]


def _is_abbreviation(block: str, dot: int) -> bool:
    """True when the period at ``dot`` closes a known abbreviation, "No. 5" or an initial."""
    if block[dot] != ".":
        return False
    word = _WORD_BEFORE.search(block[max(0, dot - 12) : dot])
    if not word:
        return False
    token = word.group(1)
    if token.lower() in _ABBREVIATIONS:
        return True
    if token.lower() == "no":
        return bool(re.match(r"\s+\d", block[dot + 1 :]))
    return len(token) == 1 and token.isupper()  # an initial: "J. Smith", "B. cereus"


# Each pattern needs a sign that a model is being addressed ("previous instructions", "your
# prompt", a role tag), because health text says "do not ignore the instructions on the label".
_QUALIFIER = r"(?:your|my|previous|prior|above|earlier|preceding|original|initial|system|all|any)"
_INJECTION_PATTERNS = (
    rf"\b(?:ignore|disregard|forget|override|bypass)\s+(?:the\s+|of\s+)*{_QUALIFIER}\s+"
    r"(?:\w+\s+)?(?:instructions?|prompts?|rules|guidelines|directives|guardrails|messages)\b",
    r"\b(?:ignore|disregard|forget)\s+(?:all|everything|anything)\s+(?:above|before|previous|prior)",
    r"\bdisregard\s+(?:the\s+)?(?:all|any|your|previous|prior|above|everything)\b",
    r"\bsystem\s*(?:prompt|message)\b",
    r"\b(?:reveal|show|print|repeat|output|display|leak|dump|tell\s+me)\b[^.\n]{0,30}?"
    r"\b(?:your|initial|hidden|secret|original|system|developer|full|exact)\s+"
    r"(?:prompt|instructions|rules)\b",
    r"(?<!if )(?<!when )(?<!while )(?<!since )(?<!because )\byou\s+are\s+now\b",
    r"\bfrom\s+now\s+on,?\s+you\s+(?:are|will\s+(?:act|respond|answer|ignore|only)|must)\b",
    r"(?:^|[.!?:;]\s+|\b(?:you|please|now)\s+(?:must\s+|should\s+|will\s+)?)act\s+as\b",
    r"(?:^|[.!?:;]\s+|\b(?:please|now)\s+)pretend\s+(?:to\s+be|you\s+are|that\s+you)\b",
    r"\b(?:new|updated|real|actual)\s+instructions?\s*:",
    r"\b(?:jailbreak|developer\s+mode|DAN\s+mode|do\s+anything\s+now)\b",
    r"#{2,}\s*(?:system|assistant|user|instructions?)\b",
    r"<\|\s*(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id)\s*\|>",
    r"\[/?INST\]|<</?SYS>>",
    r"(?:^|\n)\s*(?:system|assistant)\s*:",
    r"</?\s*(?:system|instructions?|prompt)\s*>",
)
_INJECTION = re.compile("|".join(f"(?:{p})" for p in _INJECTION_PATTERNS), re.IGNORECASE)


# Every pattern above contains one of these; checking them first keeps the common case cheap.
_KEYWORDS = (
    "ignor", "disregard", "forget", "overrid", "bypass", "system", "reveal", "show", "print",
    "repeat", "output", "display", "leak", "dump", "tell", "you are", "from now", "act as",
    "pretend", "instruction", "jailbreak", "developer", "dan", "anything now", "#", "<", "inst]",
    "assistant",
)  # fmt: skip


def looks_like_injection(text: str) -> bool:
    """True when ``text`` reads like instructions to an AI model rather than health content."""
    folded = _fold(text)
    lowered = re.sub(r"\s+", " ", folded.lower())
    return any(k in lowered for k in _KEYWORDS) and bool(_INJECTION.search(folded))


def _fold(text: str) -> str:
    """NFKC plus dropping zero-width characters, so "i\u200bgnore" cannot dodge the patterns."""
    if text.isascii():
        return text
    folded = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")


def clean_question(question: str, max_chars: int = 2000) -> str:
    """The question without control/format characters, whitespace collapsed, at most ``max_chars``.

    Truncation prefers a word boundary so a cut question never ends in half a word.
    """
    folded = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in _fold(question))
    collapsed = re.sub(r"\s+", " ", folded).strip()
    if len(collapsed) <= max_chars:
        return collapsed
    cut = collapsed[:max_chars]
    space = cut.rfind(" ")
    return (cut[:space] if space > max_chars // 2 else cut).rstrip()

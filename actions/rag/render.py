"""Turns a `GeneratedAnswer` into the plain text a patient reads on Telegram or the web widget.

Channels show raw Markdown symbols literally, so the body is flattened to plain text; the `[n]`
markers stay and a "Sources:" block maps them to titles and links.
"""

from __future__ import annotations

import re

from actions.rag.types import GeneratedAnswer, Passage

SOURCES_HEADING = "Sources:"
NOTICE = (
    "This is general information, not medical advice. "
    "For advice about your situation, ask a clinician."
)

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*", re.MULTILINE)
_BULLET = re.compile(r"^\s*[-*+•]\s+", re.MULTILINE)
_EMPHASIS = re.compile(r"(\*\*|__|\*|`)(\S(?:.*?\S)?)\1")
_LINK = re.compile(r"\[([^\]\d][^\]]*)\]\((https?://[^)\s]+)\)")


def render_answer(answer: GeneratedAnswer) -> str:
    """Body with its `[n]` markers, then one "[n] Title — URL" line per source, then the notice."""
    parts = [plain_text(answer.text)]
    if answer.citations:
        parts.append("\n".join([SOURCES_HEADING, *_source_lines(answer.citations)]))
    parts.append(NOTICE)
    return "\n\n".join(part for part in parts if part)


def plain_text(text: str) -> str:
    """Markdown flattened for chat: no `#`, `**`, backticks; bullets become "• "."""
    text = _LINK.sub(r"\1 (\2)", text)
    text = _HEADING.sub("", text)
    text = _BULLET.sub("• ", text)
    for _ in range(2):  # nested emphasis such as ***x***
        text = _EMPHASIS.sub(r"\2", text)
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _source_lines(citations: tuple[Passage, ...]) -> list[str]:
    lines = []
    for number, passage in enumerate(citations, start=1):
        title = passage.title.strip() or passage.source.strip() or passage.doc_id
        lines.append(
            f"[{number}] {title} — {passage.url}" if passage.url else f"[{number}] {title}"
        )
    return lines

"""Links a condition to the knowledge-base page that explains it (the RAG index).

A link is offered only when the retriever's best passage is about that condition: its title or
an alias shares the condition's main words and the similarity clears the threshold the answer
path uses for named questions. A wrong link is worse than none.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from actions.ehr.summary import KbLink

if TYPE_CHECKING:
    from actions.rag.service import AnswerService

logger = logging.getLogger(__name__)
WORDS = re.compile(r"[a-z0-9]+")
# fmt: off
MINOR = frozenset((
    "of", "the", "and", "or", "in", "with", "without", "type", "due", "to", "disease",
    "disorder", "chronic", "acute",
))
# fmt: on


def _keywords(text: str) -> set[str]:
    return {w for w in WORDS.findall(text.lower()) if w not in MINOR and len(w) > 2}


class KbConditionLinker:
    """Uses the running answer service's retriever; failures mean "no link", never an error."""

    def __init__(self, service: AnswerService) -> None:
        self.service = service
        self.cache: dict[str, KbLink | None] = {}

    def link(self, condition: str) -> KbLink | None:
        key = condition.lower()
        if key not in self.cache:
            self.cache[key] = self._find(condition)
        return self.cache[key]

    def _find(self, condition: str) -> KbLink | None:
        from actions.rag.index import IndexError_

        try:
            hits = self.service.retrieve(f"What is {condition}?", k=1, entities=(condition,))
        except IndexError_:
            return None
        if not hits:
            return None
        best = hits[0]
        passage, similarity = best.passage, best.dense_score or 0.0
        named = _keywords(condition) & _keywords(" ".join([passage.title, *passage.aliases]))
        if named and similarity >= self.service.kb.min_similarity_named:
            return KbLink(passage.title, passage.url)
        return None

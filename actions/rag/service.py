"""The answer path the assistant and `healthbot kb answer` share.

question → clean → retrieve → confident enough? → generate → grounding check → (fallback to
extractive) → render with sources and notice. Nothing here logs the question or the answer.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actions.rag.index import IndexError_, KnowledgeIndex, current_version
from actions.rag.types import Embedder, GeneratedAnswer, Generator, Passage, ScoredPassage
from healthbot.settings import AnswerSettings, KbSettings

logger = logging.getLogger(__name__)

UNKNOWN = (
    "I don't know: I couldn't find this in the health information I can use. "
    "Please ask a doctor, nurse or pharmacist, or ask to talk to someone from the clinic."
)
EMPTY = (
    "I didn't catch a question there. What would you like to know about a condition or medicine?"
)
OFF_TOPIC = (
    "I can only answer health questions from the clinic's health information. "
    "What would you like to know about a condition or medicine?"
)
UNAVAILABLE = (
    "I can't look this up right now (the health information isn't ready). Please try again "
    "shortly, or ask a clinician."
)


@dataclass
class AnswerResult:
    """What the patient sees (`text`) plus what integrators and tests need."""

    text: str
    status: str  # answered | unknown | empty | off_topic | unavailable
    citations: list[Passage] = field(default_factory=list)
    grounded: bool = False
    backend: str = "none"
    latency_ms: float = 0.0
    top_similarity: float | None = None

    def to_json(self) -> dict[str, Any]:
        """The `kb answer --json` shape."""
        return {
            "answer": self.text,
            "citations": [p.qid for p in self.citations],
            "grounded": self.grounded,
            "backend": self.backend,
            "latency_ms": round(self.latency_ms, 1),
            "status": self.status,
        }


def confidence(query: str, passages: list[ScoredPassage], kb: KbSettings) -> float | None:
    """The best cosine if retrieval is confident enough to answer, else None.

    Confident: the best cosine reaches `kb.min_similarity`, or the lower
    `kb.min_similarity_named` when the question names the top document (title or alias).
    Both thresholds were set by measurement (bench/kb_eval.py, threshold section).
    """
    from actions.rag.retriever import names_document

    if not passages:
        return None
    best = max(p.dense_score or 0.0 for p in passages)
    if best >= kb.min_similarity:
        return best
    named = names_document(query, passages[0].passage)
    return best if named and best >= kb.min_similarity_named else None


class IndexHolder:
    """Serves the live index and swaps in a rebuilt one without a restart.

    The CURRENT pointer is read at most every `interval` seconds; a new version that fails to
    load is skipped (and retried only when CURRENT changes again), so the old one keeps serving.
    """

    def __init__(self, root: Path, interval: float = 1.0) -> None:
        self.root = root
        self.interval = interval
        self._index: KnowledgeIndex | None = None
        self._failed: str | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    def get(self) -> KnowledgeIndex:
        now = time.monotonic()
        if self._index is not None and now - self._checked < self.interval:
            return self._index
        with self._lock:
            self._checked = now
            version = current_version(self.root)
            live = self._index.directory.name if self._index else None
            if version and version not in (live, self._failed):
                self._try_load(version)
        if self._index is None:
            raise IndexError_(f"{self.root}: no loadable knowledge index")
        return self._index

    def _try_load(self, version: str) -> None:
        try:
            self._index = KnowledgeIndex(self.root / version)
            logger.info("knowledge index %s loaded (%d passages)", version, len(self._index))
        except IndexError_ as error:
            self._failed = version
            logger.error("new knowledge index not loaded, keeping the old one: %s", error)


class AnswerService:
    """Loads the encoder and index once; answers many questions."""

    def __init__(
        self,
        kb: KbSettings,
        answers: AnswerSettings,
        embedder: Embedder | None = None,
        generator: Generator | None = None,
    ) -> None:
        from actions.rag.embedder import load_embedder
        from actions.rag.generators import make_generator
        from actions.rag.grounding import GroundingChecker

        self.kb, self.answers = kb, answers
        self.embedder = embedder or load_embedder()
        self.holder = IndexHolder(kb.index_dir, kb.reload_interval_s)
        self.extractive = make_generator("extractive", answers, embedder=self.embedder)
        self.generator = generator or (
            self.extractive
            if answers.generator == "extractive"
            else make_generator(answers.generator, answers, embedder=self.embedder)
        )
        self.checker = GroundingChecker(self.embedder)
        self._retrievers: dict[str, Any] = {}

    def warm_up(self) -> None:
        """Loads the index and runs one query so the first patient does not wait."""
        try:
            self.retrieve("warm up", k=1)
        except IndexError_ as error:
            logger.warning("knowledge index not available yet: %s", error)

    def retrieve(
        self, question: str, k: int = 5, entities: tuple[str, ...] = ()
    ) -> list[ScoredPassage]:
        from actions.rag.retriever import make_retriever

        index = self.holder.get()
        retriever = self._retrievers.get(index.version)
        if retriever is None:
            retriever = make_retriever(self.kb.retrieval, index, self.embedder)
            self._retrievers = {index.version: retriever}
        return retriever.retrieve(question, k=k, entities=entities)

    def answer(self, question: str, entities: tuple[str, ...] = ()) -> AnswerResult:
        """Never raises for bad input; a failing backend falls back to extractive."""
        started = time.perf_counter()
        result = self._answer(question, entities)
        result.latency_ms = (time.perf_counter() - started) * 1000
        return result

    def _answer(self, question: str, entities: tuple[str, ...]) -> AnswerResult:
        from actions.rag.sanitize import clean_question, looks_like_injection, split_sentences

        cleaned = clean_question(question, max_chars=self.answers.max_question_chars)
        kept = [s for s in split_sentences(cleaned) if not looks_like_injection(s)]
        if not cleaned:
            return AnswerResult(EMPTY, "empty")
        if not kept:
            return AnswerResult(OFF_TOPIC, "off_topic")
        query = " ".join(kept)
        missing = [e for e in entities if e.lower() not in query.lower()]
        if missing:  # e.g. a follow-up "how is it treated?" with the condition from context
            query = f"{query} ({', '.join(missing)})"
        try:
            passages = self.retrieve(query, k=max(self.kb.top_k, 5), entities=entities)
        except IndexError_:
            return AnswerResult(UNAVAILABLE, "unavailable")
        top = confidence(query, passages, self.kb)
        if top is None:
            best = max((p.dense_score or 0.0 for p in passages), default=None)
            return AnswerResult(UNKNOWN, "unknown", top_similarity=best)
        return self._generate(query, passages[: self.kb.top_k], top)

    def _generate(self, query: str, passages: list[ScoredPassage], top: float) -> AnswerResult:
        from actions.rag.generators import GeneratorError

        candidates = (
            [self.generator]
            if self.generator is self.extractive
            else [self.generator, self.extractive]
        )
        for generator in candidates:
            try:
                answer = generator.generate(query, passages)
            except GeneratorError as error:
                logger.warning(
                    "generator %s failed (%s); falling back", generator.name, type(error).__name__
                )
                continue
            if answer.text and self.checker.check(answer).grounded:
                return self._result(answer, top)
            logger.info("answer from %s failed the grounding check; falling back", generator.name)
        return AnswerResult(UNKNOWN, "unknown", top_similarity=top)

    def _result(self, answer: GeneratedAnswer, top: float) -> AnswerResult:
        from actions.rag.render import render_answer

        return AnswerResult(
            render_answer(answer),
            "answered",
            citations=list(answer.citations),
            grounded=True,
            backend=answer.backend,
            top_similarity=top,
        )

"""The extractive answer: the passages' own most relevant sentences, each with its citation.

No language model, so nothing can be invented: sentences are copied verbatim (instruction-like
ones dropped), scored by cosine to the question plus a small bonus for the passage's retrieval
rank, picked with maximal marginal relevance so the answer does not say the same thing twice,
and put back in reading order. The model-based generators start from this selection too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from actions.rag.grounding import content_tokens, shared_vectors
from actions.rag.sanitize import clean_question, looks_like_injection, split_sentences
from actions.rag.types import Embedder, GeneratedAnswer, Passage, ScoredPassage

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

TARGET_WORDS = 120
RANK_BONUS = (0.05, 0.025, 0.0)  # a nudge towards the retriever's order, not an override
MIN_WORDS = 4  # shorter pieces ("Key Points", "Treatment") are headings, not answers
RELEVANCE_SPAN = 0.3  # sentences this far below the best one are off the question's topic
DUPLICATE = 0.92  # overlapping chunks repeat sentences; near-copies are skipped


@dataclass(frozen=True)
class Picked:
    """A selected passage sentence; `citation` is 1-based into `Selection.citations`."""

    text: str
    citation: int
    rank: int
    position: int


@dataclass(frozen=True)
class Selection:
    """The chosen sentences in reading order and the passages they cite."""

    sentences: tuple[Picked, ...]
    citations: tuple[Passage, ...]

    @property
    def text(self) -> str:
        return compose([(p.text, (p.citation,)) for p in self.sentences])


@dataclass(frozen=True)
class _Candidate:
    text: str
    rank: int
    position: int
    words: int


class ExtractiveGenerator:
    """`Generator` that answers with verbatim passage sentences (about 120 words at most)."""

    name = "extractive"

    def __init__(
        self,
        embedder: Embedder,
        max_answer_words: int = TARGET_WORDS,
        mmr_lambda: float = 0.7,
        max_passages: int = 3,
        scoring: str = "embedding",
    ) -> None:
        if scoring not in ("embedding", "lexical"):
            raise ValueError(f"unknown scoring {scoring!r}: use embedding or lexical")
        self.scoring = scoring
        self.embedder = embedder
        self.max_words = max_answer_words
        self.target_words = min(TARGET_WORDS, max_answer_words)
        self.mmr_lambda = mmr_lambda
        self.max_passages = max_passages
        self.vectors = shared_vectors(embedder)  # the grounding check reuses these

    def generate(self, question: str, passages: Sequence[ScoredPassage]) -> GeneratedAnswer:
        """Verbatim sentences with `[n]` markers; empty text when the passages offer nothing."""
        selection = self.select(question, passages)
        return GeneratedAnswer(selection.text, selection.citations, self.name)

    def select(self, question: str, passages: Sequence[ScoredPassage]) -> Selection:
        """The MMR selection, ordered by passage rank and then position in the passage."""
        candidates = _candidates(passages[: self.max_passages])
        if not candidates:
            return Selection((), ())
        import numpy as np

        texts = [_ITEM.sub("", c.text) for c in candidates]  # as the grounding check embeds them
        if self.scoring == "lexical":
            contexts = [_context(passages[c.rank].passage) for c in candidates]
            vectors, query = lexical_vectors(texts, clean_question(question, 1000), contexts)
        else:
            vectors, query = self.vectors.get(texts, [clean_question(question, 1000)])
        relevance = vectors @ query[0] + np.array([RANK_BONUS[min(c.rank, 2)] for c in candidates])
        chosen = self._mmr(candidates, relevance, vectors)
        chosen = _complete_lists(chosen, candidates, self.max_words)
        if not chosen:  # even the best sentence is longer than the whole answer may be
            best = int(np.argmax(relevance))
            candidates[best] = _truncate(candidates[best], self.max_words)
            chosen = [best]
        return _order(candidates, chosen, passages)

    def _mmr(
        self, candidates: list[_Candidate], relevance: NDArray[np.float32], vectors: NDArray
    ) -> list[int]:
        """Indices picked greedily by λ·relevance − (1−λ)·max similarity to those already picked."""
        import numpy as np

        floor = float(relevance.max()) - RELEVANCE_SPAN
        open_ = [i for i in range(len(candidates)) if relevance[i] >= floor]
        chosen: list[int] = []
        redundancy = np.zeros(len(candidates), dtype=np.float32)
        words = 0
        while open_ and words < self.target_words:
            scores = self.mmr_lambda * relevance[open_] - (1 - self.mmr_lambda) * redundancy[open_]
            best = open_.pop(int(np.argmax(scores)))
            if redundancy[best] >= DUPLICATE or words + candidates[best].words > self.max_words:
                continue
            chosen.append(best)
            words += candidates[best].words
            redundancy = np.maximum(redundancy, vectors @ vectors[best])
        return chosen


def _context(passage: Passage) -> str:
    return f"{passage.title} {passage.heading}"


def lexical_vectors(
    texts: list[str], question: str, contexts: Sequence[str] = ()
) -> tuple[NDArray, NDArray]:
    """Unit bag-of-stems vectors: cosine becomes shared content words, in well under 1 ms.

    The default for the extractive backend: embedding every candidate sentence costs 0.2–1.5 s
    per answer on 2 CPU cores (bench/RESULTS.md), far over the 50 ms budget, while the passages
    are already ranked by the dense retriever, so a lexical choice within them is enough. A
    sentence also carries its section's title and heading at half weight ("Most people use an
    inhaler" answers "how is asthma treated" under the heading "How is asthma treated?").
    """
    import numpy as np

    bags = [content_tokens(t) for t in [*texts, question]]
    extra = [content_tokens(c) for c in contexts] + [set()] * (len(bags) - len(contexts))
    vocab = {token: i for i, token in enumerate(sorted(set().union(*bags, *extra)))}
    matrix = np.zeros((len(bags), max(len(vocab), 1)), dtype=np.float32)
    for row, (bag, context) in enumerate(zip(bags, extra, strict=True)):
        for token in context:
            matrix[row, vocab[token]] = 0.5
        for token in bag:
            matrix[row, vocab[token]] = 1.0
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    return matrix[:-1], matrix[-1:]


def _candidates(passages: Sequence[ScoredPassage]) -> list[_Candidate]:
    """Passage sentences that can stand in an answer (list items may be one word long)."""
    found = []
    for rank, scored in enumerate(passages):
        for position, sentence in enumerate(split_sentences(scored.passage.text)):
            words = word_count(sentence)
            item = _is_item(sentence)
            if (
                words >= (1 if item else MIN_WORDS)
                and (item or _ENDED.search(sentence))
                and not looks_like_injection(sentence)
            ):
                found.append(_Candidate(sentence, rank, position, words))
    return found


_ITEM = re.compile(r"^(?:- |\d{1,2}\. )")
# A sentence ends with punctuation; a fragment without ("Centers for Disease Control and
# Prevention", a web page's section title) is a label, and would glue onto the next sentence.
# A question ("How might X be treated?") is a subheading of the source page, not an answer.
_ENDED = re.compile(r"[.!:][\"'”’)\]]*$")


def _is_item(sentence: str) -> bool:
    """A list item as `split_sentences` writes it ("- x" or "1. x")."""
    return bool(_ITEM.match(sentence))


def _complete_lists(chosen: list[int], candidates: list[_Candidate], max_words: int) -> list[int]:
    """A lead-in ("Symptoms include:") comes with its items and an item with its lead-in, as far
    as the word limit allows; a lead-in left without any item is dropped."""
    at = {(c.rank, c.position): i for i, c in enumerate(candidates)}
    kept = set(chosen)
    words = sum(candidates[i].words for i in kept)
    for i in chosen:
        lead, items = _list_around(i, candidates, at)
        for j in ([lead] if lead is not None else []) + items:
            if j not in kept and words + candidates[j].words <= max_words:
                kept.add(j)
                words += candidates[j].words
        if lead is not None and lead in kept and not kept.intersection(items):
            kept.discard(lead)
            words -= candidates[lead].words
    return sorted(kept)


def _list_around(
    i: int, candidates: list[_Candidate], at: dict[tuple[int, int], int]
) -> tuple[int | None, list[int]]:
    """(lead-in, items) of the list that candidate ``i`` opens or belongs to."""
    rank, position, text = candidates[i].rank, candidates[i].position, candidates[i].text

    def item(pos: int) -> bool:
        j = at.get((rank, pos))
        return j is not None and _is_item(candidates[j].text)

    if _is_item(text):
        first = position
        while item(first - 1):
            first -= 1
        before = at.get((rank, first - 1))
        lead = before if before is not None and candidates[before].text.endswith(":") else None
    elif text.endswith(":"):
        first, lead = position + 1, i
    else:
        return None, []
    items = []
    while item(first + len(items)):
        items.append(at[(rank, first + len(items))])
    return lead, items


def _truncate(candidate: _Candidate, max_words: int) -> _Candidate:
    """The first ``max_words`` words and an ellipsis (a list marker is kept and not counted)."""
    marker = _ITEM.match(candidate.text)
    head = marker.group(0) if marker else ""
    words = candidate.text[len(head) :].split()[:max_words]
    return _Candidate(f"{head}{' '.join(words)} …", candidate.rank, candidate.position, max_words)


def _order(
    candidates: list[_Candidate], chosen: list[int], passages: Sequence[ScoredPassage]
) -> Selection:
    """Reading order, with citations renumbered densely over the passages actually used."""
    picked = sorted((candidates[i] for i in chosen), key=lambda c: (c.rank, c.position))
    ranks = sorted({c.rank for c in picked})
    number = {rank: i for i, rank in enumerate(ranks, start=1)}
    sentences = tuple(Picked(c.text, number[c.rank], c.rank, c.position) for c in picked)
    return Selection(sentences, tuple(passages[r].passage for r in ranks))


_TRAILING_PUNCT = re.compile(r"([.!?:]+[\"'”’)\]]*)$")


def cite(sentence: str, numbers: Sequence[int]) -> str:
    """The sentence with " [1]" (or " [1][2]") placed before its final punctuation."""
    marker = "".join(f"[{n}]" for n in numbers)
    end = _TRAILING_PUNCT.search(sentence)
    if not marker:
        return sentence
    if end:
        return f"{sentence[: end.start()].rstrip()} {marker}{end.group(1)}"
    return f"{sentence.rstrip()} {marker}"


def compose(sentences: Sequence[tuple[str, Sequence[int]]]) -> str:
    """The answer body: prose sentences in one paragraph, list items on their own lines."""
    lines: list[str] = []
    prose = False
    for sentence, numbers in sentences:
        text = cite(sentence, numbers)
        is_item = _is_item(sentence)
        if prose and not is_item:
            lines[-1] += f" {text}"
        else:
            lines.append(text)
        prose = not is_item
    return "\n".join(lines)


def word_count(text: str) -> int:
    """Words of an answer body, not counting `[n]` markers or list markers."""
    bare = re.sub(r"\s*\[\d+(?:\s*[,–-]\s*\d+)*\]", "", text)
    bare = re.sub(r"^\s*(?:[-*•]|\d{1,2}\.)\s+", "", bare, flags=re.MULTILINE)
    return len(bare.split())

"""Checks that every sentence of a generated answer is backed by a passage it cites.

A generator may rephrase, but it may not add facts. So each answer sentence must cite a passage
with `[n]`, every number (dose, unit, "1 in 4,000") in it must appear in a cited passage, and
it must either appear verbatim in a cited passage or be close to one of the passage's sentences
or adjacent sentence pairs (merged sentences) in meaning (embedding cosine), in wording (share
of its content words found there or in the passage's title) and in negation (no "not" added or
dropped). When the check fails the caller falls back to the extractive answer, which passes by
construction. The thresholds are measured, not guessed: bench/grounding_thresholds.py.
"""

from __future__ import annotations

import itertools
import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from actions.rag.render import NOTICE, SOURCES_HEADING
from actions.rag.sanitize import looks_like_injection, split_sentences
from actions.rag.types import Embedder, GeneratedAnswer

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

# Chosen by bench/grounding_thresholds.py (bench/results/grounding_thresholds.json): on MedQuAD,
# the best recall on rewritten passage sentences with <= 2 % of unsupported sentences accepted.
DEFAULT_MIN_SIMILARITY = 0.8
DEFAULT_MIN_OVERLAP = 0.85

_NEGATION_CUES = frozenset(
    ["not", "no", "never", "cannot", "without", "neither", "nor", "none", "nothing", "nobody"]
)  # and every word ending in "n't"
_CITATION = re.compile(r"\[(\d+(?:\s*[,–-]\s*\d+)*)\]")
_LIST_MARKER = re.compile(r"^\s*(?:[-*•·]|\d{1,2}[.)])\s+")
_UNIT = (
    r"%|percent\b|per\s?cent\b|mg\b|mcg\b|µg\b|ug\b|g\b|kg\b|ml\b|l\b|iu\b|units?\b|mmol\b"
    r"|mmhg\b|mm\b|cm\b|m\b|km\b|kcal\b|calories\b|°\s?[cf]\b|degrees?\b|hours?\b|hrs?\b"
    r"|minutes?\b|mins?\b|days?\b|weeks?\b|months?\b|years?\b|times\b|doses?\b|tablets?\b"
)
_NUMBER = re.compile(
    rf"(?<![\w.,])\d+(?:[.,]\d+)*(?:\s+(?:in|out\s+of)\s+\d+(?:,\d{{3}})*)?(?:\s?(?:{_UNIT}))?",
    re.IGNORECASE,
)
_COUNTS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
    " fifteen sixteen seventeen eighteen nineteen twenty"
)
_NUMBER_WORDS = {
    word: str(value)
    for value, word in enumerate(_COUNTS.split())
    if word != "one"  # mostly a pronoun ("one of the causes"), not a count
} | {"thirty": "30", "forty": "40", "fifty": "50", "hundred": "100", "thousand": "1000"}
_NUMBER_WORD = re.compile(rf"\b(?:{'|'.join(_NUMBER_WORDS)}|half|twice|million|billion)\b", re.I)
_STOPWORD_TEXT = """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each either few for
    from further had has have having he her here hers herself him himself his how however i if
    in into is it its itself just may me might more most must my myself no nor not of off often
    on once only or other our ours out over own per same she should so some such than that the
    their theirs them themselves then there these they this those through to too under until up
    usually very was we were what when where which while who whom why will with within without
    would you your yours yourself yourselves called known include includes including like many
    much one ones people person someone something sometimes things"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_SUFFIXES = (
    "ational", "ations", "ation", "ities", "ingly", "ness", "ment", "ings", "ing", "edly", "ity",
    "ies", "ied", "ive", "ous", "ful", "est", "ers", "ed", "es", "er", "ly", "al", "ic", "s",
)  # fmt: skip


@dataclass(frozen=True)
class SentenceCheck:
    """The verdict on one answer sentence; `supported_by` is a 1-based citation index."""

    text: str
    citations: tuple[int, ...]
    supported_by: int | None
    similarity: float
    overlap: float
    reasons: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.reasons


@dataclass(frozen=True)
class GroundingReport:
    """`grounded` is True only when the answer has sentences and every one of them passed."""

    grounded: bool
    sentences: tuple[SentenceCheck, ...]

    @property
    def reasons(self) -> list[str]:
        """Every failure as "sentence N: reason" (quotes numbers, never whole sentences)."""
        found = [
            f"sentence {i}: {reason}"
            for i, check in enumerate(self.sentences, start=1)
            for reason in check.reasons
        ]
        return found or ([] if self.sentences else ["empty answer"])


class GroundingChecker:
    """Rejects answers with unsupported sentences, invented numbers or broken citations."""

    def __init__(
        self,
        embedder: Embedder,
        min_similarity: float = DEFAULT_MIN_SIMILARITY,
        min_overlap: float = DEFAULT_MIN_OVERLAP,
    ) -> None:
        self.embedder = embedder
        self.min_similarity = min_similarity
        self.min_overlap = min_overlap
        self.vectors = shared_vectors(embedder)

    def check(self, answer: GeneratedAnswer) -> GroundingReport:
        """Checks each sentence of the answer body against the passages it cites."""
        passages = [p.text for p in answer.citations]
        contexts = [" ".join([p.title, *p.aliases]) for p in answer.citations]
        parsed = (_parse_claim(s) for s in split_sentences(answer_body(answer.text)))
        claims = [claim for claim in parsed if claim]
        pending = [c for c in claims if not _precheck(c, passages)]
        vectors = self._embed_claims(pending, passages)
        checks = tuple(self._judge(c, passages, contexts, vectors) for c in claims)
        return GroundingReport(bool(checks) and all(c.ok for c in checks), checks)

    def _judge(
        self,
        claim: _Claim,
        passages: list[str],
        contexts: list[str],
        vectors: dict[str, NDArray[np.float32]],
    ) -> SentenceCheck:
        reasons = _citation_problems(claim, len(passages))
        cited = [n for n in claim.citations if 1 <= n <= len(passages)]
        reasons += [
            f"number {n} not in cited passages"
            for n in missing_numbers(claim.text, [passages[i - 1] for i in cited])
        ]
        if looks_like_injection(claim.text):
            reasons.append("instruction-like text")
        scored = [
            (self._support(claim.text, passages[n - 1], contexts[n - 1], vectors), n) for n in cited
        ]
        support, best = max(
            scored, key=lambda s: (self.supports(s[0]), s[0].similarity), default=(_NONE, None)
        )
        if cited and not self.supports(support):
            reasons.append(_why_unsupported(support, self))
        return SentenceCheck(
            claim.raw,
            claim.citations,
            best,
            round(support.similarity, 4),
            round(support.overlap, 4),
            tuple(reasons),
        )

    def supports(self, support: Support) -> bool:
        """The rule: similar enough, mostly the same words, and the same negation."""
        return (
            support.similarity >= self.min_similarity
            and support.overlap >= self.min_overlap
            and support.negation_ok
        )

    def _support(
        self, claim: str, passage: str, context: str, vectors: dict[str, NDArray[np.float32]]
    ) -> Support:
        """The support of the passage's best unit for ``claim`` (verbatim counts as perfect)."""
        if is_verbatim(claim, passage):
            return _VERBATIM
        sentences = passage_sentences(passage)
        if claim not in vectors or not sentences:
            return _NONE
        import numpy as np

        units = unit_matrix(np.stack([vectors[s] for s in sentences]))
        similarities = units @ vectors[claim]
        supports = measure_support(claim, passage_units(passage), similarities, context)
        return max(supports, key=lambda s: (self.supports(s), s.similarity))

    def _embed_claims(
        self, claims: list[_Claim], passages: list[str]
    ) -> dict[str, NDArray[np.float32]]:
        """Vectors of the claims and of the cited passages' sentences (one encoder call at most;
        sentences the extractive selection already embedded come from the shared cache)."""
        cited = {n for c in claims for n in c.citations if 1 <= n <= len(passages)}
        sentences = list(
            dict.fromkeys(s for n in cited for s in passage_sentences(passages[n - 1]))
        )
        texts = list(dict.fromkeys(c.text for c in claims))
        if not texts:
            return {}
        stored, fresh = self.vectors.get(sentences, texts)
        return dict(zip(sentences, stored, strict=True)) | dict(zip(texts, fresh, strict=True))


class VectorCache:
    """Sentence vectors by text, shared per encoder by the extractive generator and the checker.

    The grounding check of a model's answer needs the vectors of the same passage sentences the
    extractive selection just embedded; sharing them makes the check cost one short encoder
    call. Least recently used entries go first; safe across the action server's threads.
    """

    def __init__(self, embedder: Embedder, size: int = 8192) -> None:
        self.embedder = embedder
        self.size = size
        self._vectors: OrderedDict[str, NDArray[np.float32]] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self, texts: Sequence[str], extra: Sequence[str] = ()
    ) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """(vectors of ``texts``, cached; vectors of ``extra``, not cached), one encoder call."""
        import numpy as np

        with self._lock:
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        encoded = self.embedder.encode([*extra, *missing])
        known.update(zip(missing, encoded[len(extra) :], strict=True))
        with self._lock:
            for text in texts:
                self._vectors[text] = known[text]
                self._vectors.move_to_end(text)
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)
        stored = [known[t] for t in texts]
        matrix = np.stack(stored) if stored else np.zeros((0, self.embedder.dim), np.float32)
        return matrix, encoded[: len(extra)]


_shared: weakref.WeakKeyDictionary[Any, VectorCache] = weakref.WeakKeyDictionary()
_shared_lock = threading.Lock()


def shared_vectors(embedder: Embedder) -> VectorCache:
    """The process-wide `VectorCache` of ``embedder``."""
    with _shared_lock:
        cache = _shared.get(embedder)
        if cache is None:
            cache = _shared[embedder] = VectorCache(embedder)
        return cache


def unit_matrix(sentence_vectors: NDArray[np.float32]) -> NDArray[np.float32]:
    """Vectors of `passage_units`: the sentences, then each adjacent pair as the normalised sum
    of its two sentences (no second encoder pass over long merged texts)."""
    import numpy as np

    pairs = sentence_vectors[:-1] + sentence_vectors[1:]
    norms = np.linalg.norm(pairs, axis=1, keepdims=True)
    return np.vstack([sentence_vectors, pairs / np.maximum(norms, 1e-12)])


@dataclass(frozen=True)
class Support:
    """How well one passage backs a claim (see `measure_support`)."""

    similarity: float
    overlap: float
    negation_ok: bool = True


_VERBATIM = Support(1.0, 1.0)
_NONE = Support(0.0, 0.0)


def measure_support(
    claim: str, units: Sequence[str], similarities: NDArray[np.float32], context: str = ""
) -> list[Support]:
    """How each of `passage_units(passage)` backs ``claim``, given the claim's cosine to each.

    Overlap counts the claim's content words found in the unit or in ``context`` (the passage's
    title and aliases, which a sentence may name where the passage says "this condition").
    Negation must agree with the unit: the claim may neither add a "not" to a word nor drop one.
    A passage supports the claim when one of its units passes all three tests.
    """
    tokens = content_tokens(claim)
    named = content_tokens(context)
    supports = []
    for unit, similarity in zip(units, similarities, strict=True):
        shared = tokens & (content_tokens(unit) | named)
        overlap = len(shared) / len(tokens) if tokens else 1.0
        supports.append(Support(float(similarity), overlap, _same_negation(claim, unit)))
    return supports


def _same_negation(claim: str, source: str) -> bool:
    """False when the claim negates a word its source does not, or drops a source negation."""
    claimed, stated = negated_words(claim), negated_words(source)
    return claimed <= stated and not (stated & (content_tokens(claim) - claimed))


def negated_words(text: str) -> set[str]:
    """Stems of the first content word after each negation ("is not inherited" -> inherit)."""
    words = re.findall(r"[a-z0-9']+", text.lower())
    found = set()
    for i, word in enumerate(words):
        if word in _NEGATION_CUES or word.endswith("n't"):
            following = [w for w in words[i + 1 : i + 5] if _is_content(w)]
            if following:
                found.add(_stem(following[0]))
    return found


def _is_content(word: str) -> bool:
    return (
        len(word) > 1 and word not in _STOPWORDS and word not in _NEGATION_CUES and "'" not in word
    )


def _why_unsupported(support: Support, checker: GroundingChecker) -> str:
    if support.negation_ok or not (
        support.similarity >= checker.min_similarity and support.overlap >= checker.min_overlap
    ):
        return "unsupported sentence"
    return "negation differs from the cited passage"


@dataclass(frozen=True)
class _Claim:
    raw: str  # the sentence as the answer wrote it
    text: str  # without citation markers and list marker
    citations: tuple[int, ...]


def _parse_claim(sentence: str) -> _Claim | None:
    numbers: list[int] = []
    for group in _CITATION.findall(sentence):
        numbers.extend(_expand(group))
    text = _LIST_MARKER.sub("", _CITATION.sub(" ", sentence))
    text = re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"\s+", " ", text)).strip()
    if not re.search(r"[A-Za-z0-9]", text):
        return None
    return _Claim(sentence, text, tuple(dict.fromkeys(numbers)))


def _expand(group: str) -> list[int]:
    numbers: list[int] = []
    for part in re.split(r"\s*,\s*", group):
        bounds = [int(x) for x in re.split(r"\s*[–-]\s*", part) if x]
        numbers.extend(range(bounds[0], bounds[-1] + 1) if len(bounds) == 2 else bounds)
    return numbers


def _precheck(claim: _Claim, passages: list[str]) -> bool:
    """True when no embedding is needed: no valid citation, or verbatim in a cited passage."""
    cited = [passages[n - 1] for n in claim.citations if 1 <= n <= len(passages)]
    return not cited or any(is_verbatim(claim.text, p) for p in cited)


def _citation_problems(claim: _Claim, count: int) -> list[str]:
    """ "no citation", or one reason per citation number that points at no passage."""
    if not claim.citations:
        return ["no citation"]
    return [f"cites [{n}] which does not exist" for n in claim.citations if not 1 <= n <= count]


def answer_body(text: str) -> str:
    """The answer without a trailing "Sources:" block or the not-medical-advice notice."""
    cut = len(text)
    sources = re.search(rf"^\s*{re.escape(SOURCES_HEADING)}", text, re.MULTILINE | re.IGNORECASE)
    if sources:
        cut = sources.start()
    notice = text.find(NOTICE)
    if notice != -1:
        cut = min(cut, notice)
    return text[:cut].strip()


def normalise(text: str) -> str:
    """Lowercase words and numbers only, single-spaced: the form verbatim matching compares."""
    return " ".join(re.findall(r"[a-z0-9]+(?:[.,][0-9]+)*", text.lower().replace("’", "'")))


def is_verbatim(claim: str, passage: str) -> bool:
    """True when the claim's words appear, in order and contiguous, in the passage."""
    needle = normalise(claim)
    return bool(needle) and f" {needle} " in f" {normalise(passage)} "


def passage_sentences(passage: str) -> list[str]:
    """The passage's sentences without list markers."""
    return [_LIST_MARKER.sub("", s) for s in split_sentences(passage)]


def passage_units(passage: str) -> list[str]:
    """The passage's sentences plus each adjacent pair (an answer may merge two sentences)."""
    sentences = passage_sentences(passage)
    return sentences + [f"{a} {b}" for a, b in itertools.pairwise(sentences)]


def content_tokens(text: str) -> set[str]:
    """Stemmed, lowercased content words (stopwords and one-letter words removed)."""
    words = re.findall(r"[a-z0-9]+", text.lower().replace("'s", ""))
    return {_stem(w) for w in words if len(w) > 1 and w not in _STOPWORDS}


def _stem(word: str) -> str:
    if word.isdigit() or len(word) <= 4:
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def missing_numbers(claim: str, passages: Sequence[str]) -> list[str]:
    """Numbers, doses and units in the claim that no cited passage states verbatim."""
    haystack = " " + " ".join(_number_form(p) for p in passages) + " "
    missing = [m.group(0) for m in _NUMBER.finditer(claim) if not _states(haystack, m.group(0))]
    for match in _NUMBER_WORD.finditer(claim):
        word = match.group(0).lower()
        digit = _NUMBER_WORDS.get(word)
        if f" {word} " not in haystack and (digit is None or not _states(haystack, digit)):
            missing.append(match.group(0))
    return missing


def _number_form(text: str) -> str:
    """Lowercase, thousands separators and "percent" folded, units attached with one space."""
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text.lower())
    text = re.sub(r"\s*(?:percent|per\s?cent)\b", "%", text)
    text = re.sub(r"(?<=\d)\s*(?=[a-zµ°%])", " ", text)
    return re.sub(r"[^\w%°µ.,/ ]+|\s+", " ", text)


def _states(haystack: str, number: str) -> bool:
    form = _number_form(number).strip()
    return re.search(rf"(?<![\w.,]){re.escape(form)}(?![\w%]|[.,]\d)", haystack) is not None

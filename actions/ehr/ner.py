"""The BERT NER model: word-level predictions over long text, in windows of whole sentences.

Text is split into words the way the training corpora were (runs of letters/digits, or one
punctuation mark), tokenised once, and each word is labelled by its first word piece. Long notes
are cut into windows of whole sentences (no overlap); only a sentence longer than a window is cut
inside, into overlapping windows merged back by word, keeping the window in which the word sits
furthest from an edge. Decoding is the arg-max, or BIO-constrained Viterbi where the arg-max
would start an entity with ``I-``. All windows of many notes are batched by length. Heavy
imports stay inside functions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass

WORD = re.compile(r"[^\W_]+|\S", re.UNICODE)
SENTENCE_END = frozenset((".", "!", "?"))


@dataclass(frozen=True)
class Word:
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Mention:
    """An entity span: label, character offsets into the text, mean word probability."""

    label: str
    start: int
    end: int
    text: str
    confidence: float


def split_words(text: str) -> list[Word]:
    """Words with character offsets, tokenised like BC5CDR (punctuation on its own)."""
    return [Word(m.group(), m.start(), m.end()) for m in WORD.finditer(text)]


def pick_device(requested: str = "auto") -> str:
    """CUDA when present (or asked for), else CPU; asking for CUDA without one is an error."""
    import torch

    if requested == "cpu":
        return "cpu"
    if requested == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError("--device cuda was asked for, but no CUDA device is available")
        return "cuda"
    return "cuda" if torch.cuda.is_available() else "cpu"


def viterbi_bio(log_probs: Sequence[Sequence[float]], labels: Sequence[str]) -> list[int]:
    """Best label path where ``I-X`` only follows ``B-X`` or ``I-X``."""
    n_labels = len(labels)
    allowed = [
        [
            not labels[j].startswith("I-") or (labels[i][2:] == labels[j][2:] and labels[i] != "O")
            for j in range(n_labels)
        ]
        for i in range(n_labels)
    ]
    start_ok = [not label.startswith("I-") for label in labels]
    score = [lp if ok else -math.inf for lp, ok in zip(log_probs[0], start_ok, strict=True)]
    back: list[list[int]] = []
    for row in log_probs[1:]:
        pointers: list[int] = []
        new_score: list[float] = []
        for j in range(n_labels):
            best_i, best = 0, -math.inf
            for i in range(n_labels):
                if allowed[i][j] and score[i] > best:
                    best_i, best = i, score[i]
            pointers.append(best_i)
            new_score.append(best + row[j])
        back.append(pointers)
        score = new_score
    last = max(range(n_labels), key=lambda j: score[j])
    path = [last]
    for pointers in reversed(back):
        path.append(pointers[path[-1]])
    return path[::-1]


def sentence_ends(words: Sequence[str]) -> frozenset[int]:
    """Indices of sentence-final punctuation ("6.8" and "3.5-5.0" are not sentence ends)."""
    return frozenset(
        i
        for i, word in enumerate(words)
        if word in SENTENCE_END and not (i + 1 < len(words) and words[i + 1][:1].isdigit())
    )


def _valid(tags: Sequence[str]) -> bool:
    """No ``I-X`` without a ``B-X``/``I-X`` before it."""
    previous = "O"
    for tag in tags:
        if tag.startswith("I-") and previous[2:] != tag[2:]:
            return False
        previous = tag
    return True


def _slice(pieces: list[list[list[int]]], job: tuple[int, int, int]) -> list[list[int]]:
    doc, start, end = job
    return pieces[doc][start:end]


def spans(tags: Sequence[str]) -> Iterator[tuple[str, int, int]]:
    """(label, first word, last word + 1) for each BIO entity."""
    label, begin = None, 0
    for index, tag in enumerate([*tags, "O"]):
        if label is not None and not (tag.startswith("I-") and tag[2:] == label):
            yield label, begin, index
            label = None
        if tag.startswith("B-") or (tag.startswith("I-") and label is None):
            label, begin = tag[2:], index
    return


class NerModel:
    """Loads once; predicts BIO tags for many word sequences, batched by length.

    ``backend``: ``torch`` (fp16 on CUDA, fp32 on CPU) or ``onnx`` (int8 ONNX Runtime, CPU);
    ``auto`` picks torch on CUDA and onnx on a CPU when ONNX Runtime is installed.
    """

    def __init__(
        self,
        model_dir: Path,
        device: str = "auto",
        backend: str = "auto",
        max_pieces: int = 128,
        stride_words: int = 24,
        cache_dir: Path | None = None,
    ) -> None:
        from transformers import AutoConfig, AutoTokenizer

        from actions.ehr import onnx_backend

        if not (model_dir / "config.json").is_file():
            raise FileNotFoundError(
                f"{model_dir}: no NER model here (config.json missing); run `make train-ehr`"
            )
        self.device = pick_device(device)
        if backend == "auto":
            cpu_onnx = self.device == "cpu" and onnx_backend.available()
            backend = "onnx" if cpu_onnx else "torch"
        if backend == "onnx" and self.device != "cpu":
            raise ValueError("the onnx backend runs on the CPU only")
        self.backend = backend
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
        config = AutoConfig.from_pretrained(str(model_dir), local_files_only=True)
        self.labels: list[str] = [config.id2label[i] for i in range(config.num_labels)]
        self.max_pieces = max_pieces
        self.stride_words = stride_words
        if backend == "onnx":
            path = onnx_backend.build(model_dir, cache_dir or Path("var/cache/ehr-ner"))
            self._run: Any = onnx_backend.OnnxRunner(path)
        else:
            self._run = self._torch_runner(model_dir)

    def _torch_runner(self, model_dir: Path) -> Any:
        import torch
        from transformers import AutoModelForTokenClassification

        dtype = torch.float16 if self.device == "cuda" else torch.float32
        model = AutoModelForTokenClassification.from_pretrained(
            str(model_dir), local_files_only=True, dtype=dtype
        ).to(self.device)
        model.eval()
        self.model = model

        def run(inputs: dict[str, Any]) -> Any:
            with torch.inference_mode():
                tensors = {k: torch.as_tensor(v).to(self.device) for k, v in inputs.items()}
                return model(**tensors).logits.float().cpu().numpy()

        return run

    def _pieces(self, words: Sequence[str]) -> list[list[int]]:
        """Word-piece ids of each word, in one tokenizer call (unknown → [UNK])."""
        if not words:
            return []
        ids = self.tokenizer(list(words), add_special_tokens=False)["input_ids"]
        unk = self.tokenizer.unk_token_id
        return [row or [unk] for row in ids]

    def _windows(
        self, lengths: Sequence[int], breaks: frozenset[int] = frozenset()
    ) -> list[tuple[int, int]]:
        """Word ranges whose pieces fit ``max_pieces`` (with [CLS]/[SEP]).

        A window ends after the last sentence end (a word index in ``breaks``) that fits, and
        the next one starts there: no overlap, and whole sentences, as the model was trained.
        Only a sentence longer than a window is cut mid-sentence, with ``stride_words`` of
        overlap so every word still gets context on both sides.
        """
        budget = self.max_pieces - 2
        windows: list[tuple[int, int]] = []
        start = 0
        while start < len(lengths):
            end, used, last_break = start, 0, 0
            while end < len(lengths) and used + lengths[end] <= budget:
                used += lengths[end]
                end += 1
                if end - 1 in breaks:
                    last_break = end
            end = max(end, start + 1)
            if end >= len(lengths):
                windows.append((start, end))
                break
            if last_break > start:
                windows.append((start, last_break))
                start = last_break
            else:
                windows.append((start, end))
                start = max(start + 1, end - self.stride_words)
        return windows

    def predict_words(
        self, documents: Sequence[Sequence[str]], batch_size: int = 32
    ) -> list[list[tuple[str, float]]]:
        """(tag, probability) per word of each document."""
        import numpy as np

        pieces = [self._pieces(words) for words in documents]
        jobs: list[tuple[int, int, int]] = []  # (document, first word, end word)
        for doc, doc_pieces in enumerate(pieces):
            breaks = sentence_ends(documents[doc])
            for start, end in self._windows([len(p) for p in doc_pieces], breaks):
                jobs.append((doc, start, end))
        n_labels = len(self.labels)
        probs = [np.zeros((len(d), n_labels), dtype=np.float32) for d in documents]
        for row in probs:
            row[:, 0] = 1.0  # a word no window reached (none, in practice) stays "O"
        centrality = [np.full(len(d), -1, dtype=np.int64) for d in documents]
        order = sorted(range(len(jobs)), key=lambda j: sum(map(len, _slice(pieces, jobs[j]))))
        for offset in range(0, len(order), batch_size):
            batch = [jobs[j] for j in order[offset : offset + batch_size]]
            self._run_batch(pieces, batch, probs, centrality)
        return [self._decode(row) for row in probs]

    def _decode(self, rows: Any) -> list[tuple[str, float]]:
        """Arg-max tags; BIO-constrained Viterbi only where the arg-max path is invalid."""
        import numpy as np

        if not len(rows):
            return []
        path = rows.argmax(axis=1).tolist()
        if not _valid([self.labels[k] for k in path]):
            path = viterbi_bio(np.log(np.maximum(rows, 1e-9)).tolist(), self.labels)
        return [(self.labels[k], float(rows[i, k])) for i, k in enumerate(path)]

    def _run_batch(
        self,
        pieces: list[list[list[int]]],
        batch: list[tuple[int, int, int]],
        probs: list[Any],
        centrality: list[Any],
    ) -> None:
        import numpy as np

        cls, sep, pad = (
            self.tokenizer.cls_token_id,
            self.tokenizer.sep_token_id,
            self.tokenizer.pad_token_id,
        )
        rows = [[cls, *(i for word in _slice(pieces, job) for i in word), sep] for job in batch]
        width = max(len(r) for r in rows)
        ids = np.full((len(rows), width), pad, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = row
            mask[i, : len(row)] = 1
        logits = self._run(
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        )
        shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
        probabilities = shifted / shifted.sum(axis=-1, keepdims=True)
        for row, (doc, start, end) in enumerate(batch):
            position = 1  # after [CLS]
            for word in range(start, end):
                middle = min(word - start, end - 1 - word)
                if middle > centrality[doc][word]:
                    centrality[doc][word] = middle
                    probs[doc][word] = probabilities[row, position]
                position += len(pieces[doc][word])

    def mentions(self, texts: Sequence[str], batch_size: int = 32) -> list[list[Mention]]:
        """Entity mentions with character offsets for each text."""
        words = [split_words(text) for text in texts]
        tagged = self.predict_words([[w.text for w in ws] for ws in words], batch_size)
        results: list[list[Mention]] = []
        for text, ws, tags in zip(texts, words, tagged, strict=True):
            found = []
            for label, first, last in spans([t for t, _ in tags]):
                start, end = ws[first].start, ws[last - 1].end
                confidence = sum(p for _, p in tags[first:last]) / (last - first)
                found.append(Mention(label, start, end, text[start:end], round(confidence, 4)))
            results.append(found)
        return results

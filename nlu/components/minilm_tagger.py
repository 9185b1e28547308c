"""A MiniLM token tagger: fine-tuned with TensorFlow at training time, run in numpy at parse time.

Why: hand-made CRF features over frozen sentence-model vectors stop at ~79 % entity F1 on HWU64
(54 entity types), and DIET's entity head costs too much per epoch on a 2-core CPU
(bench/PIPELINE.md). Fine-tuning the upper layers of the same all-MiniLM-L6-v2 the featurizer
runs is the standard cure for the first and cheap enough for the second:

- the bottom `frozen_layers` (and the embeddings) keep their pretrained weights, so their output
  is computed once per training example and each step back-propagates through the top layers only;
- the classifier reads the top hidden state of each token's first word piece, plus a learned
  vector for every lookup table or regex that matches the token (Rasa's RegexFeaturizer patterns):
  a lookup match pushes the token towards that entity, it does not force it;
- TensorFlow (installed with Rasa) is imported only to train; parsing reuses the numpy encoder and,
  when the featurizer ran first, its frozen layers' states, so a parse runs only the trained layers.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from nlu.components.minilm_encoder import LayerStates, MiniLMEncoder, Piece

OUTSIDE = "O"
_BLOCK_KEYS = ("qkv_w", "qkv_b", "out_w", "out_b", "in_w", "in_b", "ff_w", "ff_b")
_NORM_KEYS = ("ln1", "ln2")
WEIGHTS_FILE = "tagger.safetensors"
META_FILE = "tagger.json"

Span = tuple[int, int]


@dataclass(frozen=True)
class TaggedText:
    """A training sentence: its token spans and one BIO label per token."""

    text: str
    spans: list[Span]
    labels: list[str]


@dataclass(frozen=True)
class TrainConfig:
    """Fine-tuning hyper-parameters (defaults chosen on HWU64, see bench/PIPELINE.md)."""

    frozen_layers: int = 3
    epochs: int = 8
    batch_size: int = 32
    learning_rate: float = 1e-4
    head_learning_rate: float = 1e-3
    warmup_fraction: float = 0.1
    dropout: float = 0.1
    seed: int = 13


def first_pieces(spans: Sequence[Span], pieces: Sequence[Piece]) -> list[int]:
    """Per token: the index of the first word piece overlapping its span, or -1 if none does.

    -1 happens for tokens made only of characters BERT drops, or cut off by the piece limit.
    """
    out: list[int] = []
    p = 0
    for start, end in spans:
        while p < len(pieces) and pieces[p].end <= start:
            p += 1
        out.append(p if p < len(pieces) and pieces[p].start < end else -1)
    return out


class TokenPatterns:
    """Lookup tables and regexes as per-token 0/1 flags, matched like Rasa's RegexFeaturizer."""

    def __init__(self, patterns: list[dict[str, str]], case_sensitive: bool = False) -> None:
        """Compile once; `patterns` are Rasa's `extract_patterns` dicts (name, pattern)."""
        self.patterns = patterns
        self.case_sensitive = case_sensitive
        flags = 0 if case_sensitive else re.IGNORECASE
        self._compiled = [re.compile(p["pattern"], flags) for p in patterns]

    def __len__(self) -> int:
        return len(self._compiled)

    def flags(self, text: str, spans: Sequence[Span]) -> np.ndarray:
        """[tokens, patterns]: 1 where a match of the pattern overlaps the token."""
        out = np.zeros((len(spans), len(self._compiled)), dtype=np.float32)
        for j, regex in enumerate(self._compiled):
            for match in regex.finditer(text):
                if match.end() == match.start():
                    continue
                for t, (start, end) in enumerate(spans):
                    if start < match.end() and end > match.start():
                        out[t, j] = 1.0
        return out


@dataclass
class TaggerWeights:
    """What fine-tuning produces: the top encoder blocks and the classifier over labels."""

    labels: list[str]
    frozen_layers: int
    blocks: list[dict[str, Any]]
    head_w: np.ndarray
    head_b: np.ndarray
    pattern_emb: np.ndarray  # [patterns, hidden], added to the state of each matching token
    meta: dict[str, Any] = field(default_factory=dict)

    def save(self, folder: Path, patterns: TokenPatterns) -> None:
        """Write `tagger.safetensors` (float32) and `tagger.json` (labels, patterns, metadata)."""
        from safetensors.numpy import save_file

        tensors = {"head.w": self.head_w, "head.b": self.head_b, "patterns": self.pattern_emb}
        for n, block in enumerate(self.blocks):
            for key in _BLOCK_KEYS:
                tensors[f"block.{n}.{key}"] = block[key]
            for key in _NORM_KEYS:
                tensors[f"block.{n}.{key}.w"], tensors[f"block.{n}.{key}.b"] = block[key]
        save_file(
            {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tensors.items()},
            str(folder / WEIGHTS_FILE),
        )
        meta = {
            "labels": self.labels,
            "frozen_layers": self.frozen_layers,
            "patterns": patterns.patterns,
            "case_sensitive": patterns.case_sensitive,
            **self.meta,
        }
        (folder / META_FILE).write_text(json.dumps(meta, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> tuple[TaggerWeights, TokenPatterns]:
        """Read what `save` wrote."""
        from safetensors.numpy import load_file

        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
        raw = load_file(str(folder / WEIGHTS_FILE))
        count = 1 + max((int(k.split(".")[1]) for k in raw if k.startswith("block.")), default=-1)
        blocks = []
        for n in range(count):
            block: dict[str, Any] = {key: raw[f"block.{n}.{key}"] for key in _BLOCK_KEYS}
            for key in _NORM_KEYS:
                block[key] = (raw[f"block.{n}.{key}.w"], raw[f"block.{n}.{key}.b"])
            blocks.append(block)
        weights = cls(
            labels=list(meta.pop("labels")),
            frozen_layers=int(meta.pop("frozen_layers")),
            blocks=blocks,
            head_w=raw["head.w"],
            head_b=raw["head.b"],
            pattern_emb=raw["patterns"],
        )
        patterns = TokenPatterns(meta.pop("patterns"), bool(meta.pop("case_sensitive")))
        weights.meta = meta
        return weights, patterns


class MiniLMTagger:
    """Predicts one label (and its probability) per token; numpy only."""

    def __init__(
        self, encoder: MiniLMEncoder, weights: TaggerWeights, patterns: TokenPatterns
    ) -> None:
        """Bottom layers come from the shared encoder, the top ones from `weights`."""
        if weights.frozen_layers + len(weights.blocks) != encoder.layers:
            raise ValueError(
                f"tagger has {weights.frozen_layers} frozen + {len(weights.blocks)} trained "
                f"layers but the encoder has {encoder.layers}: it was trained on another model"
            )
        self.encoder = encoder
        self.weights = weights
        self.patterns = patterns
        self._blocks = encoder.blocks[: weights.frozen_layers] + weights.blocks
        encoder.prepare(weights.blocks)  # the session parsing uses, built at load

    def predict(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[Span]],
        batch_size: int = 32,
        shared: Sequence[LayerStates | None] | None = None,
    ) -> list[list[tuple[str, float]]]:
        """Per text, per token: (label, probability). Tokens without a word piece get "O"."""
        out = []
        for probs in self.predict_proba(texts, spans, batch_size, shared):
            best = probs.argmax(axis=1)
            out.append([(self.weights.labels[b], float(probs[t, b])) for t, b in enumerate(best)])
        return out

    def predict_proba(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[Span]],
        batch_size: int = 32,
        shared: Sequence[LayerStates | None] | None = None,
    ) -> list[np.ndarray]:
        """Per text: label probabilities [tokens, labels] (columns in `weights.labels` order).

        `shared[i]`, when given, holds the featurizer's states of text i for every layer: the
        frozen lower layers are then taken from it and only the fine-tuned ones are run.
        """
        out: list[np.ndarray] = [np.zeros((0, len(self.weights.labels)))] * len(texts)
        rest = []
        for i, text in enumerate(texts):
            share = shared[i] if shared else None
            states = self._from_shared(share)
            if share is None or states is None:
                rest.append(i)
            else:
                out[i] = self._token_probs(text, spans[i], share.pieces, states)
        pieces = [self.encoder.pieces(texts[i]) for i in rest]
        for chunk, ids, mask in self.encoder.padded_batches(pieces, batch_size):
            states = self.encoder.run_blocks(self.encoder.embed(ids), mask, self._blocks)
            for row, j in enumerate(chunk):
                i = rest[j]
                out[i] = self._token_probs(texts[i], spans[i], pieces[j], states[row])
        return out

    def _from_shared(self, shared: LayerStates | None) -> np.ndarray | None:
        """Top states from the featurizer's lower-layer states, if they came from our encoder."""
        if shared is None or shared.model != self.encoder.path:
            return None
        start = shared.layers[self.weights.frozen_layers][None]
        mask = np.ones(start.shape[:2], dtype=np.float32)
        return self.encoder.run_blocks(start, mask, self.weights.blocks)[0]

    def _token_probs(
        self, text: str, spans: Sequence[Span], pieces: Sequence[Piece], states: np.ndarray
    ) -> np.ndarray:
        probs = np.zeros((len(spans), len(self.weights.labels)), dtype=np.float32)
        probs[:, 0] = 1.0  # "O" for tokens no word piece covers
        if not spans:
            return probs
        firsts = np.array(first_pieces(spans, pieces))
        features = states[np.maximum(firsts, 0) + 1]
        if len(self.patterns):
            features = features + self.patterns.flags(text, spans) @ self.weights.pattern_emb
        logits = features @ self.weights.head_w + self.weights.head_b
        logits -= logits.max(axis=1, keepdims=True)
        covered = firsts >= 0
        exp = np.exp(logits[covered])
        probs[covered] = exp / exp.sum(axis=1, keepdims=True)
        return probs


def bio_spans(labels: Sequence[tuple[str, float]]) -> list[tuple[int, int, str, float]]:
    """Entities (first token, last token, type, mean probability) from per-token BIO labels.

    An I- tag that does not continue an entity of its type starts one (the model's slip, not a
    reason to lose the mention).
    """
    found: list[tuple[int, int, str, float]] = []
    current: list[Any] | None = None
    for t, (label, prob) in enumerate(labels):
        kind, _, name = label.partition("-")
        if label == OUTSIDE or not name:
            current = None
            continue
        if kind == "I" and current is not None and current[2] == name:
            current[1] = t
            current[3].append(prob)
            continue
        current = [t, t, name, [prob]]
        found.append(current)  # type: ignore[arg-type]
    return [(s, e, name, float(np.mean(probs))) for s, e, name, probs in found]


def train_tagger(
    encoder: MiniLMEncoder,
    data: Sequence[TaggedText],
    patterns: TokenPatterns,
    config: TrainConfig,
    show_progress: bool = True,
) -> TaggerWeights:
    """Fine-tune the top `encoder.layers - frozen_layers` blocks and a classifier on `data`."""
    labels = [OUTSIDE, *sorted({lab for ex in data for lab in ex.labels} - {OUTSIDE})]
    if not 0 <= config.frozen_layers < encoder.layers:
        raise ValueError(f"frozen_layers must be 0..{encoder.layers - 1}")
    started = time.perf_counter()
    batches = _Prepared(encoder, data, patterns, labels, config.frozen_layers)
    trainer = _TFTrainer(encoder, len(patterns), len(labels), config)
    steps = config.epochs * batches.batches_per_epoch(config.batch_size)
    trainer.schedule(steps)
    rng = np.random.default_rng(config.seed)
    step = 0
    with tqdm(total=steps, desc="MiniLM entity tagger", disable=not show_progress) as bar:
        for epoch in range(config.epochs):
            losses = []
            for batch in batches.epoch(config.batch_size, rng):
                losses.append(trainer.step(*batch))
                step += 1
                bar.update()
            bar.set_postfix(epoch=epoch + 1, loss=f"{np.mean(losses):.4f}")
    blocks, head = trainer.export()
    meta = {
        "train_seconds": round(time.perf_counter() - started, 1),
        "steps": step,
        "examples": len(data),
        "config": config.__dict__,
    }
    return TaggerWeights(labels, config.frozen_layers, blocks, *head, meta=meta)


class _Prepared:
    """Training examples with the frozen layers' output computed once, batched by length."""

    def __init__(
        self,
        encoder: MiniLMEncoder,
        data: Sequence[TaggedText],
        patterns: TokenPatterns,
        labels: list[str],
        frozen: int,
    ) -> None:
        index = {label: i for i, label in enumerate(labels)}
        pieces = [encoder.pieces(ex.text) for ex in data]
        self.states: list[np.ndarray] = [np.zeros(0)] * len(data)
        for chunk, ids, mask in encoder.padded_batches(pieces, 64):
            x = encoder.run_blocks(encoder.embed(ids), mask, encoder.blocks[:frozen])
            for row, i in enumerate(chunk):
                self.states[i] = x[row, : len(pieces[i]) + 2].copy()
        self.hidden = encoder.hidden
        self.n_patterns = len(patterns)
        self.targets: list[np.ndarray] = []
        self.flags: list[np.ndarray] = []
        for ex, ps, st in zip(data, pieces, self.states, strict=True):
            target = np.full(len(st), -1, dtype=np.int32)
            flags = np.zeros((len(st), len(patterns)), dtype=np.float32)
            token_flags = patterns.flags(ex.text, ex.spans)
            for t, p in enumerate(first_pieces(ex.spans, ps)):
                if p >= 0 and target[p + 1] < 0:
                    target[p + 1] = index[ex.labels[t]]
                    flags[p + 1] = token_flags[t]
            self.targets.append(target)
            self.flags.append(flags)

    def batches_per_epoch(self, size: int) -> int:
        return -(-len(self.states) // size)

    def epoch(
        self, size: int, rng: np.random.Generator
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """Shuffled batches of similar length: (states, mask, flags, targets), zero-padded."""
        lengths = np.array([len(s) for s in self.states]) + rng.uniform(0, 2, len(self.states))
        order = np.argsort(lengths)
        chunks = [order[i : i + size] for i in range(0, len(order), size)]
        for c in rng.permutation(len(chunks)):
            chunk = chunks[c]
            length = max(len(self.states[i]) for i in chunk)
            x = np.zeros((len(chunk), length, self.hidden), dtype=np.float32)
            mask = np.zeros((len(chunk), length), dtype=np.float32)
            flags = np.zeros((len(chunk), length, self.n_patterns), dtype=np.float32)
            targets = np.full((len(chunk), length), -1, dtype=np.int32)
            for row, i in enumerate(chunk):
                n = len(self.states[i])
                x[row, :n], mask[row, :n] = self.states[i], 1.0
                flags[row, :n], targets[row, :n] = self.flags[i], self.targets[i]
            yield x, mask, flags, targets


class _TFTrainer:
    """The trainable top of the encoder and the classifier, as TensorFlow variables."""

    def __init__(
        self, encoder: MiniLMEncoder, n_patterns: int, n_labels: int, config: TrainConfig
    ) -> None:
        import tensorflow as tf  # only for training; parsing is numpy

        self.tf = tf
        tf.random.set_seed(config.seed)
        self.config = config
        self.heads, self.eps = encoder.heads, encoder.eps
        self.blocks = [
            {
                **{k: tf.Variable(b[k]) for k in _BLOCK_KEYS},
                **{k: (tf.Variable(b[k][0]), tf.Variable(b[k][1])) for k in _NORM_KEYS},
            }
            for b in encoder.blocks[config.frozen_layers :]
        ]
        rng = np.random.default_rng(config.seed)
        self.head_w = tf.Variable(
            rng.normal(0, 0.02, (encoder.hidden, n_labels)).astype(np.float32)
        )
        self.head_b = tf.Variable(np.zeros(n_labels, dtype=np.float32))
        # A learned vector per pattern, added to the state of the tokens it matches (like BERT's
        # segment embeddings): a single 0/1 input column would need a weight far larger than Adam
        # moves it in a few hundred steps, so the flags would be ignored.
        self.pattern_emb = tf.Variable(np.zeros((n_patterns, encoder.hidden), dtype=np.float32))
        self.encoder_vars = [v for b in self.blocks for v in _flat(b)]
        self.head_vars = [self.head_w, self.head_b, self.pattern_emb]
        self._step = tf.function(
            self._train_step,
            input_signature=[
                tf.TensorSpec([None, None, encoder.hidden], tf.float32),
                tf.TensorSpec([None, None], tf.float32),
                tf.TensorSpec([None, None, n_patterns], tf.float32),
                tf.TensorSpec([None, None], tf.int32),
            ],
        )

    def schedule(self, total_steps: int) -> None:
        """Adam for each group, linear warm-up then linear decay to zero over `total_steps`."""
        tf = self.tf
        warmup = max(1, int(total_steps * self.config.warmup_fraction))

        def lr(peak: float) -> Callable[[], Any]:
            return tf.keras.optimizers.schedules.PolynomialDecay(
                peak, max(1, total_steps - warmup), end_learning_rate=0.0
            )

        self._warmup = warmup
        self.optimizers = [
            (
                tf.keras.optimizers.Adam(_Warmup(lr(self.config.learning_rate), warmup, tf)),
                self.encoder_vars,
            ),
            (
                tf.keras.optimizers.Adam(_Warmup(lr(self.config.head_learning_rate), warmup, tf)),
                self.head_vars,
            ),
        ]
        for optimizer, variables in self.optimizers:
            optimizer.build(variables)

    def step(
        self, x: np.ndarray, mask: np.ndarray, flags: np.ndarray, targets: np.ndarray
    ) -> float:
        return float(self._step(x, mask, flags, targets))

    def _train_step(self, x: Any, mask: Any, flags: Any, targets: Any) -> Any:
        tf = self.tf
        with tf.GradientTape() as tape:
            logits = self._logits(x, mask, flags, training=True)
            keep = tf.cast(targets >= 0, tf.float32)
            loss = tf.nn.sparse_softmax_cross_entropy_with_logits(tf.maximum(targets, 0), logits)
            loss = tf.reduce_sum(loss * keep) / tf.maximum(tf.reduce_sum(keep), 1.0)
        variables = self.encoder_vars + self.head_vars
        grads, _ = tf.clip_by_global_norm(tape.gradient(loss, variables), 1.0)
        n = len(self.encoder_vars)
        # AutoGraph's zip takes no `strict`; the lengths match by construction.
        self.optimizers[0][0].apply_gradients(zip(grads[:n], self.encoder_vars))  # noqa: B905
        self.optimizers[1][0].apply_gradients(zip(grads[n:], self.head_vars))  # noqa: B905
        return loss

    def _logits(self, x: Any, mask: Any, flags: Any, training: bool) -> Any:
        tf = self.tf
        rate = self.config.dropout if training else 0.0
        bias = (1.0 - mask[:, None, None, :]) * -1e9
        for block in self.blocks:
            x = self._block(x, bias, block, rate)
        x = tf.nn.dropout(x, rate) if rate else x
        x += tf.einsum("blp,ph->blh", flags, self.pattern_emb)
        return tf.einsum("blh,hc->blc", x, self.head_w) + self.head_b

    def _block(self, x: Any, bias: Any, b: dict[str, Any], rate: float) -> Any:
        """One BERT layer, as `MiniLMEncoder.run_blocks` computes it, with BERT's dropouts."""
        tf = self.tf
        batch, length, hidden = tf.shape(x)[0], tf.shape(x)[1], x.shape[-1]
        head_dim = hidden // self.heads
        drop = (lambda t: tf.nn.dropout(t, rate)) if rate else (lambda t: t)
        qkv = tf.reshape(
            tf.einsum("blh,hk->blk", x, b["qkv_w"]) + b["qkv_b"],
            [batch, length, 3, self.heads, head_dim],
        )
        q, k, v = tf.unstack(tf.transpose(qkv, [2, 0, 3, 1, 4]))
        scores = tf.matmul(q, k, transpose_b=True) / float(np.sqrt(head_dim)) + bias
        context = tf.matmul(drop(tf.nn.softmax(scores, axis=-1)), v)
        context = tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [batch, length, hidden])
        x = self._norm(
            drop(tf.einsum("blh,hk->blk", context, b["out_w"]) + b["out_b"]) + x, b["ln1"]
        )
        inner = tf.nn.gelu(tf.einsum("blh,hk->blk", x, b["in_w"]) + b["in_b"], approximate=False)
        return self._norm(
            drop(tf.einsum("blk,kh->blh", inner, b["ff_w"]) + b["ff_b"]) + x, b["ln2"]
        )

    def _norm(self, x: Any, params: tuple[Any, Any]) -> Any:
        mean, var = self.tf.nn.moments(x, axes=[-1], keepdims=True)
        return (x - mean) * self.tf.math.rsqrt(var + self.eps) * params[0] + params[1]

    def export(self) -> tuple[list[dict[str, Any]], tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """The trained weights as numpy, in `MiniLMEncoder` block layout."""
        blocks = [
            {
                **{k: b[k].numpy() for k in _BLOCK_KEYS},
                **{k: (b[k][0].numpy(), b[k][1].numpy()) for k in _NORM_KEYS},
            }
            for b in self.blocks
        ]
        return blocks, (self.head_w.numpy(), self.head_b.numpy(), self.pattern_emb.numpy())


def _flat(block: dict[str, Any]) -> list[Any]:
    return [block[k] for k in _BLOCK_KEYS] + [v for k in _NORM_KEYS for v in block[k]]


class _Warmup:
    """Linear warm-up to `after(0)`, then `after(step - warmup)`; a Keras learning-rate schedule."""

    def __new__(cls, after: Any, warmup: int, tf: Any) -> Any:
        class Schedule(tf.keras.optimizers.schedules.LearningRateSchedule):
            def __call__(self, step: Any) -> Any:
                step = tf.cast(step, tf.float32)
                return tf.where(
                    step < warmup,
                    after(0) * (step + 1.0) / float(warmup),
                    after(tf.maximum(step - warmup, 0.0)),
                )

            def get_config(self) -> dict[str, Any]:
                return {"warmup": warmup}

        return Schedule()

"""The intent-features comparison (bench/intent_features_cv.py) runs and scores what it should."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "intent_features_cv.py"
spec = importlib.util.spec_from_file_location("intent_features_cv", SCRIPT)
assert spec is not None and spec.loader is not None
cv = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cv)


def test_char_features_separate_what_a_useless_dense_vector_cannot() -> None:
    """Same constant 'MiniLM' vector for every text: only the n-grams can tell intents apart."""
    texts = [f"hello number {i}" for i in range(10)] + [f"goodbye now {i}" for i in range(10)]
    labels = np.array(["greet"] * 10 + ["goodbye"] * 10)
    dense = np.ones((len(texts), 3))
    builds = cv.variants(texts, dense)
    alone = cv.cross_validate(builds["minilm"], labels)
    with_chars = cv.cross_validate(builds["minilm + char 2-5, 5,000 (shipped)"], labels)
    assert len(alone) == len(with_chars) == len(cv.SEEDS)
    assert max(alone) < 0.7  # a constant vector cannot separate two classes
    assert min(with_chars) == 1.0

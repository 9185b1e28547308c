"""Which sentence features the intent SVM gets: MiniLM alone or with character n-grams.

Why this exists: short social turns ("helo", "thnks", "cya") were the weakest intents in the
5-fold CV of our data, and the CV's own fold shuffling moved intent macro-F1 by ~0.005 between
runs, around the 0.93 target. This compares feature sets on the same seeded folds (3 seeds x 5
folds) with the classifier the pipeline uses (linear SVM, C 10, balanced class weights), outside
Rasa so each variant costs seconds to minutes instead of a full `rasa test nlu`.

Run from the repository root (Rasa's environment has every library it needs)::

    PYTHONPATH=. .venv-rasa/bin/python bench/intent_features_cv.py \
        [--out bench/results/intent_features_cv.json]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "nlu" / "data" / "nlu"
SEEDS = (0, 1, 2)

Split = tuple[np.ndarray, np.ndarray]


def char_tfidf(texts: Sequence[str], train: np.ndarray, test: np.ndarray, **kw: Any) -> Split:
    """The CharNgramFeaturizer's vectors (fitted on the training fold only)."""
    from nlu.components.char_ngram_featurizer import CharNgramFeaturizer, NgramVectorizer

    config = {**CharNgramFeaturizer.get_default_config(), **kw}
    vectorizer = NgramVectorizer.fit([texts[i] for i in train], config)
    weight = config["weight"]
    return tuple(  # type: ignore[return-value]
        np.stack([vectorizer.transform(texts[i]) for i in rows]) * weight for rows in (train, test)
    )


def variants(texts: Sequence[str], minilm: np.ndarray) -> dict[str, Callable[..., Split]]:
    """Feature builders per variant: (train rows, test rows) -> (train X, test X)."""

    def with_chars(**kw: Any) -> Callable[..., Split]:
        def build(train: np.ndarray, test: np.ndarray) -> Split:
            chars = char_tfidf(texts, train, test, **kw)
            return np.hstack([minilm[train], chars[0]]), np.hstack([minilm[test], chars[1]])

        return build

    return {
        "minilm": lambda train, test: (minilm[train], minilm[test]),
        "minilm + char 2-5, 5,000 (shipped)": with_chars(),
        "minilm + char 2-5, 2,000": with_chars(max_features=2000),
        "minilm + char 2-4, 5,000": with_chars(max_n=4),
        "minilm + char 2-5, 5,000, weight 0.7": with_chars(weight=0.7),
        "minilm + char 2-5, 5,000, weight 1.5": with_chars(weight=1.5),
    }


def cross_validate(build: Callable[..., Split], labels: np.ndarray) -> list[float]:
    """Macro-F1 of a linear SVM per seed, predictions pooled over 5 stratified folds."""
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold
    from sklearn.svm import SVC

    scores = []
    for seed in SEEDS:
        predicted = np.empty(len(labels), dtype=object)
        folds = StratifiedKFold(5, shuffle=True, random_state=seed)
        for train, test in folds.split(np.zeros(len(labels)), labels):
            x_train, x_test = build(train, test)
            svm = SVC(C=10, kernel="linear", class_weight="balanced").fit(x_train, labels[train])
            predicted[test] = svm.predict(x_test)
        scores.append(float(f1_score(labels, predicted, average="macro")))
    return scores


def main(argv: Sequence[str] | None = None) -> int:
    """Load the data, encode it once, cross-validate every variant, write JSON and a table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "bench/results/intent_features_cv.json")
    args = parser.parse_args(argv)

    from rasa.shared.nlu.training_data.loading import load_data

    from nlu.components.minilm_encoder import load_encoder

    examples = load_data(str(DATA)).intent_examples
    texts = [m.get("text") for m in examples]
    labels = np.array([m.get("intent") for m in examples])
    minilm = load_encoder().encode(texts)
    results: dict[str, Any] = {"data": str(DATA.relative_to(REPO)), "examples": len(texts)}
    results["variants"] = {}
    for name, build in tqdm(variants(texts, minilm).items(), desc="variants"):
        started = time.monotonic()
        scores = cross_validate(build, labels)
        results["variants"][name] = {
            "macro_f1_mean": round(float(np.mean(scores)), 4),
            "macro_f1_per_seed": [round(s, 4) for s in scores],
            "seconds": round(time.monotonic() - started, 1),
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print("| features | intent macro-F1 (mean of 3 seeds) | per seed |\n|---|---:|---|")
    for name, row in results["variants"].items():
        print(f"| {name} | {row['macro_f1_mean']:.4f} | {row['macro_f1_per_seed']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

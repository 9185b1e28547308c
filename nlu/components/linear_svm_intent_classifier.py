"""Rasa's `SklearnIntentClassifier`, with its linear-kernel probabilities computed in one matmul.

Why: scikit-learn's `SVC.predict_proba` asks libsvm for a kernel value against every support
vector, which for a linear kernel is a dot product per support vector: with MiniLM's 384 dimensions
and the 5,000 character n-grams beside them, ~8 ms of the Rasa server's single thread per message
(bench/RESULTS.md). A linear SVM's one-vs-one decision values are one matmul with its `coef_`
(~0.1 ms); the probabilities then follow libsvm exactly: Platt's sigmoid per pair of classes,
clipped to [1e-7, 1 - 1e-7], coupled into one distribution by Wu, Lin and Weng's method 2, as in
libsvm's `svm_predict_probability` (tested against libsvm to 1e-9). Training and the saved files
are Rasa's, unchanged; other kernels and two-intent models keep scikit-learn's path.

Usage in config.yml (same settings as `SklearnIntentClassifier`)::

    - name: nlu.components.linear_svm_intent_classifier.LinearSVMIntentClassifier
      C: [10]
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.sklearn_intent_classifier import SklearnIntentClassifier

MIN_PROB = 1e-7  # libsvm's clip of pairwise probabilities


def _sigmoid(decision: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """libsvm's `sigmoid_predict`: P(first class of the pair), without overflow either way."""
    f = decision * a + b
    out = np.empty_like(f)
    pos = f >= 0
    out[pos] = np.exp(-f[pos]) / (1.0 + np.exp(-f[pos]))
    out[~pos] = 1.0 / (1.0 + np.exp(f[~pos]))
    return out


def couple(r: np.ndarray) -> np.ndarray:
    """libsvm's `multiclass_probability`: class probabilities from pairwise ones r[i, j].

    Written as libsvm's loop (Gauss-Seidel updates in class order) so the numbers match it.
    """
    k = r.shape[0]
    q = -r.T * r  # Q[t, j] = -r[j, t] * r[t, j] off the diagonal
    np.fill_diagonal(q, (r * r).sum(axis=0) - np.diag(r) ** 2)
    p = np.full(k, 1.0 / k)
    eps = 0.005 / k
    for _ in range(max(100, k)):
        qp = q @ p
        pqp = float(p @ qp)
        if np.abs(qp - pqp).max() < eps:
            break
        for t in range(k):
            diff = (pqp - qp[t]) / q[t, t]
            p[t] += diff
            pqp = (pqp + diff * (diff * q[t, t] + 2 * qp[t])) / (1 + diff) / (1 + diff)
            qp = (qp + diff * q[t]) / (1 + diff)
            p /= 1 + diff
    return p


class LinearProbabilities:
    """What a fitted multi-class linear `SVC` needs to give its `predict_proba` without libsvm."""

    def __init__(self, svc: Any) -> None:
        self.coef = np.asarray(svc.coef_, dtype=np.float64)  # [pairs, features], libsvm order
        self.intercept = np.asarray(svc.intercept_, dtype=np.float64)
        self.prob_a = np.asarray(svc.probA_, dtype=np.float64)
        self.prob_b = np.asarray(svc.probB_, dtype=np.float64)
        self.classes = len(svc.classes_)
        self.pairs = np.array(
            [(i, j) for i in range(self.classes) for j in range(i + 1, self.classes)]
        )

    @staticmethod
    def supports(svc: Any) -> bool:
        """Linear kernel, probability estimates and 3 or more classes (binary SVC flips signs)."""
        return (
            getattr(svc, "kernel", None) == "linear"
            and getattr(svc, "probability", False)
            and len(getattr(svc, "classes_", ())) > 2
        )

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Probabilities [n, classes], columns in `classes_` order."""
        decisions = np.asarray(x, dtype=np.float64) @ self.coef.T + self.intercept
        out = np.empty((len(decisions), self.classes))
        for row, decision in enumerate(decisions):
            first = np.clip(_sigmoid(decision, self.prob_a, self.prob_b), MIN_PROB, 1 - MIN_PROB)
            r = np.zeros((self.classes, self.classes))
            r[self.pairs[:, 0], self.pairs[:, 1]] = first
            r[self.pairs[:, 1], self.pairs[:, 0]] = 1 - first
            out[row] = couple(r)
        return out


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class LinearSVMIntentClassifier(SklearnIntentClassifier):
    """`SklearnIntentClassifier` whose linear SVM predicts without libsvm (same probabilities)."""

    _fast: LinearProbabilities | None = None
    _fast_for: Any = None

    def predict_prob(self, X: np.ndarray) -> np.ndarray:
        """Rasa's method: probabilities per intent; the matmul path for a linear SVC."""
        svc = getattr(self.clf, "best_estimator_", self.clf)
        if self.clf is None or not LinearProbabilities.supports(svc):
            return super().predict_prob(X)
        if self._fast_for is not svc:  # trained or loaded since the last call
            self._fast, self._fast_for = LinearProbabilities(svc), svc
        assert self._fast is not None
        return self._fast.predict_proba(X)

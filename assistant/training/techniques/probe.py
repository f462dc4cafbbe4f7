"""probe: a logistic regression (scikit-learn) on the frozen encoder's embeddings. Serving needs
only its weights: softmax(embeddings @ W.T + b)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file, save_file

from assistant.training.techniques import Fitted, Job, Scores
from assistant.training.techniques.base import FrozenEncoded, embedded, softmax

WEIGHTS = "probe.safetensors"
MAX_ITERATIONS = 2000


def logistic_regression(
    features: Any, targets: Sequence[str], labels: Sequence[str], c: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Weights (labels, features) and biases of a multinomial logistic regression; a label without
    training examples never wins (its bias is far below the others)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=MAX_ITERATIONS, random_state=seed)
    model.fit(features, list(targets))
    classes = [str(c) for c in model.classes_]
    coefficients, intercepts = model.coef_, model.intercept_
    if len(classes) == 2:  # scikit-learn keeps one row for two classes: the second's log-odds
        coefficients = np.vstack([-coefficients / 2, coefficients / 2])
        intercepts = np.array([-intercepts[0] / 2, intercepts[0] / 2])
    weights = np.zeros((len(labels), coefficients.shape[1]), dtype=np.float32)
    biases = np.full(len(labels), -1e4, dtype=np.float32)
    for row, label in enumerate(classes):
        weights[labels.index(label)] = coefficients[row]
        biases[labels.index(label)] = intercepts[row]
    return weights, biases


class Probe(FrozenEncoded):
    def __init__(self, manifest: dict[str, Any], weights: np.ndarray, biases: np.ndarray) -> None:
        super().__init__(manifest)
        self.weights, self.biases = weights, biases

    def scores(self, texts: Sequence[str]) -> Scores:
        embeddings = self.embed(texts)
        return Scores(softmax(embeddings @ self.weights.T + self.biases), embeddings, self.labels)


def fit(job: Job) -> Fitted:
    labels, base, train = list(job.spec.labels), job.config.base_model, job.splits.train
    vectors = embedded(base, [e.text for e in train], job.on_progress)
    weights, biases = logistic_regression(
        vectors, [e.label for e in train], labels, job.config.regularization, job.config.seed
    )
    save_file({"weights": weights, "biases": biases}, str(job.folder / WEIGHTS))
    predictor = Probe({"labels": labels, "base_model": base}, weights, biases)
    return Fitted(predictor, {})


def load(folder: Path, manifest: dict[str, Any], *, quantized: bool = False) -> Probe:
    stored = load_file(str(folder / WEIGHTS))
    return Probe(manifest, stored["weights"], stored["biases"])

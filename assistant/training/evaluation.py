"""Metrics of a classifier on held-out examples, its calibration and its abstain threshold."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np


def classification_metrics(
    labels: Sequence[str], truth: Sequence[int], probabilities: np.ndarray, *, calibration_bins: int = 15
) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class precision/recall/F1, confusion matrix and expected calibration error.

    `truth` holds label indices; `probabilities` has one row per example, one column per label.
    An all-zero row is no answer: wrong for accuracy and recall, in no column of the confusion
    matrix (which then counts it in `unanswered`).
    """
    truth_array = np.asarray(truth)
    predicted = probabilities.argmax(axis=1)
    answered = probabilities.max(axis=1) > 0
    size = len(labels)
    confusion = np.zeros((size, size), dtype=np.int64)
    np.add.at(confusion, (truth_array[answered], predicted[answered]), 1)
    hits = np.diag(confusion).astype(float)
    predicted_counts = confusion.sum(axis=0)
    true_counts = np.bincount(truth_array, minlength=size)[:size]
    precision = np.divide(hits, predicted_counts, out=np.zeros(size), where=predicted_counts > 0)
    recall = np.divide(hits, true_counts, out=np.zeros(size), where=true_counts > 0)
    f1 = np.divide(
        2 * precision * recall, precision + recall, out=np.zeros(size), where=(precision + recall) > 0
    )
    present = true_counts > 0
    return {
        "examples": len(truth_array),
        "accuracy": round(float(hits.sum() / max(len(truth_array), 1)), 4),
        "macro_f1": round(float(f1[present].mean()) if present.any() else 0.0, 4),
        "ece": round(expected_calibration_error(truth_array, probabilities, bins=calibration_bins), 4),
        "per_class": {
            label: {
                "precision": round(float(precision[i]), 4),
                "recall": round(float(recall[i]), 4),
                "f1": round(float(f1[i]), 4),
                "support": int(true_counts[i]),
            }
            for i, label in enumerate(labels)
        },
        "confusion_matrix": confusion.tolist(),
        "unanswered": int((~answered).sum()),
    }


def right(truth: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Which predictions are right: the likeliest label is the true one, and there was an answer."""
    return np.asarray((probabilities.argmax(axis=1) == truth) & (probabilities.max(axis=1) > 0))


def log_odds(probability: float, *, clip: float = 6.0) -> float:
    """log(p / (1 - p)), within ±clip: a model probability as a feature for a linear combination,
    without the infinities of a probability of exactly 0 or 1."""
    p = min(max(probability, 1e-9), 1 - 1e-9)
    return max(-clip, min(clip, math.log(p / (1 - p))))


def expected_calibration_error(truth: np.ndarray, probabilities: np.ndarray, *, bins: int = 15) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by their sizes."""
    confidence = probabilities.max(axis=1)
    correct = right(truth, probabilities)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            error += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(error)


def abstain_threshold(
    truth: Sequence[int], probabilities: np.ndarray, *, precision: float
) -> dict[str, float]:
    """The lowest confidence threshold at which the predictions kept reach `precision`.

    Predictions are kept from the most confident down; the threshold is the confidence of the
    last one in the longest run that stays at or above the wanted precision. When even the
    most confident prediction is not precise enough, the model abstains from everything
    (threshold above 1).
    """
    truth_array = np.asarray(truth)
    confidence = probabilities.max(axis=1)
    order = np.argsort(-confidence, kind="stable")
    correct = right(truth_array, probabilities)[order]
    kept_precision = np.cumsum(correct) / np.arange(1, len(correct) + 1)
    good = np.flatnonzero(kept_precision >= precision)
    if not len(good):
        return {"threshold": 1.000001, "coverage": 0.0, "precision": 0.0}
    last = int(good[-1])
    return {
        "threshold": round(float(confidence[order][last]), 6),
        "coverage": round((last + 1) / len(correct), 4),
        "precision": round(float(kept_precision[last]), 4),
    }


def abstain_effect(truth: Sequence[int], probabilities: np.ndarray, threshold: float) -> dict[str, float]:
    """Coverage and accuracy of the kept predictions at a threshold, on other examples."""
    truth_array = np.asarray(truth)
    kept = probabilities.max(axis=1) >= threshold
    correct = right(truth_array, probabilities)
    return {
        "coverage": round(float(kept.mean()), 4),
        "accuracy_kept": round(float(correct[kept].mean()) if kept.any() else 0.0, 4),
    }

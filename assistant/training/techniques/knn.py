"""knn: retrieval with no training. The training examples are embedded into pgvector; a text gets
the label of a similarity-weighted vote of its k nearest examples. k and the weighting are chosen
on the validation split (macro-F1). Examples added to the index later vote at once."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assistant.training.evaluation import classification_metrics
from assistant.training.techniques import Fitted, Job, Scores
from assistant.training.techniques.base import Retrieving, embedded, label_indices, training_indexed
from assistant.training.techniques.examples import Neighbours, index_bytes, nearest

KS = (1, 3, 5, 10, 20, 50)
SOFTMAX_TEMPERATURE = 0.05  # similarities differ by hundredths between near neighbours


def vote(neighbours: Neighbours, labels: Sequence[str], *, k: int, weighting: str) -> np.ndarray:
    """Each label's share of the k nearest examples' weights."""
    index = {label: i for i, label in enumerate(labels)}
    probabilities = np.zeros((len(neighbours.labels), len(labels)), dtype=np.float32)
    for row, (names, similarities) in enumerate(zip(neighbours.labels, neighbours.similarities, strict=True)):
        near = np.array(similarities[:k], dtype=np.float64)
        if weighting == "uniform":
            weights = np.ones_like(near)
        elif weighting == "similarity":
            weights = np.clip(near, 1e-6, None)
        else:
            weights = np.exp((near - near.max(initial=0.0)) / SOFTMAX_TEMPERATURE)
        for name, weight in zip(names[:k], weights, strict=False):
            probabilities[row, index[name]] += weight
        total = probabilities[row].sum()
        if total > 0:
            probabilities[row] /= total
    return probabilities


class Knn(Retrieving):
    def __init__(self, manifest: dict[str, Any]) -> None:
        super().__init__(manifest)
        self.k = int(manifest["k"])
        self.weighting = str(manifest["weighting"])

    def scores(self, texts: Sequence[str]) -> Scores:
        labels, embeddings = self.labels, self.embed(texts)
        neighbours = nearest(self.index_id, embeddings, self.k)
        return Scores(vote(neighbours, labels, k=self.k, weighting=self.weighting), embeddings, labels)


def fit(job: Job) -> Fitted:
    labels, base, train = list(job.spec.labels), job.config.base_model, job.splits.train
    index = training_indexed(job)
    validation = job.splits.validation
    validation_vectors = embedded(base, [e.text for e in validation], job.on_progress)
    neighbours = nearest(index.pk, validation_vectors, max(*KS, job.config.knn_k))
    truth = label_indices(labels, [e.label for e in validation]).tolist()
    ks = [job.config.knn_k] if job.config.knn_k else [k for k in KS if k <= len(train)]
    weightings = (
        [job.config.knn_weighting] if job.config.knn_weighting else ["uniform", "similarity", "softmax"]
    )
    tried = {}
    for k, weighting in itertools.product(ks, weightings):
        metrics = classification_metrics(labels, truth, vote(neighbours, labels, k=k, weighting=weighting))
        tried[f"k={k} {weighting}"] = (metrics["macro_f1"], metrics["accuracy"], k, weighting)
    _, _, k, weighting = max(tried.values())
    manifest = {"index": index.pk, "k": k, "weighting": weighting}
    predictor = Knn({"labels": labels, "base_model": base, **manifest})
    return Fitted(
        predictor,
        manifest,
        metrics={"chosen_on_validation": {name: value[0] for name, value in tried.items()}},
        stored_bytes=index_bytes(index.pk),
    )


def load(folder: Path, manifest: dict[str, Any], *, quantized: bool = False) -> Knn:
    return Knn(manifest)

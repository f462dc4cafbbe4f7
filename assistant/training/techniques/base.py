"""What the techniques share: drift projections, softmax, and the frozen encoder's embeddings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from assistant.core.encoder import encoder
from assistant.training.models import ExampleIndex
from assistant.training.techniques import Job, Progress
from assistant.training.techniques.examples import index_create, index_labels

EMBED_REPORTS = 50  # progress reports while the training examples are embedded


class Drifting:
    """Projections of embeddings on the training data's main directions (the drift reference)."""

    def __init__(self, manifest: dict[str, Any]) -> None:
        self.manifest = manifest
        reference = manifest.get("drift_reference") or {}
        self._drift_mean = np.array(reference.get("mean", []))
        self._drift_components = np.array(reference.get("components", []))

    def drift_projections(self, embeddings: np.ndarray) -> np.ndarray:
        return np.asarray((embeddings - self._drift_mean) @ self._drift_components.T)

    def usage(self) -> dict[str, Any]:
        return {}


class FrozenEncoded(Drifting):
    """A predictor on the embeddings of a stock encoder, loaded once per process and shared."""

    def __init__(self, manifest: dict[str, Any]) -> None:
        super().__init__(manifest)
        self._labels: list[str] = list(manifest["labels"])
        self.encoder = encoder(manifest["base_model"])

    @property
    def labels(self) -> list[str]:
        return self._labels

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.encoder.embed(list(texts))


class Retrieving(FrozenEncoded):
    """A predictor that retrieves labelled examples from its index, whose labels can grow."""

    def __init__(self, manifest: dict[str, Any]) -> None:
        super().__init__(manifest)
        self.index_id = int(manifest["index"])

    @property
    def labels(self) -> list[str]:
        return index_labels(self.index_id)  # a person may add one at any time


def training_indexed(job: Job) -> ExampleIndex:
    """The job's training examples, embedded into a new index (what knn and icl retrieve)."""
    base, train = job.config.base_model, job.splits.train
    vectors = embedded(base, [e.text for e in train], job.on_progress)
    return index_create(
        task=job.spec.name, encoder=base, labels=list(job.spec.labels), examples=train, vectors=vectors
    )


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return np.asarray(shifted / shifted.sum(axis=1, keepdims=True), dtype=np.float32)


def embedded(model_name: str, texts: Sequence[str], on_progress: Callable[[Progress], None]) -> np.ndarray:
    """The texts' embeddings, reporting progress as batches are done (the runs' progress bar)."""
    model = encoder(model_name)
    vectors = np.zeros((len(texts), model.dimensions), dtype=np.float32)
    done, reported = 0, 0
    for indices, batch in model.embed_batches(list(texts)):
        vectors[indices] = batch
        done += len(indices)
        if done * EMBED_REPORTS >= (reported + 1) * len(texts):
            reported = done * EMBED_REPORTS // len(texts)
            on_progress(Progress(epoch=1, step=done, total_steps=len(texts), loss=None))
    return vectors


def label_indices(labels: Sequence[str], names: Sequence[str]) -> np.ndarray:
    index = {label: i for i, label in enumerate(labels)}
    return np.array([index[name] for name in names], dtype=np.int64)

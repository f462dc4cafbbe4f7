"""The techniques a task can be served by, behind one interface from fit to prediction.

Fine-tuning (`lora`, `full`, `qlora`) trains the encoder; `zero-shot` embeds the label names,
`knn` votes with the nearest labelled examples in pgvector, `probe` fits a logistic regression on
the frozen encoder's embeddings, `tfidf` on word and character n-grams, and `icl` shows a
generative model the nearest labelled examples and parses its answer. Each module has
`fit(job) -> Fitted` and `load(folder, manifest, quantized=...) -> Predictor`; a version's
manifest names its technique, so `predictor_load` serves any of them the same way.

Technique modules import numpy, torch or scikit-learn: import them where a model is fitted or
served, not at start-up.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

from assistant.training.config import METHODS
from assistant.training.techniques.artefact import artefact_verify

if TYPE_CHECKING:
    import numpy as np

    from assistant.training.config import TrainingConfig
    from assistant.training.data import Splits
    from assistant.training.registry import TaskSpec

MODULES = {
    "zero-shot": "zero_shot",
    "knn": "knn",
    "probe": "probe",
    "tfidf": "tfidf",
    "icl": "icl",
    "lora": "finetune",
    "full": "finetune",
    "qlora": "finetune",
}
assert set(MODULES) == set(METHODS)


@dataclass
class Scores:
    probabilities: np.ndarray  # (texts, labels); an all-zero row: no answer (icl could not parse one)
    embeddings: np.ndarray  # (texts, dimensions): what drift audits project
    labels: list[str]  # the columns' labels, read once with the scores (knn and icl can gain one)


class Predictor(Protocol):
    """A fitted version, loaded: probabilities over its labels, and the embeddings drift audits use."""

    manifest: dict[str, Any]

    @property
    def labels(self) -> list[str]: ...

    def scores(self, texts: Sequence[str]) -> Scores: ...

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """What drift audits compare, without predicting (an icl prediction costs a generation)."""

    def drift_projections(self, embeddings: np.ndarray) -> np.ndarray: ...

    def usage(self) -> dict[str, Any]:
        """What its predictions cost besides time (icl: generations and their tokens), for metrics."""


@dataclass(frozen=True)
class Progress:
    """How far a fit is: `step` of `total_steps` (batches embedded, or optimiser steps)."""

    epoch: int
    step: int
    total_steps: int
    loss: float | None
    history: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Job:
    """What a fit is given: the task, its splits, the validated configuration and its folder
    (made empty for it)."""

    spec: TaskSpec
    splits: Splits
    config: TrainingConfig
    folder: Path
    on_progress: Callable[[Progress], None]
    should_stop: Callable[[], bool]


@dataclass
class Fitted:
    predictor: Predictor
    manifest: dict[str, Any]  # what the technique's `load` reads back, besides labels and threshold
    device: str = "cpu"
    history: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)  # the technique's own, beside the shared ones
    stored_bytes: int = 0  # what it keeps outside its folder (knn and icl: the embedded examples)


@dataclass
class TaskJob:
    """What a task that fits itself (`TaskSpec.fit`: not a classifier) is given: the run's data
    file (None: the task's own data), the validated configuration and its folder (made empty)."""

    task: str
    data_file: Path | None
    config: TrainingConfig
    folder: Path
    on_progress: Callable[[Progress], None]
    should_stop: Callable[[], bool]


@dataclass
class TaskFitted:
    """What such a task's version records: its own manifest entries and metrics (measured on its
    held-out split, beside the active version's on the same split), and the data it was fitted on."""

    manifest: dict[str, Any]
    metrics: dict[str, Any]
    dataset_hash: str
    validation_hash: str
    dataset_sizes: dict[str, int]
    device: str = "cpu"
    history: list[dict[str, Any]] = field(default_factory=list)


def technique(method: str) -> ModuleType:
    return importlib.import_module(f"assistant.training.techniques.{MODULES[method]}")


def predictor_load(folder: Path, *, expected_checksum: str, quantized: bool = False) -> Predictor:
    """The version at `folder`, after checking it is exactly the one registered."""
    manifest = artefact_verify(folder, expected_checksum=expected_checksum)
    loaded: Predictor = technique(manifest["method"]).load(folder, manifest, quantized=quantized)
    return loaded

"""Zero-shot: each label's name (or the one-line description the task gives) is embedded, and the
nearest label wins. No labelled example is used to fit it; the calibration split only sets how
sharp its probabilities are (the softmax scale with the lowest log-loss there)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file, save_file

from assistant.training.techniques import Fitted, Job, Scores
from assistant.training.techniques.base import FrozenEncoded, embedded, label_indices, softmax

VECTORS = "labels.safetensors"
SCALES = (5.0, 10.0, 20.0, 30.0, 50.0, 100.0)


def label_text(label: str, descriptions: dict[str, str]) -> str:
    return descriptions.get(label) or label.rstrip("?").replace("_", " ").replace("-", " ")


class ZeroShot(FrozenEncoded):
    def __init__(self, manifest: dict[str, Any], vectors: np.ndarray) -> None:
        super().__init__(manifest)
        self.vectors = vectors
        self.scale = float(manifest["scale"])

    def scores(self, texts: Sequence[str]) -> Scores:
        embeddings = self.embed(texts)
        return Scores(softmax(self.scale * embeddings @ self.vectors.T), embeddings, self.labels)


def fit(job: Job) -> Fitted:
    labels = list(job.spec.labels)
    base = job.config.base_model
    vectors = embedded(
        base, [label_text(label, job.spec.label_descriptions) for label in labels], job.on_progress
    )
    calibration = job.splits.calibration
    similarities = embedded(base, [e.text for e in calibration], job.on_progress) @ vectors.T
    truth = label_indices(labels, [e.label for e in calibration])
    losses = {
        scale: float(-np.log(softmax(scale * similarities)[np.arange(len(truth)), truth] + 1e-12).mean())
        for scale in SCALES
    }
    scale = min(losses, key=lambda s: losses[s])
    save_file({"labels": vectors}, str(job.folder / VECTORS))
    manifest = {"scale": scale}
    predictor = ZeroShot({"labels": labels, "base_model": base, **manifest}, vectors)
    return Fitted(
        predictor,
        manifest,
        metrics={"calibration_log_loss": {str(s): round(v, 4) for s, v in losses.items()}},
    )


def load(folder: Path, manifest: dict[str, Any], *, quantized: bool = False) -> ZeroShot:
    return ZeroShot(manifest, load_file(str(folder / VECTORS))["labels"])

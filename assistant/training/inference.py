"""Predictions from a task's active model version, loaded once per process and cached by version.

A worker on the `inference` queue (or any process that serves predictions) calls `predict`;
nothing here trains. Each prediction can be recorded (label, confidence and the text's
position on the drift reference components; never the text) for drift audits.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connection, transaction

from assistant.core.errors import ApplicationError
from assistant.training.models import ModelVersion, PredictionRecord
from assistant.training.registry import task_get

CACHED_VERSIONS = 4
MAX_TEXT_CHARS = 10_000
MAX_BATCH = 1024


class NoActiveModel(ApplicationError):
    status = 409


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float
    abstained: bool
    model_version: int
    # The likeliest labels with their probabilities, best first (for "did you mean ...").
    alternatives: tuple[tuple[str, float], ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "confidence": round(self.confidence, 4),
            "abstained": self.abstained,
            "model_version": self.model_version,
            "alternatives": [{"label": label, "confidence": round(p, 4)} for label, p in self.alternatives],
        }


_cache: OrderedDict[int, Any] = OrderedDict()
_lock = threading.Lock()


def classifier_for(version: ModelVersion) -> Any:
    """The version's loaded classifier: checked against its checksum and format on first load."""
    from assistant.training.modeling import Classifier

    with _lock:
        if version.pk in _cache:
            _cache.move_to_end(version.pk)
            return _cache[version.pk]
        classifier = Classifier.load(Path(version.artefact_path), expected_checksum=version.artefact_checksum)
        _cache[version.pk] = classifier
        while len(_cache) > CACHED_VERSIONS:
            _cache.popitem(last=False)
        return classifier


def active_version(task: str) -> ModelVersion:
    task_get(task)
    # Only what serving needs: metrics and the drift reference are large JSON (milliseconds to parse).
    version = (
        ModelVersion.objects.filter(task=task, status=ModelVersion.Status.ACTIVE)
        .only("task", "status", "abstain_threshold", "artefact_path", "artefact_checksum")
        .first()
    )
    if version is None:
        raise NoActiveModel(
            f"task {task!r} has no active model version; train one and activate it", field="task"
        )
    return version


def predict(
    task: str, texts: Sequence[str], *, record: bool = True, alternatives: int = 3
) -> list[Prediction]:
    """Label, confidence, abstain flag and model version for each text, in order."""
    _check(texts)
    version = active_version(task)
    classifier = classifier_for(version)
    scores = classifier.scores(list(texts))
    threshold = version.abstain_threshold
    predictions = []
    for row in scores.probabilities:
        order = row.argsort()[::-1][:alternatives]
        best = int(order[0])
        predictions.append(
            Prediction(
                label=classifier.labels[best],
                confidence=float(row[best]),
                abstained=float(row[best]) < threshold,
                model_version=version.pk,
                alternatives=tuple((classifier.labels[int(i)], float(row[int(i)])) for i in order),
            )
        )
    if record:
        _record(version, predictions, classifier.drift_projections(scores.embeddings))
    return predictions


def _check(texts: Sequence[str]) -> None:
    if isinstance(texts, str) or not texts:
        raise ApplicationError("give one or more texts", field="texts")
    if len(texts) > MAX_BATCH:
        raise ApplicationError(f"at most {MAX_BATCH} texts per call, not {len(texts)}", field="texts")
    for number, text in enumerate(texts, start=1):
        if not isinstance(text, str) or not text.strip():
            raise ApplicationError(f"text {number} is empty or not text", field="texts")
        if len(text) > MAX_TEXT_CHARS:
            raise ApplicationError(f"text {number} is longer than {MAX_TEXT_CHARS} characters", field="texts")


def _record(version: ModelVersion, predictions: list[Prediction], projections: Any) -> None:
    # Telemetry, not a transaction of record: not waiting for the disk costs at worst the last
    # few records on a crash, and saves a flush per prediction.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        PredictionRecord.objects.bulk_create(
            PredictionRecord(
                model_version_id=version.pk,
                label=prediction.label,
                confidence=prediction.confidence,
                abstained=prediction.abstained,
                projection=[round(float(v), 5) for v in projection],
            )
            for prediction, projection in zip(predictions, projections, strict=True)
        )

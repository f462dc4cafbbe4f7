"""Predictions from a task's active model version, loaded once per process and cached by version.

A worker on the `inference` queue (or any process that serves predictions) calls `predict`;
nothing here trains. Each prediction can be recorded (label, confidence and the text's
position on the drift reference components; never the text) for drift audits. Records are
written in batches (of RECORD_BATCH, or on the first prediction RECORD_WAIT_S after the
oldest waiting one, and when the process exits), so one prediction in many pays for the insert.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from assistant.core.errors import ApplicationError
from assistant.training.models import ModelVersion, PredictionRecord, TrainingRun
from assistant.training.registry import task_get

if TYPE_CHECKING:
    from assistant.training.techniques import Predictor

logger = logging.getLogger("finassist.training")

CACHED_VERSIONS = 4
ACTIVE_TTL_S = 2.0
RECORD_BATCH = 100
RECORD_WAIT_S = 2.0
MAX_TEXT_CHARS = 10_000
MAX_BATCH = 1024


class NoActiveModel(ApplicationError):
    status = 409


# A run that will activate its version when it lands: until then the task is "not ready", not "missing".
PENDING = (TrainingRun.Status.QUEUED, TrainingRun.Status.RUNNING)


class ModelNotReady(ApplicationError):
    """The task's first version is being fitted on a worker, or the active version's model is
    there but what serving it needs besides (its task's `prepare`) is still being built: try
    again shortly."""

    status = 503
    retry_after_s = 30


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


_cache: OrderedDict[int, Predictor] = OrderedDict()
_lock = threading.Lock()


def classifier_for(version: ModelVersion) -> Predictor:
    """The version's loaded predictor, whatever its technique: checked against its checksum and
    format on first load."""
    from assistant.training.techniques import predictor_load

    with _lock:
        if version.pk in _cache:
            _cache.move_to_end(version.pk)
            return _cache[version.pk]
        classifier = predictor_load(
            Path(version.artefact_path),
            expected_checksum=version.artefact_checksum,
            quantized=task_get(version.task).quantized,
        )
        _cache[version.pk] = classifier
        while len(_cache) > CACHED_VERSIONS:
            _cache.popitem(last=False)
        return classifier


_active: dict[str, tuple[float, ModelVersion]] = {}


def active_version(task: str) -> ModelVersion:
    """The task's active version, looked up at most every ACTIVE_TTL_S seconds per process.

    An activation or rollback reaches every serving process within that time (at once in the
    process that made it).
    """
    task_get(task)
    cached = _active.get(task)
    if cached is not None and time.monotonic() - cached[0] < ACTIVE_TTL_S:
        return cached[1]
    # Only what serving needs: metrics and the drift reference are large JSON (milliseconds to parse).
    version = (
        ModelVersion.objects.filter(task=task, status=ModelVersion.Status.ACTIVE)
        .only("task", "status", "abstain_threshold", "artefact_path", "artefact_checksum")
        .first()
    )
    if version is None:
        if TrainingRun.objects.filter(
            task=task, activation=TrainingRun.Activation.ALWAYS, status__in=PENDING
        ).exists():
            raise ModelNotReady(f"the first model version of {task!r} is being fitted on a worker")
        raise NoActiveModel(
            f"task {task!r} has no active model version; train one and activate it", field="task"
        )
    _active[task] = (time.monotonic(), version)
    return version


def active_forget(task: str) -> None:
    _active.pop(task, None)


def predict(
    task: str, texts: Sequence[str], *, record: bool = True, alternatives: int = 3
) -> list[Prediction]:
    """Label, confidence, abstain flag and model version for each text, in order."""
    _check(texts)
    version = active_version(task)
    classifier = classifier_for(version)
    scores = classifier.scores(list(texts))
    labels = scores.labels
    threshold = version.abstain_threshold
    predictions = []
    for row in scores.probabilities:
        order = row.argsort()[::-1][:alternatives]
        best = int(order[0])
        confidence = float(row[best])
        predictions.append(
            Prediction(
                label=labels[best],
                confidence=confidence,
                # A technique that gave no answer (icl's reply named no label) always abstains.
                abstained=confidence < threshold or confidence == 0.0,
                model_version=version.pk,
                alternatives=tuple((labels[int(i)], float(row[int(i)])) for i in order),
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


_pending: list[PredictionRecord] = []
RECORD_COPY = (
    f"COPY {PredictionRecord._meta.db_table} "
    "(model_version_id, label, confidence, abstained, projection, created_at) FROM STDIN"
)
_pending_since = 0.0
_pending_lock = threading.Lock()


def _record(version: ModelVersion, predictions: list[Prediction], projections: Any) -> None:
    global _pending_since
    records = [
        PredictionRecord(
            model_version_id=version.pk,
            label=prediction.label,
            confidence=prediction.confidence,
            abstained=prediction.abstained,
            projection=[round(float(v), 5) for v in projection],
        )
        for prediction, projection in zip(predictions, projections, strict=True)
    ]
    with _pending_lock:
        if not _pending:
            _pending_since = time.monotonic()
        _pending.extend(records)
        if len(_pending) < RECORD_BATCH and time.monotonic() - _pending_since < RECORD_WAIT_S:
            return
    records_flush()


def records_flush() -> None:
    """Write the prediction records this process holds (drift audits call it first)."""
    with _pending_lock:
        batch = list(_pending)
        _pending.clear()
    if not batch:
        return
    try:
        # Telemetry, not a transaction of record: not waiting for the disk costs at worst the
        # last records on a crash, and saves a flush per batch.
        # COPY: an insert would quote every projection array on the client, row by row.
        now = timezone.now()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
            with cursor.cursor.copy(RECORD_COPY) as copy:
                for r in batch:
                    copy.write_row(
                        (r.model_version_id, r.label, r.confidence, r.abstained, r.projection, now)
                    )
    except DatabaseError:
        # A version deleted since, or no database at exit: the predictions were served; only
        # their drift records are lost.
        logger.warning("%d prediction record(s) could not be written", len(batch), exc_info=True)


atexit.register(records_flush)

"""Registry rows made directly, for the admin pages: no training, no artefact."""

from datetime import datetime, timedelta

from django.utils import timezone

from assistant.training.models import DriftAudit, ModelVersion, TrainingRun
from tests.support.training import TOPIC_TASK

LABELS = list(TOPIC_TASK.labels)
CONFUSION = [[30, 2, 1], [4, 25, 0], [0, 3, 28]]


def version_create(task: str = TOPIC_TASK.name, **fields: object) -> ModelVersion:
    return ModelVersion.objects.create(
        **{
            "task": task,
            "base_model": "tiny",
            "method": "knn",
            "config": {},
            "labels": LABELS,
            "library_versions": {},
            "dataset_hash": "0" * 64,
            "validation_hash": "1" * 64,
            "metrics": {"accuracy": 0.9, "macro_f1": 0.89, "confusion_matrix": CONFUSION},
            "abstain_threshold": 0.3,
            "drift_reference": {},
            "artefact_path": "/nonexistent",
            "artefact_checksum": "0" * 64,
            "format_version": 1,
            **fields,
        }
    )


def running_run(*, step: int = 30, total_steps: int = 120, seconds_in: float = 60.0) -> TrainingRun:
    """A run `seconds_in` after its start, having reported `step` just now, with a loss history."""
    now = timezone.now()
    history = [
        {"step": 0, "epoch": 0, "validation_accuracy": 0.4, "validation_loss": 1.2},
        *({"step": s, "epoch": 1, "loss": round(1.1 - s / 200, 4)} for s in range(5, step + 1, 5)),
        {"step": step, "epoch": 1, "validation_accuracy": 0.8, "validation_loss": 0.7},
    ]
    return TrainingRun.objects.create(
        task=TOPIC_TASK.name,
        method="lora",
        config={"epochs": 4},
        status=TrainingRun.Status.RUNNING,
        epoch=1,
        step=step,
        total_steps=total_steps,
        loss=history[-2]["loss"],
        history=history,
        started_at=now - timedelta(seconds=seconds_in),
        progressed_at=now,
    )


def audit_create(
    version: ModelVersion, at: datetime, *, label_psi: float | None, embedding_psi: float | None
) -> DriftAudit:
    audit = DriftAudit.objects.create(
        model_version=version,
        window_start=at - timedelta(hours=24),
        window_end=at,
        samples=500 if label_psi is not None else 3,
        label_psi=label_psi,
        embedding_psi=embedding_psi,
        threshold=0.25,
        verdict="stable" if label_psi is not None else "too-little-data",
    )
    DriftAudit.objects.filter(pk=audit.pk).update(created_at=at)
    audit.refresh_from_db()
    return audit

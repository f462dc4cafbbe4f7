"""Reading the registry for the ML engineers' pages: a task's versions and its running run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count

from assistant.core.errors import NotFound
from assistant.training.models import DriftAudit, ModelVersion, TrainingRun


def task_versions(task: str, *, limit: int) -> list[ModelVersion]:
    """The task's latest versions, newest first, with their runs."""
    return list(ModelVersion.objects.filter(task=task).select_related("run")[:limit])


def task_version(task: str, version_id: object) -> ModelVersion | None:
    """One of the task's versions by id (as a form posts it), or None."""
    try:
        return ModelVersion.objects.filter(task=task, pk=int(str(version_id))).first()
    except ValueError:
        return None


def task_running_run(task: str) -> TrainingRun | None:
    return TrainingRun.objects.filter(task=task, status=TrainingRun.Status.RUNNING).first()


def task_rollback_target(task: str) -> ModelVersion | None:
    """The version a rollback of the task returns to: the one active before the active one."""
    active = (
        ModelVersion.objects.filter(task=task, status=ModelVersion.Status.ACTIVE)
        .select_related("previous")
        .first()
    )
    return active.previous if active is not None else None


def task_drift_audits(task: str, *, limit: int) -> list[DriftAudit]:
    """The latest audits of the task's versions, newest first."""
    return list(DriftAudit.objects.filter(model_version__task=task).select_related("model_version")[:limit])


def drift_audits_recent(*, limit: int) -> list[DriftAudit]:
    return list(DriftAudit.objects.select_related("model_version")[:limit])


@dataclass(frozen=True)
class RunTiming:
    """How long a run has taken, and how much longer its steps will take at the pace so far."""

    elapsed: float | None  # seconds since it started, to its end once finished; None while queued
    left: float | None  # None until it has taken a step, and once it stopped running


def run_timing(run: TrainingRun, now: datetime) -> RunTiming:
    if run.started_at is None:
        return RunTiming(None, None)
    elapsed = ((run.finished_at or now) - run.started_at).total_seconds()
    if run.status != TrainingRun.Status.RUNNING or not run.step or run.progressed_at is None:
        return RunTiming(elapsed, None)
    per_step = (run.progressed_at - run.started_at).total_seconds() / run.step
    since_report = (now - run.progressed_at).total_seconds()
    return RunTiming(elapsed, max(0.0, per_step * (run.total_steps - run.step) - since_report))


def version_of(version_id: int) -> ModelVersion:
    version = ModelVersion.objects.filter(pk=version_id).first()
    if version is None:
        raise NotFound(f"no model version {version_id}", field="version")
    return version


def task_active_version(task: str) -> ModelVersion | None:
    return ModelVersion.objects.filter(task=task, status=ModelVersion.Status.ACTIVE).first()


def task_tried(task: str, method: str | None) -> bool:
    """Whether a run of `method` (any, when None) for the task is queued, running or succeeded."""
    runs = TrainingRun.objects.filter(task=task).exclude(
        status__in=[TrainingRun.Status.FAILED, TrainingRun.Status.CANCELLED]
    )
    return (runs.filter(method=method) if method else runs).exists()


@dataclass(frozen=True)
class TaskState:
    """What serves a task now, and the run that may replace it."""

    task: str
    active: ModelVersion | None
    running: TrainingRun | None
    queued: int


def task_states(names: list[str]) -> list[TaskState]:
    active = {
        v.task: v for v in ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE, task__in=names)
    }
    running = {
        r.task: r for r in TrainingRun.objects.filter(status=TrainingRun.Status.RUNNING, task__in=names)
    }
    queued = dict(
        TrainingRun.objects.filter(status=TrainingRun.Status.QUEUED, task__in=names)
        .values_list("task")
        .annotate(Count("pk"))
    )
    return [TaskState(name, active.get(name), running.get(name), queued.get(name, 0)) for name in names]

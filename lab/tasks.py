from celery import shared_task

from assistant.core.retry import NOT_RETRIED, marks_failed, retried
from lab import dispatch
from lab.knowledge import arm_run
from lab.models import Arm, Study
from lab.services import (
    FITTED,
    STUDY_DONE,
    arm_failed,
    arm_fit,
    arm_measure,
    arms_requeue_stale,
    study_finish,
)


def _next(arm_id: int, outcome: str) -> str:
    """Send what follows an arm's step: its measurement, or the study's finish after its last arm
    (nothing after BUSY: the worker fitting the arm sends it)."""
    if outcome == FITTED:
        dispatch.arm_measure_later(arm_id)
    elif outcome == STUDY_DONE:
        dispatch.study_finish_later(Arm.objects.values_list("study_id", flat=True).get(pk=arm_id))
    return outcome


def _fit(arm_id: int) -> str:
    """An arm of a knowledge study is fitted, measured and updated at once, on its worker."""
    if Arm.objects.filter(pk=arm_id, study__kind=Study.Kind.KNOWLEDGE).exists():
        return arm_run(arm_id)
    return arm_fit(arm_id)


def _failed(arm_id: int, reason: str) -> None:
    _next(arm_id, arm_failed(arm_id, reason))


# The runs' own time limits bound each fit; an arm fits several one after another.
@shared_task(
    name=dispatch.TRAIN, base=marks_failed(_failed), soft_time_limit=6600, time_limit=7000, **retried()
)
def arm_train_task(arm_id: int) -> str:
    """Fit an arm that fine-tunes its encoder (queue `gpu`)."""
    return _next(arm_id, _fit(arm_id))


@shared_task(
    name=dispatch.FIT, base=marks_failed(_failed), soft_time_limit=3600, time_limit=3700, **retried()
)
def arm_fit_task(arm_id: int) -> str:
    """Fit an arm of a technique that trains no encoder (queue `inference`)."""
    return _next(arm_id, _fit(arm_id))


@shared_task(
    name=dispatch.MEASURE, base=marks_failed(_failed), soft_time_limit=1800, time_limit=1900, **retried()
)
def arm_measure_task(arm_id: int) -> str:
    """Measure an arm where it is served (queue `inference`)."""
    return _next(arm_id, arm_measure(arm_id))


@shared_task(name=dispatch.FINISH, soft_time_limit=1800, time_limit=1900, **retried())
def study_finish_task(study_id: int) -> str:
    """Score the study's versions on its test split, once, and record the result (queue `inference`)."""
    return study_finish(study_id).status


@shared_task(name=dispatch.REQUEUE_STALE, soft_time_limit=60, time_limit=90, **NOT_RETRIED)
def requeue_stale_task() -> int:
    """Periodic (beat): send again the arms and study finishes a dead worker left."""
    return arms_requeue_stale()

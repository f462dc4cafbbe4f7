from celery import shared_task

from assistant.core.errors import missing_skipped
from assistant.core.retry import NOT_RETRIED, marks_failed, retried
from assistant.training import dispatch
from assistant.training.inference import predict
from assistant.training.services import (
    drift_audit_all,
    run_execute,
    run_fail,
    runs_requeue_stale,
    version_prepare,
    versions_prepare_stale,
)


# Below the broker's visibility timeout (FINASSIST_CELERY_VISIBILITY_TIMEOUT, checked at start-up):
# longer training needs both raised together. A failure inside the training marks the run itself;
# what is retried is a database that went away before or after it.
@shared_task(
    name=dispatch.TRAIN,
    base=marks_failed(run_fail),
    soft_time_limit=6600,
    time_limit=7000,
    **retried(max_retries=3),
)
def train_task(run_id: int) -> str:
    """Fine-tune one run (queue `gpu`: CUDA where the worker has it, else its CPU threads)."""
    return run_execute(run_id, restart_interrupted=True).status


@shared_task(
    name=dispatch.FIT,
    base=marks_failed(run_fail),
    soft_time_limit=3600,
    time_limit=3700,
    **retried(max_retries=3),
)
def fit_task(run_id: int) -> str:
    """Fit one run of a technique that trains no encoder (queue `inference`: minutes at most)."""
    return run_execute(run_id, restart_interrupted=True).status


@shared_task(name=dispatch.PREDICT, soft_time_limit=120, time_limit=150, **retried(max_retries=2))
def predict_task(task: str, texts: list[str]) -> list[dict[str, object]]:
    return [prediction.as_dict() for prediction in predict(task, texts)]


@shared_task(name=dispatch.VERSION_PREPARE, soft_time_limit=600, time_limit=660, **retried())
@missing_skipped
def version_prepare_task(version_id: int) -> str:
    """Build what serving an activated version needs besides its model (queue `inference`)."""
    return version_prepare(version_id)


@shared_task(name=dispatch.DRIFT_AUDIT, soft_time_limit=600, time_limit=660, **NOT_RETRIED)
def drift_audit_task() -> list[str]:
    """Periodic (beat): audit every active model version's live predictions for drift."""
    return [str(audit) for audit in drift_audit_all()]


@shared_task(name=dispatch.REQUEUE_STALE, soft_time_limit=60, time_limit=90, **NOT_RETRIED)
def requeue_stale_task() -> int:
    """Periodic (beat): start again the fits a dead worker left running, and prepare again the
    active versions still not ready to serve."""
    return runs_requeue_stale() + versions_prepare_stale()

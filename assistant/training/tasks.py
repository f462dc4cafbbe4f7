from celery import shared_task

from assistant.training.services import drift_audit_all, run_execute


# Below the broker's visibility timeout (FINASSIST_CELERY_VISIBILITY_TIMEOUT, checked at start-up):
# longer training needs both raised together.
@shared_task(name="training.train", soft_time_limit=6600, time_limit=7000)
def train_task(run_id: int) -> str:
    """Train one run (queue `gpu`: CUDA where the worker has it, else its CPU threads)."""
    return run_execute(run_id, restart_interrupted=True).status


@shared_task(name="training.predict", soft_time_limit=120, time_limit=150)
def predict_task(task: str, texts: list[str]) -> list[dict[str, object]]:
    from assistant.training.inference import predict

    return [prediction.as_dict() for prediction in predict(task, texts)]


@shared_task(name="training.drift_audit", soft_time_limit=600, time_limit=660)
def drift_audit_task() -> list[str]:
    """Periodic (beat): audit every active model version's live predictions for drift."""
    return [str(audit) for audit in drift_audit_all()]

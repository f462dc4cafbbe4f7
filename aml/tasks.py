from typing import Any

from celery import Task, shared_task

from aml import dispatch
from aml.services.screening import Setup, batch_fail, batch_screen
from assistant.core.errors import missing_skipped
from assistant.core.retry import failure_reason, retried
from assistant.training.inference import NoActiveModel


class ScreenBatchTask(Task):
    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        batch_fail(batch_id=args[0], reason=failure_reason(exc))


@shared_task(
    name=dispatch.SCREEN_BATCH, base=ScreenBatchTask, soft_time_limit=600, time_limit=660, **retried()
)
@missing_skipped
def screen_batch_task(batch_id: int) -> str:
    """Screen a batch of transactions (queue `inference`); a re-delivered message resumes it."""
    return batch_screen(batch_id).status


@shared_task(name=dispatch.CALIBRATE, soft_time_limit=300, time_limit=330, **retried(max_retries=3))
def calibrate_task() -> str:
    """Fit the risk combination for the rules as set now (after an edit in the admin), so that no
    screening request waits for the fit."""
    try:
        return f"calibration {Setup.now().calibration.pk}"
    except NoActiveModel:
        return "no active typology model"

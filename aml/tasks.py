from celery import shared_task

from aml import dispatch
from aml.services.audit import audit_checkpoint
from aml.services.calibration import risk_calibration_fit
from aml.services.screening import batch_fail, batch_screen, batches_requeue_stale
from aml.typology import TYPOLOGY
from assistant.core.errors import missing_skipped
from assistant.core.retry import NOT_RETRIED, marks_failed, retried
from assistant.training.inference import ModelNotReady, NoActiveModel, active_version


@shared_task(
    name=dispatch.SCREEN_BATCH,
    base=marks_failed(batch_fail),
    soft_time_limit=600,
    time_limit=660,
    **retried(ModelNotReady),
)
@missing_skipped
def screen_batch_task(batch_id: int) -> str:
    """Screen a batch of transactions (queue `inference`); a re-delivered message resumes it, and one
    that finds the risk calibration still being fitted tries again shortly."""
    return batch_screen(batch_id).status


@shared_task(name=dispatch.CALIBRATE, soft_time_limit=300, time_limit=330, **retried(max_retries=3))
def calibrate_task() -> str:
    """Fit the risk combination of the active version for the rules as set now (after an edit in
    the admin), so that screening can go on."""
    try:
        version = active_version(TYPOLOGY)
    except NoActiveModel:
        return "no active typology model"
    return f"calibration {risk_calibration_fit(version).pk}"


@shared_task(name=dispatch.REQUEUE_STALE, soft_time_limit=60, time_limit=90, **NOT_RETRIED)
def requeue_stale_task() -> int:
    """Periodic (beat): resume batches left waiting or stalled by a lost message or a killed worker."""
    return batches_requeue_stale()


@shared_task(name=dispatch.AUDIT_CHECKPOINT, soft_time_limit=60, time_limit=90, **NOT_RETRIED)
def audit_checkpoint_task() -> str:
    """Periodic (beat): append the audit trail's head, MACed, to the checkpoint file."""
    point = audit_checkpoint()
    return f"event #{point.sequence}" if point else "nothing new"

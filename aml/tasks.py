from celery import shared_task

from aml.services.screening import Setup, batch_screen
from assistant.core.errors import missing_skipped
from assistant.training.inference import NoActiveModel


@shared_task(name="aml.screen_batch", soft_time_limit=600, time_limit=660)
@missing_skipped
def screen_batch_task(batch_id: int) -> str:
    """Screen a batch of transactions (queue `inference`); a re-delivered message resumes it."""
    return batch_screen(batch_id).status


@shared_task(name="aml.calibrate", soft_time_limit=300, time_limit=330)
def calibrate_task() -> str:
    """Fit the risk combination for the rules as set now (after an edit in the admin), so that no
    screening request waits for the fit."""
    try:
        return f"calibration {Setup.now().calibration.pk}"
    except NoActiveModel:
        return "no active typology model"

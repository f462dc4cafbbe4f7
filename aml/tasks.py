import logging

from celery import shared_task

from aml.screening import batch_screen
from assistant.core.errors import NotFound

logger = logging.getLogger("finassist.aml")


@shared_task(name="aml.screen_batch", soft_time_limit=600, time_limit=660)
def screen_batch_task(batch_id: int) -> str:
    """Screen a batch of transactions (queue `inference`); a re-delivered message resumes it."""
    try:
        return batch_screen(batch_id).status
    except NotFound as missing:
        logger.warning("%s", missing.message)
        return "missing"

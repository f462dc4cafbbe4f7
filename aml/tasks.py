from celery import shared_task

from aml.screening import batch_screen
from assistant.core.errors import missing_skipped


@shared_task(name="aml.screen_batch", soft_time_limit=600, time_limit=660)
@missing_skipped
def screen_batch_task(batch_id: int) -> str:
    """Screen a batch of transactions (queue `inference`); a re-delivered message resumes it."""
    return batch_screen(batch_id).status

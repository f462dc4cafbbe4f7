from celery import shared_task

from assistant.core.errors import missing_skipped
from claims.services import claim_triage, claims_requeue_stale


@shared_task(name="claims.triage", soft_time_limit=120, time_limit=150)
@missing_skipped
def triage_task(claim_id: int) -> str:
    """Triage one claim (queue `inference`); a re-delivered message finds it done and returns."""
    return claim_triage(claim_id).status


@shared_task(name="claims.requeue_stale", soft_time_limit=60, time_limit=90)
def requeue_stale_task() -> int:
    """Periodic (beat): re-send triage of claims left waiting by a lost message or a killed worker."""
    return claims_requeue_stale()

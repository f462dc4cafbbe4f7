from celery import shared_task

from assistant.core.errors import missing_skipped
from assistant.core.retry import NOT_RETRIED, marks_failed, retried
from assistant.training.inference import ModelNotReady
from claims import dispatch
from claims.services.submission import claims_requeue_stale
from claims.services.triage import claim_fail, claim_triage


@shared_task(
    name=dispatch.TRIAGE,
    base=marks_failed(claim_fail),
    soft_time_limit=120,
    time_limit=150,
    **retried(ModelNotReady),
)
@missing_skipped
def triage_task(claim_id: int) -> str:
    """Triage one claim (queue `inference`); a re-delivered message finds it done and returns."""
    return claim_triage(claim_id).status


@shared_task(name=dispatch.REQUEUE_STALE, soft_time_limit=60, time_limit=90, **NOT_RETRIED)
def requeue_stale_task() -> int:
    """Periodic (beat): re-send triage of claims left waiting by a lost message or a killed worker."""
    return claims_requeue_stale()

from celery import shared_task

from assistant.core.retry import NOT_RETRIED, retried
from assistant.integrations import dispatch
from assistant.integrations.webhooks import deliveries_due, delivery_attempt


# A delivery that fails for good stays pending: the periodic sweep sends it again when it is due,
# and only its own schedule (FINASSIST_WEBHOOK_RETRY_DELAYS) marks it failed.
@shared_task(name=dispatch.DELIVER, soft_time_limit=60, time_limit=90, **retried(max_retries=3))
def deliver_task(delivery_id: int) -> str:
    delivery = delivery_attempt(delivery_id)
    return delivery.status if delivery is not None else "not due"


@shared_task(name=dispatch.DELIVERIES_DUE, soft_time_limit=300, time_limit=330, expires=25, **NOT_RETRIED)
def deliveries_due_task() -> int:
    """Periodic (beat): retries whose delay was too long for a delayed task, and lost ones."""
    return deliveries_due()

from celery import shared_task

from assistant.integrations.webhooks import deliveries_due, delivery_attempt


@shared_task(name="integrations.deliver", soft_time_limit=60, time_limit=90)
def deliver_task(delivery_id: int) -> str:
    delivery = delivery_attempt(delivery_id)
    return delivery.status if delivery is not None else "not due"


@shared_task(name="integrations.deliveries_due", soft_time_limit=300, time_limit=330, expires=25)
def deliveries_due_task() -> int:
    """Periodic (beat): retries whose delay was too long for a delayed task, and lost ones."""
    return deliveries_due()

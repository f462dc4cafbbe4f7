"""The integration tasks by name, and how services send them (`assistant.core.dispatch`)."""

from assistant.core.dispatch import send_on_commit

DELIVER = "integrations.deliver"
DELIVERIES_DUE = "integrations.deliveries_due"


def deliver_later(delivery_id: int, *, delay_s: float = 0) -> None:
    """Attempt the delivery after `delay_s` seconds, counted from when the transaction commits."""
    send_on_commit(DELIVER, delivery_id, countdown=delay_s)

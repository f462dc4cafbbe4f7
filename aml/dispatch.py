"""The AML tasks by name, and how services send them (`assistant.core.dispatch`)."""

from assistant.core.dispatch import send_on_commit

SCREEN_BATCH = "aml.screen_batch"
CALIBRATE = "aml.calibrate"
REQUEUE_STALE = "aml.requeue_stale"
AUDIT_CHECKPOINT = "aml.audit_checkpoint"


def batch_screen_later(batch_id: int) -> None:
    """Screen the batch on an inference worker once the transaction that stored it commits."""
    send_on_commit(SCREEN_BATCH, batch_id)


def calibrate_later() -> None:
    """Fit the risk combination for the rules as set, once the rule change commits."""
    send_on_commit(CALIBRATE)

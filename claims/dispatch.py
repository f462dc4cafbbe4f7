"""The claims tasks by name, and how services send them (`assistant.core.dispatch`)."""

from assistant.core.dispatch import send_on_commit

TRIAGE = "claims.triage"
REQUEUE_STALE = "claims.requeue_stale"


def triage_later(claim_id: int) -> None:
    """Triage the claim on an inference worker, once the transaction that stored it commits."""
    send_on_commit(TRIAGE, claim_id)

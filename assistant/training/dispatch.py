"""The training tasks by name, and how services send them (`assistant.core.dispatch`)."""

from assistant.core.dispatch import send_on_commit

TRAIN = "training.train"
FIT = "training.fit"
PREDICT = "training.predict"
DRIFT_AUDIT = "training.drift_audit"
VERSION_PREPARE = "training.version_prepare"
REQUEUE_STALE = "training.requeue_stale"


def train_later(run_id: int, *, fine_tuning: bool) -> None:
    """Run the fit once the transaction that recorded it commits: fine-tuning on a gpu-queue
    worker, the other techniques on an inference worker."""
    send_on_commit(TRAIN if fine_tuning else FIT, run_id)


def version_prepare_later(version_id: int) -> None:
    """Build what serving the version needs besides its model, on an inference worker, once the
    activation commits."""
    send_on_commit(VERSION_PREPARE, version_id)

"""The training tasks by name, and how services send them (`assistant.core.dispatch`)."""

from assistant.core.dispatch import send_on_commit

TRAIN = "training.train"
PREDICT = "training.predict"
DRIFT_AUDIT = "training.drift_audit"
VERSION_PREPARE = "training.version_prepare"


def train_later(run_id: int) -> None:
    """Train the run on a gpu-queue worker once the transaction that recorded it commits."""
    send_on_commit(TRAIN, run_id)


def version_prepare_later(version_id: int) -> None:
    """Build what serving the version needs besides its model, on an inference worker, once the
    activation commits."""
    send_on_commit(VERSION_PREPARE, version_id)

"""The lab's tasks by name, and how services send them (`assistant.core.dispatch`)."""

from assistant.core.dispatch import send, send_on_commit

FIT = "lab.fit"
TRAIN = "lab.train"
MEASURE = "lab.measure"
FINISH = "lab.finish"
REQUEUE_STALE = "lab.requeue_stale"


def arm_fit_later(arm_id: int, *, fine_tuning: bool) -> None:
    """Fit an arm's runs once the study commits: fine-tuning on a gpu-queue worker, the other
    techniques on an inference worker."""
    send_on_commit(TRAIN if fine_tuning else FIT, arm_id)


def arm_measure_later(arm_id: int) -> None:
    """Measure a fitted arm on an inference worker, where its technique is served."""
    send(MEASURE, arm_id)


def study_finish_later(study_id: int) -> None:
    send(FINISH, study_id)

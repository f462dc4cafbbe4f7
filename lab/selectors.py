"""What the lab's pages and API read."""

from __future__ import annotations

from django.db.models import QuerySet

from assistant.core.errors import NotFound
from lab.models import FINISHED, Status, Study

LISTED = 50


def studies() -> QuerySet[Study]:
    return Study.objects.prefetch_related("arms__runs__run")[:LISTED]


def study_get(study_id: int) -> Study:
    try:
        return Study.objects.prefetch_related("arms__runs__run").get(pk=study_id)
    except Study.DoesNotExist:
        raise NotFound(f"no study {study_id}") from None


def progress(study: Study) -> list[dict[str, object]]:
    """Each arm's state with how many of its runs are done and the current run's steps."""
    found = []
    for arm in study.arms.all():
        runs = list(arm.runs.all())
        done = sum(p.run.status == Status.SUCCEEDED for p in runs)
        current = next((p.run for p in runs if p.run.status == Status.RUNNING), None)
        share = (done + (current.step / current.total_steps if current and current.total_steps else 0)) / max(
            len(runs) + 1, 1
        )
        if arm.status in FINISHED:
            share = 1.0
        found.append(
            {
                "technique": arm.technique,
                "status": arm.status,
                "stage": arm.stage,
                "runs_done": done,
                "runs": len(runs),
                "share": round(share, 3),
                "error": arm.error,
            }
        )
    return found

"""What the lab's pages and API read."""

from __future__ import annotations

import re

from django.db.models import QuerySet

from assistant.core.errors import NotFound
from lab.models import FINISHED, SCRATCH_PREFIX, Status, Study

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
        if study.kind == Study.Kind.KNOWLEDGE:
            share = _knowledge_share(arm.stage)
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


# A knowledge arm's stages in order (lab.knowledge): how far along the first word of each puts it.
KNOWLEDGE_STAGES = (
    ("indexing", "fitting"), ("searching", "measuring"), ("re-indexing", "updating"), ("forgetting",)
)  # fmt: skip


def _knowledge_share(stage: str) -> float:
    """How far a knowledge arm is: its stage's place, and the stage's own "done/total" if it says."""
    word = stage.split(" ", 1)[0]
    phase = next((i for i, words in enumerate(KNOWLEDGE_STAGES) if word in words), 0)
    counted = re.search(r"(\d+)/(\d+)", stage)
    within = int(counted[1]) / int(counted[2]) if counted and int(counted[2]) else 0.0
    return (phase + within) / len(KNOWLEDGE_STAGES)


def collections() -> list[str]:
    """The collections a knowledge study can be made of: those with indexed documents."""
    from assistant.knowledge.models import Collection, DocumentStatus

    return list(
        Collection.objects.filter(documents__status=DocumentStatus.READY)
        .exclude(name__startswith=SCRATCH_PREFIX)
        .distinct()
        .order_by("name")
        .values_list("name", flat=True)
    )

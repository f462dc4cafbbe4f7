from typing import Any

from celery import Task, shared_task

from assistant.core.retry import NOT_RETRIED, failure_reason, retried
from assistant.knowledge import dispatch
from assistant.knowledge.services.indexing import document_fail, documents_index
from assistant.knowledge.services.lexicon import lexicon_refresh


class DocumentIndexTask(Task[Any, Any]):
    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        document_fail(document_id=args[0], reason=failure_reason(exc))


@shared_task(
    name=dispatch.DOCUMENT_INDEX,
    base=DocumentIndexTask,
    soft_time_limit=1800,
    time_limit=1900,
    **retried(max_retries=3),
)
def document_index_task(document_id: int) -> dict[str, object]:
    """Index one submitted document; safe to run twice (a newer version wins)."""
    report = documents_index([document_id])
    return {"indexed": report.indexed, "chunks": report.chunks, "failed": report.failed}


@shared_task(name=dispatch.LEXICON_REFRESH, soft_time_limit=600, time_limit=660, **NOT_RETRIED)
def lexicon_refresh_task() -> list[str]:
    """Periodic (beat): keep the full-text word weights in step with the chunks."""
    return lexicon_refresh()

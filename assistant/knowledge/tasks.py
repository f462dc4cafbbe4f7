from celery import shared_task

from assistant.knowledge.services.indexing import documents_index
from assistant.knowledge.services.lexicon import lexicon_refresh


@shared_task(name="knowledge.document_index", soft_time_limit=1800, time_limit=1900)
def document_index_task(document_id: int) -> dict[str, object]:
    """Index one submitted document; safe to run twice (a newer version wins)."""
    report = documents_index([document_id])
    return {"indexed": report.indexed, "chunks": report.chunks, "failed": report.failed}


@shared_task(name="knowledge.lexicon_refresh", soft_time_limit=600, time_limit=660)
def lexicon_refresh_task() -> list[str]:
    """Periodic (beat): keep the full-text word weights in step with the chunks."""
    return lexicon_refresh()

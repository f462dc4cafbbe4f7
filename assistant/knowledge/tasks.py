from celery import shared_task

from assistant.core.retry import NOT_RETRIED, marks_failed, retried
from assistant.knowledge import dispatch
from assistant.knowledge.services.indexing import document_fail, documents_index, documents_requeue_stale
from assistant.knowledge.services.lexicon import lexicon_refresh
from assistant.knowledge.services.uploads import upload_fail, upload_parse, uploads_requeue_stale


@shared_task(
    name=dispatch.DOCUMENT_INDEX,
    base=marks_failed(document_fail),
    soft_time_limit=1800,
    time_limit=1900,
    **retried(max_retries=3),
)
def document_index_task(document_id: int) -> dict[str, object]:
    """Index one submitted document; safe to run twice (a newer version wins)."""
    report = documents_index([document_id])
    return {"indexed": report.indexed, "chunks": report.chunks, "failed": report.failed}


@shared_task(
    name=dispatch.UPLOAD_PARSE,
    base=marks_failed(upload_fail),
    soft_time_limit=1800,
    time_limit=1900,
    **retried(max_retries=3),
)
def upload_parse_task(upload_id: int) -> dict[str, object] | None:
    """Parse one received file and submit its documents; safe to run twice."""
    upload = upload_parse(upload_id)
    return None if upload is None else {"status": upload.status, "documents": upload.documents}


@shared_task(name=dispatch.LEXICON_REFRESH, soft_time_limit=600, time_limit=660, **NOT_RETRIED)
def lexicon_refresh_task() -> list[str]:
    """Periodic (beat): keep the full-text word weights in step with the chunks."""
    return lexicon_refresh()


@shared_task(name=dispatch.REQUEUE_STALE, soft_time_limit=60, time_limit=90, **NOT_RETRIED)
def requeue_stale_task() -> int:
    """Periodic (beat): parse and index again the files and documents a killed worker left."""
    return uploads_requeue_stale() + documents_requeue_stale()

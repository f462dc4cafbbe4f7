"""The knowledge tasks by name, and how services send them (`assistant.core.dispatch`)."""

from assistant.core.dispatch import send_on_commit

DOCUMENT_INDEX = "knowledge.document_index"
LEXICON_REFRESH = "knowledge.lexicon_refresh"
REQUEUE_STALE = "knowledge.requeue_stale"
UPLOAD_PARSE = "knowledge.upload_parse"


def document_index_later(document_id: int) -> None:
    """Index the document on an ingest worker once the transaction that submitted it commits."""
    send_on_commit(DOCUMENT_INDEX, document_id)


def upload_parse_later(upload_id: int) -> None:
    """Parse the uploaded file on an ingest worker once the transaction that received it commits."""
    send_on_commit(UPLOAD_PARSE, upload_id)

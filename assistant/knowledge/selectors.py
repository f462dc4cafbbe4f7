"""Reading the knowledge base for the knowledge managers' pages (search has its own module)."""

from __future__ import annotations

from assistant.knowledge.models import Document, DocumentStatus, Upload, UploadStatus


def documents_indexing() -> bool:
    """Whether any document waits for indexing or is being indexed."""
    return Document.objects.filter(status__in=[DocumentStatus.PENDING, DocumentStatus.PROCESSING]).exists()


def document_get(document_id: int) -> Document | None:
    return Document.objects.select_related("collection").filter(pk=document_id).first()


def uploads_parsing() -> bool:
    """Whether any received file waits for parsing or is being parsed."""
    return Upload.objects.filter(status__in=[UploadStatus.QUEUED, UploadStatus.PARSING]).exists()

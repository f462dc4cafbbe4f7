"""Files received for a collection are kept and parsed on an ingest worker, not in the request.

`uploads_receive` refuses what the name and size alone rule out, stores the rest with an `Upload`
row each and queues them; `upload_parse` (the worker) parses a file under `ParseLimits` and
submits its documents in one transaction: all of them, or none and the reason recorded. A file
of one document becomes that document's file; any other file is deleted once parsed.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from assistant.core.dispatch import resend_stale
from assistant.core.errors import ApplicationError
from assistant.knowledge.dispatch import upload_parse_later
from assistant.knowledge.models import Collection, Document, Upload, UploadStatus
from assistant.knowledge.parsers import ParsedDocument, ParseLimits, RejectedFile, parser_for
from assistant.knowledge.sandbox import parse_isolated
from assistant.knowledge.services.files import file_delete_on_commit, files_deleted_on_error
from assistant.knowledge.services.submission import document_submit

logger = logging.getLogger("finassist.knowledge")

OPEN = (UploadStatus.QUEUED, UploadStatus.PARSING)


@dataclass
class Receipt:
    queued: list[Upload] = field(default_factory=list)
    rejected: list[RejectedFile] = field(default_factory=list)


def uploads_receive(
    *,
    collection: Collection,
    files: Sequence[File[Any]],
    uploaded_by: User | AnonymousUser | None = None,
    replaces: Document | None = None,
    metadata: dict[str, Any] | None = None,
    effective_from: date | None = None,
    effective_to: date | None = None,
) -> Receipt:
    """Keep each file that may go in and queue it for parsing; report the others, keeping nothing
    of them. A failure part-way keeps none of the files."""
    if effective_from and effective_to and effective_to < effective_from:
        raise ApplicationError("the effective period ends before it starts", field="effective_to")
    limits = ParseLimits.from_settings()
    receipt = Receipt()
    with files_deleted_on_error() as written, transaction.atomic():
        for file in files:
            name = PurePath(file.name or "").name
            try:
                parser_for(name, file.size or 0, limits)
            except RejectedFile as rejected:
                receipt.rejected.append(rejected)
                continue
            upload = Upload(
                collection=collection,
                replaces=replaces,
                name=name,
                size=file.size,
                uploaded_by=uploaded_by if isinstance(uploaded_by, User) else None,
                metadata=metadata or {},
                effective_from=effective_from,
                effective_to=effective_to,
            )
            upload.file.save(name, file, save=False)
            written.append(str(upload.file.name))
            upload.save()
            upload_parse_later(upload.pk)
            receipt.queued.append(upload)
    if receipt.queued:
        logger.info("%d file(s) received for %s", len(receipt.queued), collection.name)
    return receipt


def upload_parse(upload_id: int) -> Upload | None:
    """Parse a received file and submit its documents; safe to run twice (the first to finish wins)."""
    with transaction.atomic():
        upload = _open(upload_id)
        if upload is None:
            return None
        upload.status = UploadStatus.PARSING
        upload.save(update_fields=["status", "progressed_at"])
    try:
        with upload.file.open("rb") as handle:
            data = handle.read()
        documents = parse_isolated(upload.name, data, limits=ParseLimits.from_settings())
        if upload.replaces is not None:
            documents = [_new_version(upload, upload.replaces, documents)]
    except RejectedFile as rejected:
        _close(upload_id, UploadStatus.REJECTED, rejected.reason)
        return Upload.objects.get(pk=upload_id)
    _submit(upload, documents)
    return Upload.objects.get(pk=upload_id)


def _open(upload_id: int) -> Upload | None:
    return (
        Upload.objects.select_for_update(of=("self",))
        .select_related("collection", "replaces")
        .filter(pk=upload_id, status__in=OPEN)
        .first()
    )


def _new_version(upload: Upload, document: Document, parsed: list[ParsedDocument]) -> ParsedDocument:
    if len(parsed) != 1:
        raise RejectedFile(upload.name, "the file holds several documents; upload it to the collection")
    return dataclasses.replace(parsed[0], external_id=document.external_id)


def _submit(upload: Upload, documents: list[ParsedDocument]) -> None:
    staged = str(upload.file.name)
    one = len(documents) == 1 and (upload.replaces is not None or documents[0].external_id == upload.name)
    with transaction.atomic():
        current = _open(upload.pk)
        if current is None:
            return  # finished by another run meanwhile
        submissions = [
            document_submit(
                collection=upload.collection,
                parsed=parsed,
                source=upload.name,
                file=staged if one else None,
                metadata=upload.metadata,
                effective_from=upload.effective_from,
                effective_to=upload.effective_to,
            )
            for parsed in documents
        ]
        if not any(submission.document.file.name == staged for submission in submissions):
            file_delete_on_commit(staged)
        current.status, current.reason, current.documents = UploadStatus.DONE, "", len(documents)
        current.file.name = ""
        current.save()
    logger.info("%s: %d document(s) submitted", upload.name, len(documents))


def _close(upload_id: int, status: UploadStatus, reason: str) -> None:
    with transaction.atomic():
        upload = _open(upload_id)
        if upload is None:
            return
        if upload.file:
            file_delete_on_commit(str(upload.file.name))
        upload.status, upload.reason = status, reason
        upload.file.name = ""
        upload.save()
    logger.warning("%s %s: %s", upload.name, status, reason)


def upload_fail(upload_id: int, reason: str) -> None:
    """Record that parsing a file failed for good (called once its task has given up)."""
    _close(upload_id, UploadStatus.FAILED, reason)


def uploads_requeue_stale() -> int:
    """Send parsing again for files left queued or parsing without progress for longer than
    INGEST_REQUEUE_AFTER_S (a lost message, a killed worker); parsing twice is safe."""
    cutoff = timezone.now() - timedelta(seconds=settings.INGEST_REQUEUE_AFTER_S)
    return resend_stale(
        Upload.objects.filter(status__in=OPEN, progressed_at__lt=cutoff),
        upload_parse_later,
        logger=logger,
        message="re-sent parsing of %d stalled upload(s)",
        stamp="progressed_at",
    )

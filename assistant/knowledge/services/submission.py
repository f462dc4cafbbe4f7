"""Collections and document submission: new content becomes a new version, queued for indexing."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from assistant.core.encoder import model_checked
from assistant.core.errors import ApplicationError
from assistant.knowledge.dispatch import document_index_later
from assistant.knowledge.models import Chunk, Collection, Document, DocumentStatus
from assistant.knowledge.parsers import Block, ParsedDocument, ParseLimits, RejectedFile
from assistant.knowledge.sandbox import parse_isolated
from assistant.knowledge.services.files import file_delete_on_commit, files_deleted_on_error

logger = logging.getLogger("finassist.knowledge")


def collection_get_or_create(
    *,
    name: str,
    description: str = "",
    reader_groups: Iterable[str] = (),
    embedding_model: str = "",
    second_embedding_model: str = "",
) -> Collection:
    """The collection of that name; a new one is embedded with `embedding_model` (default:
    FINASSIST_EMBEDDING_MODEL), and with `second_embedding_model` as well where one is named. An
    existing one keeps its models: `manage.py reembed` moves it."""
    model = embedding_model or settings.EMBEDDING_MODEL
    collection = Collection.objects.filter(name=name).first()
    if collection is None:
        model_checked(model)
        if second_embedding_model:
            model_checked(second_embedding_model)
            if second_embedding_model == model:
                raise ApplicationError(
                    "the second embedding model is the first one", field="second_embedding_model"
                )
    collection, created = Collection.objects.get_or_create(
        name=name,
        defaults={
            "description": description,
            "embedding_model": model,
            "second_embedding_model": second_embedding_model,
        },
    )
    groups = list(Group.objects.filter(name__in=list(reader_groups)))
    if groups:
        collection.reader_groups.add(*groups)
    if created:
        models = " and ".join(filter(None, [collection.embedding_model, collection.second_embedding_model]))
        logger.info("collection %s created (embedding models %s)", name, models)
    return collection


def _checksum(title: str, blocks: Sequence[Block]) -> str:
    canonical = json.dumps([title, [block.as_dict() for block in blocks]], sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Submission:
    document: Document
    changed: bool


def document_submit(
    *,
    collection: Collection,
    parsed: ParsedDocument,
    source: str = "",
    file: bytes | str | None = None,
    effective_from: date | None = None,
    effective_to: date | None = None,
    metadata: dict[str, Any] | None = None,
    enqueue: bool = True,
) -> Submission:
    """Create or update a document; new content becomes a new version to index.

    The same title and content again changes nothing but the metadata and effective
    period (a failed document is retried). Until the new version is indexed, searches
    keep finding the previous one. `file` is the original: its bytes, stored with the new
    version, or the name of a file already stored that the new version takes over; the
    previous version's file is deleted once the new one commits.
    """
    if effective_from and effective_to and effective_to < effective_from:
        raise ApplicationError(f"{parsed.external_id}: the effective period ends before it starts")
    checksum = _checksum(parsed.title, parsed.blocks)
    details = {
        "effective_from": effective_from,
        "effective_to": effective_to,
        "metadata": {**parsed.metadata, **(metadata or {})},
    }
    with files_deleted_on_error() as written, transaction.atomic():
        document = (
            Document.objects.select_for_update()
            .filter(collection=collection, external_id=parsed.external_id)
            .first()
        )
        if (
            document is not None
            and document.checksum == checksum
            and document.status != DocumentStatus.FAILED
        ):
            for name, value in details.items():
                setattr(document, name, value)
            document.save(update_fields=[*details, "updated_at"])
            Chunk.objects.filter(document=document).update(
                effective_from=effective_from, effective_to=effective_to
            )
            return Submission(document, changed=False)
        if document is None:
            document = Document(collection=collection, external_id=parsed.external_id, version=0)
        document.version += 1
        document.title = parsed.title
        document.source = source or parsed.external_id
        document.content = [block.as_dict() for block in parsed.blocks]
        document.checksum = checksum
        document.status = DocumentStatus.PENDING
        document.error = ""
        document.chunks_total = document.chunks_done = 0
        for name, value in details.items():
            setattr(document, name, value)
        previous = document.file.name
        if isinstance(file, bytes):
            document.file.save(parsed.external_id.rsplit("/", 1)[-1], ContentFile(file), save=False)
            written.append(str(document.file.name))
        elif file is not None:
            document.file.name = file
        document.save()
        if previous and previous != document.file.name:
            file_delete_on_commit(previous)
        if enqueue:
            document_index_later(document.pk)
    return Submission(document, changed=True)


def document_reindex(*, document: Document) -> None:
    """Chunk and embed a document again from its stored text (after a chunking change, say)."""
    Document.objects.filter(pk=document.pk).update(
        status=DocumentStatus.PENDING, error="", updated_at=timezone.now()
    )
    document_index_later(document.pk)


@dataclass
class FilesReport:
    submitted: list[Submission] = field(default_factory=list)
    rejected: list[RejectedFile] = field(default_factory=list)


def files_submit(
    *,
    collection: Collection,
    files: Iterable[tuple[str, bytes]],
    metadata: dict[str, Any] | None = None,
    effective_from: date | None = None,
    effective_to: date | None = None,
    enqueue: bool = True,
) -> FilesReport:
    """Parse and submit files; a file that cannot go in is reported and the rest go on."""
    report = FilesReport()
    limits = ParseLimits.from_settings()
    for name, data in files:
        try:
            parsed_documents = parse_isolated(name, data, limits=limits)
        except RejectedFile as rejected:
            report.rejected.append(rejected)
            continue
        single = len(parsed_documents) == 1 and parsed_documents[0].external_id == name
        for parsed in parsed_documents:
            report.submitted.append(
                document_submit(
                    collection=collection,
                    parsed=parsed,
                    source=name,
                    file=data if single else None,
                    metadata=metadata,
                    effective_from=effective_from,
                    effective_to=effective_to,
                    enqueue=enqueue,
                )
            )
    return report

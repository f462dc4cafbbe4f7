"""Indexing: documents chunked, embedded in windows on one thread a core, and stored as they finish."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import groupby
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from assistant.core.background import threaded
from assistant.core.dispatch import resend_stale
from assistant.core.errors import ApplicationError
from assistant.core.hf import cpu_threads, one_torch_thread
from assistant.core.language import detect
from assistant.db.vectors import vector_connection
from assistant.knowledge.chunking import ChunkSpec, chunk_blocks
from assistant.knowledge.cleaning import cleaned_blocks
from assistant.knowledge.dispatch import document_index_later
from assistant.knowledge.embedding import TextEncoder, embedder
from assistant.knowledge.models import Chunk, Document, DocumentStatus
from assistant.knowledge.parsers import Block

logger = logging.getLogger("finassist.knowledge")

# Chunks embedded together, at most: small documents share batches.
INDEX_WINDOW = 256
# Chunks embedded between two saves of the documents' progress.
PROGRESS_EVERY = 64
# The first chunks of a document, which its language is detected from.
LANGUAGE_SAMPLE = 8


@dataclass
class IndexReport:
    indexed: int = 0
    chunks: int = 0
    failed: dict[str, str] = field(default_factory=dict)


@dataclass(eq=False)
class _Plan:
    """A document's chunks, and their vectors of each of its collection's models (the first one,
    and a second where it has one) as the embedding threads hand them over."""

    document: Document
    models: tuple[str, str]
    specs: list[ChunkSpec]
    vectors: list[list[Any]] = field(init=False)
    waiting: int = field(init=False)
    failed: bool = False

    def __post_init__(self) -> None:
        self.vectors = [[None] * len(self.specs) for model in self.models if model]
        self.waiting = len(self.specs) * len(self.vectors)

    @property
    def chunks_done(self) -> int:
        """The chunks embedded, counting a chunk done once the vectors still awaited are fewer
        than one per model for each chunk left."""
        return len(self.specs) - -(-self.waiting // len(self.vectors))


def _chunk(document: Document, model: TextEncoder) -> list[ChunkSpec]:
    blocks = cleaned_blocks([Block.from_dict(block) for block in document.content])
    specs = chunk_blocks(
        document.title,
        blocks,
        tokenizer=model.tokenizer,
        # The model adds two special tokens ([CLS], [SEP]) to every input.
        max_tokens=min(settings.CHUNK_TOKENS, model.max_tokens) - 2,
        overlap=settings.CHUNK_OVERLAP,
    )
    if not specs:
        raise ApplicationError("the document has no text to index")
    return specs


def _fail(document: Document, reason: str, report: IndexReport) -> None:
    Document.objects.filter(pk=document.pk).update(status=DocumentStatus.FAILED, error=reason)
    report.failed[f"{document.collection.name}/{document.external_id}"] = reason
    logger.warning("indexing %s failed: %s", document, reason)


def document_fail(document_id: int, reason: str) -> None:
    """Mark a document's indexing failed (its task gave up), unless a version of it is ready."""
    unfinished = Document.objects.filter(pk=document_id).exclude(status=DocumentStatus.READY)
    if unfinished.update(status=DocumentStatus.FAILED, error=reason):
        logger.warning("indexing document %s failed: %s", document_id, reason)


class _ModelChanged(Exception):
    """The collection moved to another embedding model while its chunks were embedded."""


# The columns of a chunk that indexing writes, with their types for binary COPY.
_CHUNK_COLUMNS = {
    "document_id": "int8",
    "collection_id": "int8",
    "position": "int4",
    "heading": "varchar",
    "page": "int4",
    "text": "text",
    "token_count": "int4",
    "embedding": "vector",
    "embedding_model": "varchar",
    "second_embedding": "vector",
    "second_embedding_model": "varchar",
    "effective_from": "date",
    "effective_to": "date",
    "words": "text",
}


def _copy_chunks(document: Document, plan: _Plan) -> None:
    """Insert the chunks by binary COPY, faster than INSERT statements, whose vectors Python
    writes out as text and the server parses back (docs/retrieval.md, Ingestion)."""
    raw = vector_connection()
    with (
        raw.cursor() as cursor,
        cursor.copy(
            f"COPY {Chunk._meta.db_table} ({', '.join(_CHUNK_COLUMNS)}) FROM STDIN WITH (FORMAT BINARY)"
        ) as copy,
    ):
        copy.set_types(list(_CHUNK_COLUMNS.values()))
        first, second = plan.models
        seconds = plan.vectors[1] if second else [None] * len(plan.specs)
        for spec, vector, second_vector in zip(plan.specs, plan.vectors[0], seconds, strict=True):
            copy.write_row(
                (
                    document.pk,
                    document.collection_id,
                    spec.position,
                    spec.heading,
                    spec.page,
                    spec.text,
                    spec.token_count,
                    vector,
                    first,
                    second_vector,
                    second,
                    document.effective_from,
                    document.effective_to,
                    spec.words,
                )
            )


def _write(plan: _Plan) -> bool:
    """Replace a document's chunks in one transaction; False when a newer version came in."""
    document = plan.document
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Shares with other indexing; waits for (and is waited on by) a re-embed's switch.
            cursor.execute(
                "SELECT embedding_model, second_embedding_model FROM knowledge_collection "
                "WHERE id = %s FOR SHARE",
                [document.collection_id],
            )
            models = cursor.fetchone()
        if models != plan.models:
            raise _ModelChanged
        current = Document.objects.select_for_update().get(pk=document.pk)
        if current.version != document.version:
            return False
        Chunk.objects.filter(document=current).delete()
        _copy_chunks(current, plan)
        Document.objects.filter(pk=current.pk).update(
            status=DocumentStatus.READY,
            chunks_total=len(plan.specs),
            chunks_done=len(plan.specs),
            error="",
            indexed_at=timezone.now(),
        )
    return True


@dataclass(frozen=True)
class _Window:
    """Chunks embedded together (the embedder batches them by length) by one model: (plan, slot,
    position), the slot 0 for a collection's first model and 1 for its second."""

    model: str
    chunks: list[tuple[_Plan, int, int]]


def _windows(plans: list[_Plan], threads: int) -> list[_Window]:
    """The plans' chunks in windows of up to INDEX_WINDOW, small enough that every thread
    gets one; a document may span windows, and a window documents."""
    slots = sorted(
        ((model, plan, slot) for plan in plans for slot, model in enumerate(plan.models) if model),
        key=lambda item: item[0],
    )
    windows = []
    for model, same_model in groupby(slots, key=lambda item: item[0]):
        chunks = [
            (plan, slot, position) for _, plan, slot in same_model for position in range(len(plan.specs))
        ]
        size = max(settings.EMBEDDING_BATCH_SIZE, min(INDEX_WINDOW, -(-len(chunks) // threads)))
        windows += [_Window(model, chunks[start : start + size]) for start in range(0, len(chunks), size)]
    return windows


@dataclass(frozen=True)
class _Embedded:
    """A batch of a window's chunks embedded (indices into the window), or the window failed."""

    window: _Window
    indices: list[int]
    vectors: Any = None
    error: str = ""


def _embed(window: _Window) -> Iterator[_Embedded]:
    texts = [plan.specs[position].embedding_input for plan, _, position in window.chunks]
    try:
        for indices, vectors in embedder(window.model).embed_batches(texts):
            yield _Embedded(window, indices, vectors)
    except Exception as exc:  # noqa: BLE001 - recorded on each document of the window
        yield _Embedded(window, [], error=f"embedding failed: {exc}")


Progress = Callable[[str, int, int], None]
"""Called with (stage, done, total): CHUNKING counts documents, EMBEDDING chunks."""
CHUNKING, EMBEDDING = "chunking", "embedding"


def documents_index(document_ids: Sequence[int], *, on_progress: Progress | None = None) -> IndexReport:
    """Chunk, embed and store documents; each one fails or succeeds on its own.

    Everything is chunked first, so the total is known. The chunks are embedded in
    windows of several documents' chunks, sorted by length so that batches pad little,
    by one thread a core on the CPU, each computing on one core: whole forward passes side
    by side waste less than one pass spread over all cores, and while this thread stores a
    document's chunks (in one transaction, as soon as all are embedded) the others go on.
    """
    report = IndexReport()
    plans: list[_Plan] = []
    documents = Document.objects.filter(pk__in=document_ids).select_related("collection").order_by("pk")
    count = documents.count()
    for number, document in enumerate(documents.iterator(chunk_size=200), start=1):
        try:
            collection = document.collection
            model = embedder(collection.embedding_model)
            specs = _chunk(document, model)
        except ApplicationError as exc:
            _fail(document, str(exc), report)
        else:
            Document.objects.filter(pk=document.pk).update(
                status=DocumentStatus.PROCESSING,
                language=detect(" ".join([document.title, *(spec.text for spec in specs[:LANGUAGE_SAMPLE])])),
                chunks_total=len(specs),
                chunks_done=0,
                error="",
                updated_at=timezone.now(),
            )
            plans.append(_Plan(document, (model.name, collection.second_embedding_model), specs))
        if on_progress:
            on_progress(CHUNKING, number, count)
    model_changed = _embed_and_store(plans, report, on_progress) if plans else []
    if model_changed:
        # The collection was re-embedded meanwhile: index again with its model now.
        again = documents_index(model_changed)
        report.indexed += again.indexed
        report.chunks += again.chunks
        report.failed.update(again.failed)
    return report


def _embed_and_store(plans: list[_Plan], report: IndexReport, on_progress: Progress | None) -> list[int]:
    """Embed on other threads, store here; the documents whose collection changed model."""
    threads = 1 if embedder(plans[0].models[0]).device == "cuda" else cpu_threads()
    total = sum(plan.waiting for plan in plans)
    embedded = unsaved = 0
    touched: set[_Plan] = set()
    model_changed: list[int] = []
    if on_progress:
        on_progress(EMBEDDING, 0, total)
    for item in threaded(
        _embed,
        _windows(plans, threads),
        threads=threads,
        waiting=threads * INDEX_WINDOW // settings.EMBEDDING_BATCH_SIZE,
        name="embedding",
        start=one_torch_thread if threads > 1 else None,
    ):
        if item.error:
            for plan in {plan for plan, _, _ in item.window.chunks if not plan.failed}:
                plan.failed = True
                _fail(plan.document, item.error, report)
            continue
        for index, vector in zip(item.indices, item.vectors, strict=True):
            plan, slot, position = item.window.chunks[index]
            plan.vectors[slot][position] = vector
            plan.waiting -= 1
            touched.add(plan)
            if not plan.waiting and not plan.failed:
                _store(plan, report, model_changed)
        embedded += len(item.indices)
        unsaved += len(item.indices)
        if unsaved >= PROGRESS_EVERY:  # a document's last chunks are saved with it
            _save_progress([plan for plan in touched if plan.waiting and not plan.failed])
            touched.clear()
            unsaved = 0
        if on_progress:
            on_progress(EMBEDDING, embedded, total)
    return model_changed


def _save_progress(plans: list[_Plan]) -> None:
    """The chunks embedded so far, and when (the stale-work sweep reads `updated_at`)."""
    now = timezone.now()
    Document.objects.bulk_update(
        [
            Document(
                pk=plan.document.pk,
                chunks_done=plan.chunks_done,
                updated_at=now,
            )
            for plan in plans
        ],
        ["chunks_done", "updated_at"],
    )


def documents_requeue_stale() -> int:
    """Send indexing again for documents left pending or processing without progress for longer
    than INGEST_REQUEUE_AFTER_S (a message lost with a killed worker that had prefetched it, a
    worker killed mid-document); indexing twice is safe (a newer version wins)."""
    cutoff = timezone.now() - timedelta(seconds=settings.INGEST_REQUEUE_AFTER_S)
    return resend_stale(
        Document.objects.filter(
            status__in=[DocumentStatus.PENDING, DocumentStatus.PROCESSING], updated_at__lt=cutoff
        ),
        document_index_later,
        logger=logger,
        message="re-sent indexing of %d stalled document(s)",
        stamp="updated_at",
    )


def _store(plan: _Plan, report: IndexReport, model_changed: list[int]) -> None:
    try:
        written = _write(plan)
    except _ModelChanged:
        model_changed.append(plan.document.pk)
        return
    except Exception as exc:  # noqa: BLE001 - the transaction rolled back; the old version stands
        _fail(plan.document, f"storing the chunks failed: {exc}", report)
        return
    if written:
        report.indexed += 1
        report.chunks += len(plan.specs)

"""Writes to the knowledge base: collections, document submission, indexing, re-embedding."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import groupby
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone
from pgvector import Vector

from assistant.core.background import threaded
from assistant.core.errors import ApplicationError
from assistant.core.hf import cpu_threads, one_torch_thread
from assistant.db.vectors import vector_connection
from assistant.knowledge.chunking import ChunkSpec, chunk_blocks
from assistant.knowledge.embedding import Embedder, embedder
from assistant.knowledge.models import Chunk, Collection, Document, DocumentStatus, LexiconState
from assistant.knowledge.parsers import Block, ParsedDocument, RejectedFile, parse_file

logger = logging.getLogger("finassist.knowledge")

# Chunks embedded together, at most: small documents share batches.
INDEX_WINDOW = 256
# Chunks embedded between two saves of the documents' progress.
PROGRESS_EVERY = 64


def collection_get_or_create(
    *, name: str, description: str = "", reader_groups: Iterable[str] = ()
) -> Collection:
    collection, created = Collection.objects.get_or_create(
        name=name, defaults={"description": description, "embedding_model": settings.EMBEDDING_MODEL}
    )
    groups = list(Group.objects.filter(name__in=list(reader_groups)))
    if groups:
        collection.reader_groups.add(*groups)
    if created:
        logger.info("collection %s created (embedding model %s)", name, collection.embedding_model)
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
    upload: bytes | None = None,
    effective_from: date | None = None,
    effective_to: date | None = None,
    metadata: dict[str, Any] | None = None,
    enqueue: bool = True,
) -> Submission:
    """Create or update a document; new content becomes a new version to index.

    The same title and content again changes nothing but the metadata and effective
    period (a failed document is retried). Until the new version is indexed, searches
    keep finding the previous one.
    """
    if effective_from and effective_to and effective_to < effective_from:
        raise ApplicationError(f"{parsed.external_id}: the effective period ends before it starts")
    checksum = _checksum(parsed.title, parsed.blocks)
    details = {
        "effective_from": effective_from,
        "effective_to": effective_to,
        "metadata": {**parsed.metadata, **(metadata or {})},
    }
    with transaction.atomic():
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
        if upload is not None:
            document.file.save(parsed.external_id.rsplit("/", 1)[-1], ContentFile(upload), save=False)
        document.save()
        if enqueue:
            from assistant.knowledge.tasks import document_index_task

            document_id = document.id
            transaction.on_commit(lambda: document_index_task.delay(document_id))
    return Submission(document, changed=True)


def document_reindex(*, document: Document) -> None:
    """Chunk and embed a document again from its stored text (after a chunking change, say)."""
    from assistant.knowledge.tasks import document_index_task

    Document.objects.filter(pk=document.pk).update(status=DocumentStatus.PENDING, error="")
    document_id = document.pk
    transaction.on_commit(lambda: document_index_task.delay(document_id))


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
    for name, data in files:
        try:
            parsed_documents = parse_file(name, data, max_bytes=settings.UPLOAD_MAX_BYTES)
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
                    upload=data if single else None,
                    metadata=metadata,
                    effective_from=effective_from,
                    effective_to=effective_to,
                    enqueue=enqueue,
                )
            )
    return report


@dataclass
class IndexReport:
    indexed: int = 0
    chunks: int = 0
    failed: dict[str, str] = field(default_factory=dict)


@dataclass(eq=False)
class _Plan:
    """A document's chunks, and their vectors as the embedding threads hand them over."""

    document: Document
    model: str
    specs: list[ChunkSpec]
    vectors: list[Any] = field(init=False)
    waiting: int = field(init=False)
    failed: bool = False

    def __post_init__(self) -> None:
        self.vectors = [None] * len(self.specs)
        self.waiting = len(self.specs)


def _chunk(document: Document, model: Embedder) -> list[ChunkSpec]:
    blocks = [Block.from_dict(block) for block in document.content]
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
    "effective_from": "date",
    "effective_to": "date",
}


def _copy_chunks(document: Document, plan: _Plan) -> None:
    """Insert the chunks by binary COPY: a third less time than INSERT statements, whose
    vectors Python writes out as text and the server parses back (measured here)."""
    raw = vector_connection()
    with (
        raw.cursor() as cursor,
        cursor.copy(
            f"COPY {Chunk._meta.db_table} ({', '.join(_CHUNK_COLUMNS)}) FROM STDIN WITH (FORMAT BINARY)"
        ) as copy,
    ):
        copy.set_types(list(_CHUNK_COLUMNS.values()))
        for spec, vector in zip(plan.specs, plan.vectors, strict=True):
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
                    plan.model,
                    document.effective_from,
                    document.effective_to,
                )
            )


def _write(plan: _Plan) -> bool:
    """Replace a document's chunks in one transaction; False when a newer version came in."""
    document = plan.document
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Shares with other indexing; waits for (and is waited on by) a re-embed's switch.
            cursor.execute(
                "SELECT embedding_model FROM knowledge_collection WHERE id = %s FOR SHARE",
                [document.collection_id],
            )
            (model,) = cursor.fetchone()
        if model != plan.model:
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
    """Chunks embedded together (the embedder batches them by length): (plan, position)
    pairs of one model."""

    model: str
    chunks: list[tuple[_Plan, int]]


def _windows(plans: list[_Plan], threads: int) -> list[_Window]:
    """The plans' chunks in windows of up to INDEX_WINDOW, small enough that every thread
    gets one; a document may span windows, and a window documents."""
    windows = []
    for model, same_model in groupby(sorted(plans, key=lambda plan: plan.model), key=lambda plan: plan.model):
        chunks = [(plan, position) for plan in same_model for position in range(len(plan.specs))]
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
    texts = [plan.specs[position].embedding_input for plan, position in window.chunks]
    try:
        for indices, vectors in embedder(window.model).embed_batches(texts):
            yield _Embedded(window, indices, vectors)
    except Exception as exc:  # noqa: BLE001 - recorded on each document of the window
        yield _Embedded(window, [], error=f"embedding failed: {exc}")


Progress = Callable[[int, int], None]
"""Called with (chunks embedded so far, chunks in all)."""


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
    for document in documents.iterator(chunk_size=200):
        try:
            model = embedder(document.collection.embedding_model)
            specs = _chunk(document, model)
        except ApplicationError as exc:
            _fail(document, str(exc), report)
            continue
        Document.objects.filter(pk=document.pk).update(
            status=DocumentStatus.PROCESSING, chunks_total=len(specs), chunks_done=0, error=""
        )
        plans.append(_Plan(document, model.name, specs))
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
    threads = 1 if embedder(plans[0].model).device == "cuda" else cpu_threads()
    total = sum(len(plan.specs) for plan in plans)
    embedded = unsaved = 0
    touched: set[_Plan] = set()
    model_changed: list[int] = []
    for item in threaded(
        _embed,
        _windows(plans, threads),
        threads=threads,
        waiting=threads * INDEX_WINDOW // settings.EMBEDDING_BATCH_SIZE,
        name="embedding",
        start=one_torch_thread if threads > 1 else None,
    ):
        if item.error:
            for plan in {plan for plan, _ in item.window.chunks if not plan.failed}:
                plan.failed = True
                _fail(plan.document, item.error, report)
            continue
        for index, vector in zip(item.indices, item.vectors, strict=True):
            plan, position = item.window.chunks[index]
            plan.vectors[position] = vector
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
            on_progress(embedded, total)
    return model_changed


def _save_progress(plans: list[_Plan]) -> None:
    Document.objects.bulk_update(
        [Document(pk=plan.document.pk, chunks_done=len(plan.specs) - plan.waiting) for plan in plans],
        ["chunks_done"],
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


@dataclass(frozen=True)
class ReembedReport:
    collection: str
    previous_model: str
    model: str
    chunks: int


def collection_reembed(
    *, collection: Collection, model_name: str, on_progress: Progress | None = None
) -> ReembedReport:
    """Move a collection's chunks to another embedding model in one switch.

    New vectors are computed into a staging table while searches go on with the old
    ones; then one transaction, holding the collection row against concurrent indexing,
    writes them all (and embeds any chunk written meanwhile) and records the new model.
    A search sees either every vector of the old model or every vector of the new one.
    """
    model = embedder(model_name)
    previous = collection.embedding_model
    total = Chunk.objects.filter(collection=collection).count()
    staged = 0
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS knowledge_reembed_staging "
            f"(chunk_id bigint PRIMARY KEY, embedding vector({model.dimensions}))"
        )
        cursor.execute("TRUNCATE knowledge_reembed_staging")

    def stage(chunks: list[tuple[int, str, str]]) -> None:
        vectors = model.embed([f"{heading}\n{text}" for _, heading, text in chunks])
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO knowledge_reembed_staging VALUES (%s, %s::vector) "
                "ON CONFLICT (chunk_id) DO UPDATE SET embedding = EXCLUDED.embedding",
                [
                    (chunk_id, Vector(vector).to_text())
                    for (chunk_id, _, _), vector in zip(chunks, vectors, strict=True)
                ],
            )
        nonlocal staged
        staged += len(chunks)
        if on_progress:
            on_progress(staged, max(total, staged))

    last = 0
    page_size = settings.EMBEDDING_BATCH_SIZE * 8
    while True:
        page = list(
            Chunk.objects.filter(collection=collection, pk__gt=last)
            .order_by("pk")
            .values_list("pk", "heading", "text")[:page_size]
        )
        if not page:
            break
        stage(page)
        last = page[-1][0]
    with transaction.atomic():
        locked = Collection.objects.select_for_update().get(pk=collection.pk)
        with connection.cursor() as cursor:
            # Chunks written since they were staged: a document indexed meanwhile.
            cursor.execute(
                "SELECT c.id, c.heading, c.text FROM knowledge_chunk c WHERE c.collection_id = %s "
                "AND NOT EXISTS (SELECT 1 FROM knowledge_reembed_staging s WHERE s.chunk_id = c.id)",
                [locked.pk],
            )
            missing = cursor.fetchall()
        if missing:
            stage(missing)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE knowledge_chunk c SET embedding = s.embedding, embedding_model = %s "
                "FROM knowledge_reembed_staging s WHERE c.id = s.chunk_id AND c.collection_id = %s",
                [model.name, locked.pk],
            )
            count = cursor.rowcount
            cursor.execute("TRUNCATE knowledge_reembed_staging")
        locked.embedding_model = model.name
        locked.save(update_fields=["embedding_model", "updated_at"])
    logger.info(
        "collection %s re-embedded: %s -> %s (%d chunks)", collection.name, previous, model.name, count
    )
    return ReembedReport(collection.name, previous, model.name, count)


def lexicon_refresh(*, force: bool = False) -> list[str]:
    """Rebuild the word counts of full-text search for each collection whose chunks changed.

    Searches keep reading a collection's previous counts until its rebuild commits.
    Returns the names of the collections rebuilt.
    """
    rebuilt = []
    for collection in Collection.objects.all():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*), coalesce(max(id), 0), coalesce(sum(token_count), 0) FROM knowledge_chunk "
                "WHERE collection_id = %s",
                [collection.pk],
            )
            total, last, tokens = cursor.fetchone()
        state, _ = LexiconState.objects.get_or_create(collection=collection)
        if not force and (state.chunks, state.last_chunk_id) == (total, last):
            continue
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM knowledge_lexeme WHERE collection_id = %s", [collection.pk])
            cursor.execute(
                "INSERT INTO knowledge_lexeme (collection_id, lexeme, chunks) SELECT %s, word, ndoc "
                "FROM ts_stat(format('SELECT search_vector FROM knowledge_chunk WHERE collection_id = %%s', "
                "%s::bigint))",
                [collection.pk, collection.pk],
            )
            state.chunks, state.last_chunk_id, state.tokens = total, last, tokens
            state.refreshed_at = timezone.now()
            state.save()
        rebuilt.append(collection.name)
        logger.info("lexicon of %s rebuilt from %d chunks", collection.name, total)
    return rebuilt

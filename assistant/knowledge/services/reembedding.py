"""Re-embedding: a collection's chunks moved to another embedding model in one switch."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from pgvector import Vector

from assistant.core.errors import ApplicationError
from assistant.knowledge.embedding import embedder
from assistant.knowledge.models import Chunk, Collection
from assistant.knowledge.services.indexing import EMBEDDING, Progress
from assistant.training.models import ModelVersion

logger = logging.getLogger("finassist.knowledge")


@dataclass(frozen=True)
class ReembedReport:
    collection: str
    previous_model: str
    model: str
    chunks: int


def collection_reembed(
    *,
    collection: Collection,
    model_name: str,
    second: bool = False,
    version: ModelVersion | None = None,
    on_progress: Progress | None = None,
) -> ReembedReport:
    """Move a collection's chunks to another embedding model in one switch; `second`: its second
    model's vectors (an empty name removes them). `version`: the retrieval task's version whose
    tuned model `model_name` is (None: a stock model), recorded with the switch.

    New vectors are computed into a staging table while searches go on with the old
    ones; then one transaction, holding the collection row against concurrent indexing,
    writes them all (and embeds any chunk written meanwhile) and records the new model.
    A search sees either every vector of the old model or every vector of the new one.
    """
    slot = "second_embedding" if second else "embedding"
    previous = getattr(collection, f"{slot}_model")
    if model_name == (collection.second_embedding_model if not second else collection.embedding_model):
        raise ApplicationError(f"{collection.name} is embedded with {model_name} already", field="model")
    if second and not model_name:
        return _second_removed(collection, previous)
    model = embedder(model_name)
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
            on_progress(EMBEDDING, staged, max(total, staged))

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
                f"UPDATE knowledge_chunk c SET {slot} = s.embedding, {slot}_model = %s "
                "FROM knowledge_reembed_staging s WHERE c.id = s.chunk_id AND c.collection_id = %s",
                [model.name, locked.pk],
            )
            count = cursor.rowcount
            cursor.execute("TRUNCATE knowledge_reembed_staging")
        setattr(locked, f"{slot}_model", model.name)
        fields = [f"{slot}_model", "updated_at"]
        if not second:
            locked.embedding_version = version
            fields.append("embedding_version")
        locked.save(update_fields=fields)
    logger.info(
        "collection %s re-embedded (%s): %s -> %s (%d chunks)",
        collection.name,
        slot,
        previous,
        model.name,
        count,
    )
    return ReembedReport(collection.name, previous, model.name, count)


def _second_removed(collection: Collection, previous: str) -> ReembedReport:
    with transaction.atomic():
        locked = Collection.objects.select_for_update().get(pk=collection.pk)
        count = Chunk.objects.filter(collection=locked).update(
            second_embedding=None, second_embedding_model=""
        )
        locked.second_embedding_model = ""
        locked.save(update_fields=["second_embedding_model", "updated_at"])
    logger.info("collection %s: second embedding model %s removed", collection.name, previous)
    return ReembedReport(collection.name, previous, "", count)

"""Labelled examples embedded in pgvector, for the techniques that retrieve them (knn and icl).

An index belongs to the version that made it; a person can add examples (and labels) to it later,
and the next prediction uses them. Search is exact within one index.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.db import connection, transaction

from assistant.db.vectors import vector_connection
from assistant.training.models import ExampleIndex, IndexedExample
from assistant.training.registry import Example

QUERY_BATCH = 256
COPY = (
    f"COPY {IndexedExample._meta.db_table} (index_id, text, label, embedding, added_by_id, added_at) "
    "FROM STDIN"
)
NEAREST = f"""
SELECT q.ord, n.label, n.text, 1 - n.distance
FROM unnest(%s::vector[]) WITH ORDINALITY AS q(v, ord)
CROSS JOIN LATERAL (
    SELECT label, text, embedding <=> q.v AS distance
    FROM {IndexedExample._meta.db_table}
    WHERE index_id = %s
    ORDER BY embedding <=> q.v
    LIMIT %s
) AS n
ORDER BY q.ord, n.distance
"""


@dataclass(frozen=True)
class Neighbours:
    """For each query, its nearest examples, nearest first (fewer where the index is smaller)."""

    labels: list[list[str]]
    texts: list[list[str]]
    similarities: list[list[float]]


def index_create(
    *, task: str, encoder: str, labels: Sequence[str], examples: Sequence[Example], vectors: np.ndarray
) -> ExampleIndex:
    with transaction.atomic():
        index = ExampleIndex.objects.create(task=task, encoder=encoder, labels=list(labels))
        examples_insert(index, examples, vectors, user_id=None)
    return index


def examples_insert(
    index: ExampleIndex, examples: Sequence[Example], vectors: np.ndarray, *, user_id: int | None
) -> None:
    """Store embedded examples in `index` (COPY: thousands a second)."""
    from django.utils import timezone

    now = timezone.now()
    with vector_connection().cursor() as cursor, cursor.copy(COPY) as copy:
        copy.set_types(["int8", "text", "text", "vector", "int8", "timestamptz"])
        for example, vector in zip(examples, vectors, strict=True):
            copy.write_row((index.pk, example.text, example.label, vector, user_id, now))


def nearest(index_id: int, vectors: np.ndarray, k: int) -> Neighbours:
    labels: list[list[str]] = [[] for _ in range(len(vectors))]
    texts: list[list[str]] = [[] for _ in range(len(vectors))]
    similarities: list[list[float]] = [[] for _ in range(len(vectors))]
    raw = vector_connection()
    with raw.cursor() as cursor:
        for start in range(0, len(vectors), QUERY_BATCH):
            chunk = list(vectors[start : start + QUERY_BATCH])
            cursor.execute(NEAREST, (chunk, index_id, k))
            for ordinal, label, text, similarity in cursor.fetchall():
                row = start + ordinal - 1
                labels[row].append(label)
                texts[row].append(text)
                similarities[row].append(float(similarity))
    return Neighbours(labels, texts, similarities)


def index_bytes(index_id: int) -> int:
    """What the index's examples take in the table (their rows' stored size)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT coalesce(sum(pg_column_size(e.*)), 0) FROM {IndexedExample._meta.db_table} e "
            "WHERE index_id = %s",
            [index_id],
        )
        return int(cursor.fetchone()[0])


def index_labels(index_id: int) -> list[str]:
    return list(ExampleIndex.objects.values_list("labels", flat=True).get(pk=index_id))

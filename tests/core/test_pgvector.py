"""pgvector is really there: a vector(384) column, an HNSW index, ordered neighbours."""

import numpy as np
import pytest
from django.db import connection

DIM = 384


def _literal(vector: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.6f}" for x in vector) + "]"


@pytest.fixture
def items():
    """Vectors at a growing angle from a query vector, among unrelated random ones."""
    rng = np.random.default_rng(7)
    query = rng.normal(size=DIM)
    query /= np.linalg.norm(query)
    across = rng.normal(size=DIM)
    across -= across.dot(query) * query
    across /= np.linalg.norm(across)
    near = {i: np.cos(0.05 * i) * query + np.sin(0.05 * i) * across for i in range(1, 11)}
    far = {100 + i: v for i, v in enumerate(rng.normal(size=(300, DIM)))}
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE items (id int PRIMARY KEY, embedding vector({DIM}))")
        cursor.executemany(
            "INSERT INTO items (id, embedding) VALUES (%s, %s::vector)",
            [(i, _literal(v)) for i, v in {**near, **far}.items()],
        )
        cursor.execute("CREATE INDEX ON items USING hnsw (embedding vector_cosine_ops)")
        cursor.execute("ANALYZE items")
    return query


@pytest.mark.django_db
def test_hnsw_nearest_neighbours_come_back_in_order_of_cosine_distance(items):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql = "SELECT id FROM items ORDER BY embedding <=> %s::vector LIMIT 5"
        cursor.execute("EXPLAIN " + sql, [_literal(items)])
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute(sql, [_literal(items)])
        ids = [row[0] for row in cursor.fetchall()]

    assert "items_embedding_idx" in plan, plan
    assert ids == [1, 2, 3, 4, 5]


@pytest.mark.django_db
def test_the_vector_extension_is_installed_by_migration():
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        (version,) = cursor.fetchone()

    assert version == "0.8.6"

"""Hybrid retrieval: pgvector HNSW and PostgreSQL full text, fused by reciprocal rank.

One SQL statement finds the vector candidates (per embedding model in use), the full-text
candidates, fuses them and fetches the winners; access, collection, effective-date and
metadata filters are conditions of that statement, so a chunk a reader may not see is
never selected. Every result carries its score parts.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any, Literal, Protocol

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string
from pgvector import Vector

from assistant.core.errors import ApplicationError
from assistant.knowledge.embedding import embedder
from assistant.knowledge.models import SEARCH_CONFIG, Collection

Mode = Literal["hybrid", "vector", "lexical"]
MAX_K = 100


@dataclass(frozen=True)
class Reader:
    """Whose access a search runs with."""

    user_id: int | None
    all_collections: bool = False

    @classmethod
    def of(cls, user: AbstractBaseUser | AnonymousUser) -> Reader:
        if not user.is_authenticated:
            return cls(user_id=None)
        return cls(user_id=user.pk, all_collections=user.has_perm("knowledge.read_all_collections"))

    @classmethod
    def system(cls) -> Reader:
        """Trusted back-end work (evaluation, scheduled jobs): every collection."""
        return cls(user_id=None, all_collections=True)


def readable_collections(reader: Reader) -> QuerySet[Collection]:
    if reader.all_collections:
        return Collection.objects.all()
    if reader.user_id is None:
        return Collection.objects.none()
    return Collection.objects.filter(
        Q(reader_users__id=reader.user_id) | Q(reader_groups__user__id=reader.user_id)
    ).distinct()


@dataclass(frozen=True)
class ScoreParts:
    vector_similarity: float | None
    vector_rank: int | None
    lexical_score: float | None
    lexical_rank: int | None
    fused: float


@dataclass(frozen=True)
class SearchResult:
    chunk_id: int
    document_id: int
    collection: str
    external_id: str
    title: str
    version: int
    heading: str
    page: int | None
    text: str
    score: float
    parts: ScoreParts


@dataclass
class SearchResponse:
    results: list[SearchResult]
    collections: list[str]
    timings_ms: dict[str, float] = field(default_factory=dict)


class Reranker(Protocol):
    def pool(self, k: int) -> int:
        """How many fused results to hand to `rerank` for a final top k."""

    def rerank(self, query: str, results: list[SearchResult]) -> list[SearchResult]: ...


class NoReranker:
    """The default: fused order stands."""

    def pool(self, k: int) -> int:
        return k

    def rerank(self, query: str, results: list[SearchResult]) -> list[SearchResult]:
        return results


@cache
def reranker() -> Reranker:
    return import_string(settings.SEARCH_RERANKER)()


def _filters(alias: str, *, metadata: dict[str, Any] | None) -> str:
    conditions = [
        f"({alias}.effective_from IS NULL OR {alias}.effective_from <= %(as_of)s)",
        f"({alias}.effective_to IS NULL OR {alias}.effective_to >= %(as_of)s)",
    ]
    if metadata:
        conditions.append(
            f"{alias}.document_id IN "
            "(SELECT id FROM knowledge_document WHERE metadata @> %(metadata)s::jsonb)"
        )
    return " AND ".join(conditions)


def _vector_cte(index: int, filters: str) -> str:
    # relaxed_order iterative scans may return near-ties out of order: rank afterwards.
    return f"""
    vec{index} AS MATERIALIZED (
        SELECT id, row_number() OVER (ORDER BY distance, id) AS rank, 1 - distance AS similarity
        FROM (
            SELECT c.id, c.embedding <=> %(vector{index})s::vector AS distance
            FROM knowledge_chunk c
            WHERE c.collection_id = ANY(%(collections{index})s) AND c.embedding_model = %(model{index})s
              AND {filters}
            ORDER BY c.embedding <=> %(vector{index})s::vector
            LIMIT %(candidates)s
        ) nearest
    )"""


def _lexical_ctes(filters: str) -> list[str]:
    """Full text weighted by rarity: each query word scores ts_rank times its IDF.

    Candidates are the chunks holding any of the rarest query words, taken rarest first
    while their chunk counts stay within the budget, so a common word never makes the
    search rank a large part of the table.
    """
    return [
        f"""
    terms AS MATERIALIZED (
        SELECT t.lexeme, quote_literal(t.lexeme)::tsquery AS query, coalesce(s.chunks, 0) AS chunks,
               coalesce(s.idf, (SELECT unknown_idf FROM knowledge_lexiconstate WHERE id = 1), 1.0) AS idf
        FROM unnest(tsvector_to_array(to_tsvector('{SEARCH_CONFIG}', %(text)s))) AS t(lexeme)
        LEFT JOIN knowledge_lexeme s ON s.lexeme = t.lexeme
    )""",
        """
    matching AS MATERIALIZED (
        SELECT string_agg(quote_literal(lexeme), ' | ')::tsquery AS query
        FROM (
            SELECT lexeme, row_number() OVER w AS n, sum(chunks) OVER w AS chunks_so_far
            FROM terms WINDOW w AS (ORDER BY idf DESC, lexeme)
        ) rarest
        WHERE n = 1 OR chunks_so_far <= %(lexical_budget)s
    )""",
        f"""
    lex AS MATERIALIZED (
        SELECT id, row_number() OVER (ORDER BY score DESC, id) AS rank, score
        FROM (
            SELECT c.id,
                   (SELECT sum(t.idf * ts_rank('{{1,1,1,1}}', c.search_vector, t.query, 1)) FROM terms t)
                     AS score
            FROM knowledge_chunk c, matching m
            WHERE c.search_vector @@ m.query AND c.collection_id = ANY(%(all_collections)s)
              AND {filters}
            ORDER BY score DESC
            LIMIT %(candidates)s
        ) matched
    )""",
    ]


# Stands in for a side that is switched off, with the columns the final join reads.
_NO_ROWS = (
    "SELECT NULL::bigint AS id, NULL::bigint AS rank, "
    "NULL::float AS similarity, NULL::real AS score WHERE false"
)


def _statement(groups: int, *, lexical: bool, vector: bool, metadata: dict[str, Any] | None) -> str:
    filters = _filters("c", metadata=metadata)
    ctes = [_vector_cte(index, filters) for index in range(groups)] if vector else []
    parts = [
        f"SELECT id, %(vector_weight)s / (%(rrf_k)s + rank) AS part FROM vec{i}" for i in range(len(ctes))
    ]
    vector_union = " UNION ALL ".join(f"SELECT id, rank, similarity FROM vec{i}" for i in range(len(ctes)))
    ctes.append(f"vec AS ({vector_union or _NO_ROWS})")
    if lexical:
        ctes.extend(_lexical_ctes(filters))
        parts.append("SELECT id, %(lexical_weight)s / (%(rrf_k)s + rank) AS part FROM lex")
    else:
        ctes.append(f"lex AS ({_NO_ROWS})")
    ctes.append(
        f"""
    fused AS (
        SELECT id, sum(part) AS fused FROM ({" UNION ALL ".join(parts)}) scored
        GROUP BY id ORDER BY fused DESC, id LIMIT %(k)s
    )"""
    )
    return (
        "WITH "
        + ",".join(ctes)
        + """
    SELECT f.id, c.document_id, col.name, d.external_id, d.title, d.version, c.heading, c.page, c.text,
           f.fused, v.similarity, v.rank, l.score, l.rank
    FROM fused f
    JOIN knowledge_chunk c ON c.id = f.id
    JOIN knowledge_document d ON d.id = c.document_id
    JOIN knowledge_collection col ON col.id = c.collection_id
    LEFT JOIN vec v ON v.id = f.id
    LEFT JOIN lex l ON l.id = f.id
    ORDER BY f.fused DESC, f.id"""
    )


def knowledge_search(
    *,
    reader: Reader,
    query: str,
    k: int = 10,
    collections: list[str] | None = None,
    metadata: dict[str, Any] | None = None,
    as_of: date | None = None,
    mode: Mode = "hybrid",
    lexical_weight: float | None = None,
    rrf_k: int | None = None,
) -> SearchResponse:
    """The top `k` chunks for `query` among the collections the reader may read.

    `collections` narrows the search to those names; one the reader may not read is
    reported exactly like one that does not exist.
    """
    started = time.perf_counter()
    query = " ".join(query.split())
    if not query:
        raise ApplicationError("the query is empty", field="query")
    if not 1 <= k <= MAX_K:
        raise ApplicationError(f"k must be between 1 and {MAX_K}", field="k")
    allowed = readable_collections(reader)
    if collections is not None:
        allowed = allowed.filter(name__in=collections)
    found: list[str] = []
    ids_by_model: dict[str, list[int]] = {}
    for pk, name, model in allowed.values_list("pk", "name", "embedding_model"):
        found.append(name)
        ids_by_model.setdefault(model, []).append(pk)
    unknown = sorted(set(collections or ()) - set(found))
    if unknown:
        raise ApplicationError(
            f"no such collection, or no access to it: {', '.join(unknown)}", field="collections"
        )
    timings: dict[str, float] = {}
    if not found:
        return SearchResponse([], [], {"total": _ms_since(started)})

    weight = settings.SEARCH_LEXICAL_WEIGHT if lexical_weight is None else lexical_weight
    use_vector = mode != "lexical"
    use_lexical = mode == "lexical" or (mode == "hybrid" and weight > 0)
    pool = reranker().pool(k)
    params: dict[str, Any] = {
        "text": query,
        "all_collections": [pk for pks in ids_by_model.values() for pk in pks],
        "as_of": as_of or timezone.localdate(),
        "metadata": json.dumps(metadata) if metadata else None,
        "candidates": max(settings.SEARCH_CANDIDATES, pool),
        "k": pool,
        "rrf_k": rrf_k or settings.SEARCH_RRF_K,
        "lexical_budget": settings.SEARCH_LEXICAL_BUDGET,
        "vector_weight": 1.0,
        "lexical_weight": weight if mode == "hybrid" else 1.0,
    }
    if use_vector:
        embed_started = time.perf_counter()
        for index, (model, pks) in enumerate(sorted(ids_by_model.items())):
            (vector,) = embedder(model).embed([query])
            params |= {
                f"vector{index}": Vector(vector).to_text(),
                f"collections{index}": pks,
                f"model{index}": model,
            }
        timings["embed"] = _ms_since(embed_started)
    sql = _statement(len(ids_by_model), lexical=use_lexical, vector=use_vector, metadata=metadata)
    query_started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    timings["query"] = _ms_since(query_started)
    results = [
        SearchResult(
            chunk_id=row[0],
            document_id=row[1],
            collection=row[2],
            external_id=row[3],
            title=row[4],
            version=row[5],
            heading=row[6],
            page=row[7],
            text=row[8],
            score=float(row[9]),
            parts=ScoreParts(
                vector_similarity=None if row[10] is None else float(row[10]),
                vector_rank=row[11],
                lexical_score=None if row[12] is None else float(row[12]),
                lexical_rank=row[13],
                fused=float(row[9]),
            ),
        )
        for row in rows
    ]
    rerank_started = time.perf_counter()
    results = reranker().rerank(query, results)[:k]
    timings["rerank"] = _ms_since(rerank_started)
    timings["total"] = _ms_since(started)
    return SearchResponse(results, sorted(found), timings)


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def configure_connection(sender: Any, connection: Any, **kwargs: Any) -> None:
    """Per-connection vector search settings (connection_created signal)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('hnsw.ef_search', %s, false), "
            "set_config('hnsw.iterative_scan', 'relaxed_order', false)",
            [str(settings.SEARCH_EF)],
        )

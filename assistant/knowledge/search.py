"""Hybrid retrieval: pgvector HNSW and PostgreSQL full text (BM25), fused by their scores.

One SQL statement finds the vector candidates (per embedding model in use) and the
full-text candidates, each with its passage and both scores, and fuses them: similarity
plus a weighted share of the best BM25 score, or, by choice, reciprocal ranks. The
reader's access decides the collections, and so the partitions the statement reads;
effective dates and metadata (resolved in the statement to the matching documents) are
conditions of the statement too, so a chunk a reader may not see is never selected.
Every result carries its score parts.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast
from weakref import WeakKeyDictionary

import numpy as np
import psycopg
from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.module_loading import import_string
from psycopg.types.json import Jsonb

from assistant.core.crosslingual import QueryMap, query_map, word_table
from assistant.core.encoder import languages, similarity_scale
from assistant.core.errors import ApplicationError
from assistant.core.language import LANGUAGES, Language, detect, segmented
from assistant.core.timing import ms_since
from assistant.db.vectors import vector_connection
from assistant.knowledge.embedding import embedder
from assistant.knowledge.models import SEARCH_CONFIG, Collection, Document, LexiconState
from assistant.training.models import ModelVersion

if TYPE_CHECKING:
    from assistant.training.crossencoder import CrossEncoder

Mode = Literal["hybrid", "vector", "lexical"]
# A chunk's vector of its collection's first model, or of its second.
Column = Literal["embedding", "second_embedding"]
QueryEmbedder = Callable[[str, str], "np.ndarray | Sequence[float]"]
"""(embedding model, query text) -> the query's vector for that model."""
MAX_K = 100


@dataclass(frozen=True)
class Reader:
    """Whose access a search runs with."""

    user_id: int | None
    all_collections: bool = False

    @classmethod
    def of(cls, user: User | AnonymousUser) -> Reader:
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
    chosen: Reranker = import_string(settings.SEARCH_RERANKER)()
    return chosen


@dataclass(frozen=True)
class Stage:
    """A collection's reranking: its version and how many of the fused results it reorders."""

    version_id: int
    depth: int


_cross_encoders: dict[int, CrossEncoder] = {}
_cross_encoders_lock = threading.Lock()


def cross_encoder(version_id: int) -> CrossEncoder:
    """The process's cross-encoder of a reranker version, loaded (and its artefact checked) once."""
    from assistant.training.crossencoder import CrossEncoder
    from assistant.training.techniques.artefact import artefact_verify

    with _cross_encoders_lock:
        if version_id not in _cross_encoders:
            version = ModelVersion.objects.get(pk=version_id)
            manifest = artefact_verify(
                Path(version.artefact_path), expected_checksum=version.artefact_checksum
            )
            _cross_encoders[version_id] = CrossEncoder(
                Path(version.artefact_path) / manifest["model"], max_tokens=manifest["max_tokens"]
            )
        return _cross_encoders[version_id]


class CollectionReranker:
    """The search's reranker where a searched collection has a reranker version: each such
    collection's results among the first `depth` fused ones are reordered by its cross-encoder,
    in the places they held."""

    def __init__(self, stages: Mapping[str, Stage]) -> None:
        self.stages = stages

    def pool(self, k: int) -> int:
        return max([k, *(stage.depth for stage in self.stages.values())])

    def rerank(self, query: str, results: list[SearchResult]) -> list[SearchResult]:
        reordered = list(results)
        for collection, stage in self.stages.items():
            places = [i for i, r in enumerate(results[: stage.depth]) if r.collection == collection]
            if len(places) < 2:
                continue
            texts = [f"{results[i].heading}\n{results[i].text}" for i in places]
            scores = cross_encoder(stage.version_id).scores(query, texts)
            ranked = sorted(range(len(places)), key=lambda n: -float(scores[n]))
            for place, chosen in zip(places, ranked, strict=True):
                reordered[place] = results[places[chosen]]
        return reordered


# The columns a candidate carries from its chunk row to the result.
_PASSAGE = "id, collection_id, document_id, heading, page, text"
_PASSAGE_OF_C = "c.id, c.collection_id, c.document_id, c.heading, c.page, c.text"


# Below this many chunks, a metadata filter is answered exactly: the chunks of the matching
# documents, through the document index, sorted by distance. Above it, the HNSW graph walks
# with an iterative scan. The statement holds both paths; the matching documents' chunk
# counts, summed when it runs, decide which one executes (a one-time filter).
EXACT_BELOW = 2000

FilterPath = Literal["exact", "graph"]
"""How the matching documents' chunks are reached; None where no metadata filter applies."""


def _filters(alias: str, *, path: FilterPath | None) -> str:
    conditions = [
        f"({alias}.effective_from IS NULL OR {alias}.effective_from <= %(as_of)s)",
        f"({alias}.effective_to IS NULL OR {alias}.effective_to >= %(as_of)s)",
    ]
    if path == "exact":
        conditions.append(f"{alias}.document_id = ANY((SELECT ids FROM matching_documents)::bigint[])")
    elif path == "graph":
        # "+ 0" keeps the planner off the document index: it would fetch every matching
        # chunk to sort them, where the graph finds the nearest in a few thousand steps.
        conditions.append(f"({alias}.document_id + 0) = ANY((SELECT ids FROM matching_documents)::bigint[])")
    return " AND ".join(conditions)


def _collection_ids(sizes: Sequence[int], group: int | None = None) -> str:
    """The collection ids of one group of the search (or all of them) as a list of parameters.

    The chunk table is partitioned by collection, and the statement is planned once: the
    executor prunes partitions by a list of parameters when it starts, but not by one bound
    array, with which every partition's graph would be walked. The other tables take the
    same list, so a collection is bound once.
    """
    groups = range(len(sizes)) if group is None else (group,)
    return "ARRAY[" + ", ".join(f"%(collection{g}_{n})s" for g in groups for n in range(sizes[g])) + "]"


def _matching_documents(sizes: Sequence[int]) -> str:
    return f"""
    matching_documents AS MATERIALIZED (
        SELECT coalesce(array_agg(id), '{{}}') AS ids,
               coalesce(sum(chunks_total), 0) < %(exact_below)s AS exact
        FROM knowledge_document
        WHERE collection_id = ANY({_collection_ids(sizes)}) AND metadata @> %(metadata)s
    )"""


# BM25 with its usual constants: term frequency saturates at k1, length normalisation b.
BM25_K1 = 1.2
BM25_B = 0.75


def _bm25(alias: str) -> str:
    """The chunk's BM25 score for the query words (NULL when it holds none of them).

    Only the query's words are unnested: they are marked with weight B, which the stored
    vectors never use (headings are A, text D), and the rest filtered out. Each word's idf
    sits at its position in `words.idfs`.
    """
    return f"""(
        SELECT sum(q.idfs[array_position(q.words, u.lexeme)] * u.tf * {BM25_K1 + 1}
                   / (u.tf + {BM25_K1} * ({1 - BM25_B}
                      + {BM25_B} * {alias}.token_count / coalesce(n.mean_tokens, {alias}.token_count))))
        FROM (SELECT lexeme, coalesce(array_length(positions, 1), 1) AS tf
              FROM unnest(ts_filter(setweight({alias}.search_vector, 'B', q.words), '{{b}}'))) u
    )"""


def _nearest(index: int, sizes: Sequence[int], *, column: Column, path: FilterPath | None) -> str:
    # An exact search orders by an expression the HNSW index cannot serve.
    distance = f"c.{column} <=> %(vector{index})b"
    order = f"({distance}) + 0" if path == "exact" else distance
    gate = {
        "exact": "AND (SELECT exact FROM matching_documents)",
        "graph": "AND NOT (SELECT exact FROM matching_documents)",
        None: "",
    }
    return f"""(
            SELECT {_PASSAGE_OF_C}, c.search_vector, c.token_count, {distance} AS distance
            FROM knowledge_chunk c
            WHERE c.collection_id = ANY({_collection_ids(sizes, index)})
              AND c.{column}_model = %(model{index})s
              AND {_filters("c", path=path)} {gate[path]}
            ORDER BY {order}
            LIMIT %(candidates)s
        )"""


def _vector_cte(index: int, sizes: Sequence[int], *, column: Column, metadata: bool, lexical: bool) -> str:
    # relaxed_order iterative scans may return near-ties out of order: rank afterwards.
    score = f"{_bm25('nearest')} AS lexical_score" if lexical else "NULL::float AS lexical_score"
    paths: tuple[FilterPath | None, ...] = ("exact", "graph") if metadata else (None,)
    nearest = " UNION ALL ".join(_nearest(index, sizes, column=column, path=path) for path in paths)
    return f"""
    vec{index} AS MATERIALIZED (
        SELECT {_PASSAGE}, row_number() OVER (ORDER BY distance, id) AS rank,
               %(shift{index})s + (1 - distance) * %(scale{index})s AS similarity,
               {score}
        FROM ({nearest}) nearest{", words q, corpus n" if lexical else ""}
    )"""


def _lexical_ctes(sizes: Sequence[int], filters: str) -> list[str]:
    """Full text: the rarest query words decide which chunks match, BM25 over every word ranks.

    Matching takes query words rarest first (counted in the searched collections) while the
    chunks holding them stay within the budget, so no query scores more than that many
    chunks by full text alone; a query of only common words matches none. Every vector
    candidate is scored too, whatever its words' frequency.
    """
    return [
        f"""
    terms AS MATERIALIZED (
        SELECT t.lexeme,
               coalesce((SELECT sum(s.chunks) FROM knowledge_lexeme s
                         WHERE s.lexeme = t.lexeme AND s.collection_id = ANY({_collection_ids(sizes)})), 0)
                 AS chunks
        FROM unnest(tsvector_to_array(to_tsvector('{SEARCH_CONFIG}', %(text)s))) AS t(lexeme)
    )""",
        f"""
    corpus AS MATERIALIZED (
        SELECT sum(chunks) AS chunks, sum(tokens)::float / nullif(sum(chunks), 0) AS mean_tokens
        FROM knowledge_lexiconstate WHERE collection_id = ANY({_collection_ids(sizes)})
    )""",
        """
    words AS MATERIALIZED (
        SELECT idf.words, idf.idfs,
               (SELECT string_agg(quote_literal(lexeme), ' | ')::tsquery
                FROM (SELECT lexeme, sum(chunks) OVER (ORDER BY chunks, lexeme) AS chunks_so_far
                      FROM terms) rarest
                WHERE chunks_so_far <= %(lexical_budget)s) AS matching
        FROM (SELECT array_agg(t.lexeme ORDER BY t.lexeme) AS words,
                     array_agg(ln(1 + (coalesce(n.chunks, 0) - t.chunks + 0.5) / (t.chunks + 0.5))::float
                               ORDER BY t.lexeme) AS idfs
              FROM terms t, corpus n) idf
    )""",
        f"""
    lex AS MATERIALIZED (
        SELECT {_PASSAGE}, score
        FROM (
            SELECT {_PASSAGE_OF_C}, {_bm25("c")} AS score
            FROM knowledge_chunk c, words q, corpus n
            WHERE c.search_vector @@ q.matching AND c.collection_id = ANY({_collection_ids(sizes)})
              AND {filters}
            ORDER BY score DESC
            LIMIT %(candidates)s
        ) matched
    )""",
    ]


Fusion = Literal["weighted", "rrf"]

_FUSED = {
    # Similarity plus the weighted BM25 score as a share of the best one; a chunk only full
    # text found counts the lowest similarity among the vector candidates.
    "weighted": "coalesce(similarity, min(similarity) OVER ()) "
    "+ %(lexical_weight)s * coalesce(lexical_score / nullif(max(lexical_score) OVER (), 0), 0)",
    "rrf": "coalesce(1.0 / (%(rrf_k)s + vector_rank), 0) "
    "+ %(lexical_weight)s * coalesce(1.0 / (%(rrf_k)s + lexical_rank), 0)",
}


@cache
def _statement(
    sizes: tuple[int, ...],
    *,
    columns: tuple[Column, ...],
    lexical: bool,
    vector: bool,
    metadata: bool,
    fusion: Fusion,
) -> str:
    """The statement for collections in groups of these sizes, one group per embedding model (and
    the vector column it is searched in, and the question's vector).

    Candidates of each side carry their passage, so fusion needs no second chunk lookup.
    """
    ctes = [_matching_documents(sizes)] if metadata else []
    if lexical:
        ctes += _lexical_ctes(sizes, _filters("c", path="exact" if metadata else None))
    sides = []
    if vector:
        ctes += [
            _vector_cte(index, sizes, column=column, metadata=metadata, lexical=lexical)
            for index, column in enumerate(columns)
        ]
        sides += [
            f"SELECT {_PASSAGE}, rank AS vector_rank, similarity, lexical_score FROM vec{index}"
            for index in range(len(sizes))
        ]
    if lexical:
        sides.append(
            f"SELECT {_PASSAGE}, NULL::bigint AS vector_rank, NULL::float AS similarity, "
            "score AS lexical_score FROM lex"
        )
    fused = _FUSED[fusion] if vector and lexical else "similarity" if vector else "lexical_score"
    ctes += [
        f"""
    candidates AS (
        SELECT id, min(collection_id) AS collection_id, min(document_id) AS document_id,
               min(heading) AS heading, min(page) AS page, min(text) AS text,
               max(similarity) AS similarity, min(vector_rank) AS vector_rank,
               max(lexical_score) AS lexical_score
        FROM ({" UNION ALL ".join(sides)}) sides
        GROUP BY id
    )""",
        """
    ranked AS (
        SELECT *, CASE WHEN lexical_score > 0
                       THEN row_number() OVER (ORDER BY lexical_score DESC NULLS LAST, id) END AS lexical_rank
        FROM candidates
    )""",
        f"""
    fused AS (
        SELECT *, {fused} AS fused FROM ranked ORDER BY fused DESC, id LIMIT %(k)s
    )""",
    ]
    return (
        "WITH "
        + ",".join(ctes)
        + """
    SELECT f.id, f.document_id, col.name, d.external_id, d.title, d.version, f.heading, f.page, f.text,
           f.fused, f.similarity, f.vector_rank, f.lexical_score, f.lexical_rank
    FROM fused f
    JOIN knowledge_document d ON d.id = f.document_id
    JOIN knowledge_collection col ON col.id = f.collection_id
    ORDER BY f.fused DESC, f.id"""
    )


@dataclass(frozen=True)
class SearchRequest:
    """What to search for: the text, how many results, and what narrows or tunes the search."""

    query: str
    k: int = 10
    # Names to search; None: every collection the reader may read.
    collections: Sequence[str] | None = None
    # Documents whose metadata contains this (a JSON object).
    metadata: dict[str, Any] | None = None
    # Documents in effect on this date; None: today.
    as_of: date | None = None
    mode: Mode = "hybrid"
    # Fusion settings for this search; None: FINASSIST_SEARCH_LEXICAL_WEIGHT, _FUSION, _RRF_K.
    lexical_weight: float | None = None
    fusion: Fusion | None = None
    rrf_k: int | None = None
    # A question searches documents written in another language through what translates between
    # the two (assistant.core.crosslingual), where it was fitted; False: as it was asked.
    translate: bool = True


def knowledge_search(
    *, reader: Reader, request: SearchRequest, embed_query: QueryEmbedder | None = None
) -> SearchResponse:
    """The top `request.k` chunks for `request.query` among the collections the reader may read.

    Collections named that the reader may not read are reported exactly like ones that do not
    exist. `embed_query(model, text)` gives the query's vector for a collection's model (by
    default that model embeds it).
    """
    query, k, collections, metadata = request.query, request.k, request.collections, request.metadata
    started = time.perf_counter()
    query = " ".join(query.split())
    if not query:
        raise ApplicationError("the query is empty", field="query")
    if not 1 <= k <= MAX_K:
        raise ApplicationError(f"k must be between 1 and {MAX_K}", field="k")
    allowed = readable_collections(reader)
    if collections is not None:
        allowed = allowed.filter(name__in=collections)
    language = detect(query)
    found: list[str] = []
    embeddings: dict[int, tuple[str, Column]] = {}
    stages: dict[str, Stage] = {}
    largest = 0
    sizes = LexiconState.objects.filter(collection=OuterRef("pk")).values("chunks")
    for pk, name, first, second, reranker_id, depth, chunks in allowed.annotate(
        chunks=Subquery(sizes)
    ).values_list(
        "pk",
        "name",
        "embedding_model",
        "second_embedding_model",
        "reranker_version",
        "rerank_depth",
        "chunks",
    ):
        found.append(name)
        embeddings[pk] = embedding_for(first, second, language)
        largest = max(largest, chunks or 0)
        if reranker_id is not None:
            stages[name] = Stage(reranker_id, depth)
    unknown = sorted(set(collections or ()) - set(found))
    if unknown:
        raise ApplicationError(
            f"no such collection, or no access to it: {', '.join(unknown)}", field="collections"
        )
    timings: dict[str, float] = {}
    if not found:
        return SearchResponse([], [], {"total": ms_since(started)})

    weight = settings.SEARCH_LEXICAL_WEIGHT if request.lexical_weight is None else request.lexical_weight
    use_vector = request.mode != "lexical"
    use_lexical = request.mode == "lexical" or (request.mode == "hybrid" and weight > 0)
    ranker = CollectionReranker(stages) if stages else reranker()
    pool = ranker.pool(k)
    models = {pk: model for pk, (model, _) in embeddings.items()}
    targets = _other_languages(models, language) if request.translate else {}
    maps = {
        pk: mapper for pk, target in targets.items() if (mapper := query_map(models[pk], language, target))
    }
    ids_by_group: dict[tuple[str, Column, QueryMap | None], list[int]] = {}
    for pk, (model, column) in embeddings.items():
        ids_by_group.setdefault((model, column, maps.get(pk)), []).append(pk)
    groups = sorted(ids_by_group.items(), key=lambda group: (*group[0][:2], group[0][2] is not None))
    text = " ".join([segmented(query), *_translated_words(query, language, set(targets.values()))])
    params: dict[str, Any] = {
        "text": text,
        "as_of": request.as_of or timezone.localdate(),
        "metadata": Jsonb(metadata or {}),
        "exact_below": EXACT_BELOW,
        "candidates": max(settings.SEARCH_CANDIDATES, pool),
        "k": pool,
        "rrf_k": request.rrf_k or settings.SEARCH_RRF_K,
        "lexical_budget": settings.SEARCH_LEXICAL_BUDGET,
        "lexical_weight": weight,
    }
    for index, (_, pks) in enumerate(groups):
        params |= {f"collection{index}_{n}": pk for n, pk in enumerate(pks)}
    if use_vector:
        embed_started = time.perf_counter()
        vectors: dict[str, np.ndarray] = {}
        for index, ((model, _, mapped), _) in enumerate(groups):
            if model not in vectors:
                vectors[model] = np.asarray((embed_query or _embed_query)(model, query), dtype=np.float32)
            vector = mapped(vectors[model]) if mapped else vectors[model]
            params |= {
                f"vector{index}": vector,
                f"model{index}": model,
            }
            params[f"scale{index}"], params[f"shift{index}"] = similarity_scale(model)
        timings["embed"] = ms_since(embed_started)
    sql = _statement(
        tuple(len(pks) for _, pks in groups),
        columns=tuple(column for (_, column, _), _ in groups),
        lexical=use_lexical,
        vector=use_vector,
        metadata=bool(metadata),
        fusion=request.fusion or settings.SEARCH_FUSION,
    )
    query_started = time.perf_counter()
    rows = _execute_prepared(sql, params, ef_search=ef_search(largest))
    timings["query"] = ms_since(query_started)
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
    results = ranker.rerank(query, results)[:k]
    timings["rerank"] = ms_since(rerank_started)
    timings["total"] = ms_since(started)
    return SearchResponse(results, sorted(found), timings)


# The ef_search each search connection has set, outside a transaction.
_ef_search_set: WeakKeyDictionary[psycopg.Connection[Any], int | None] = WeakKeyDictionary()


def _execute_prepared(sql: str, params: dict[str, Any], *, ef_search: int) -> list[tuple[Any, ...]]:
    """Run the search statement bound and prepared on the server, with this ef_search.

    Django's cursors bind parameters on the client, so every query would be planned afresh
    and its vector written and parsed as a literal of kilobytes; bound on the server, the vector
    goes in binary and planning is done once per connection. ef_search, when it must be
    set, goes in the same round trip. What was set outside a transaction stays set; inside
    one, a rollback would take it back, so it is not taken as set there.
    """
    raw = vector_connection()
    idle = raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    unset = not idle or _ef_search_set.get(raw) != ef_search
    # Django turns psycopg's statement preparing off for its own queries; on for this one.
    threshold, raw.prepare_threshold = raw.prepare_threshold, 0
    try:
        with raw.pipeline() if unset else nullcontext(), psycopg.Cursor(raw) as cursor:
            if unset:
                raw.execute("SELECT set_config('hnsw.ef_search', %s, false)", [str(ef_search)])
                _ef_search_set[raw] = ef_search if idle else None
            cursor.execute(sql, params, prepare=True)
            return cursor.fetchall()
    finally:
        raw.prepare_threshold = threshold


# Above this many chunks in a collection, its graph needs a wider walk for the same recall.
EF_BASE_CHUNKS = 100_000


def ef_search(chunks: int) -> int:
    """HNSW ef_search for a search whose largest collection holds `chunks` chunks.

    Recall at a given ef_search falls as a graph grows, and a wider walk costs a small
    graph the most (bench/retrieval.py --ef-sweep; docs/retrieval.md). So FINASSIST_SEARCH_EF
    up to EF_BASE_CHUNKS, growing with the logarithm of the size beyond: twice as wide at a
    million.
    """
    return round(settings.SEARCH_EF * ef_widening(chunks))


def ef_widening(chunks: int) -> float:
    """How much wider than FINASSIST_SEARCH_EF the walk is over a graph of `chunks` chunks."""
    return 1 + math.log10(max(1.0, chunks / EF_BASE_CHUNKS))


def embedding_for(first: str, second: str, language: Language) -> tuple[str, Column]:
    """The model, and the chunks' vectors of it, that a question in `language` is searched with:
    the collection's first model unless it does not read the language and the second does."""
    if second and language not in languages(first) and language in languages(second):
        return second, "second_embedding"
    return first, "embedding"


def _other_languages(models: dict[int, str], language: Language) -> dict[int, Language]:
    """The language of each collection whose documents are all written in one other than the
    question's, where something translates the question into it (none is looked up otherwise)."""
    others = [other for other in LANGUAGES if other != language]
    if not any(
        word_table(language, other)
        or any(query_map(model, language, other) for model in set(models.values()))
        for other in others
    ):
        return {}
    written: dict[int, set[str]] = {}
    for pk, document_language in (
        Document.objects.filter(collection_id__in=models).values_list("collection_id", "language").distinct()
    ):
        written.setdefault(pk, set()).add(document_language)
    return {
        pk: cast(Language, next(iter(kinds)))
        for pk, kinds in written.items()
        if len(kinds) == 1 and language not in kinds
    }


def _translated_words(query: str, language: Language, targets: set[Language]) -> list[str]:
    """The question's words in each language it searches documents of, for full-text search."""
    tables = [table for target in sorted(targets) if (table := word_table(language, target))]
    return [word for table in tables for word in table.words(query)]


def _embed_query(model: str, text: str) -> np.ndarray:
    return embedder(model).embed_query(text)


def configure_connection(sender: Any, connection: Any, **kwargs: Any) -> None:
    """Per-connection search settings (connection_created signal).

    Generic plans: the search statement is the only one prepared on the server (Django
    binds its own queries on the client); it is planned once per connection for any
    collections, which are pruned when the plan starts. No parallel workers: a plan made
    for any collections expects many rows from the filtered exact path, and started two
    workers for it on every filtered search (docs/retrieval.md) even where it does not run. Each
    search sets its own ef_search.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('hnsw.iterative_scan', 'relaxed_order', false), "
            "set_config('plan_cache_mode', 'force_generic_plan', false), "
            "set_config('max_parallel_workers_per_gather', '0', false)"
        )

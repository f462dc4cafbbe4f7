import math
from datetime import date, timedelta

import numpy as np
import pytest
from django.db import connection
from pgvector import Vector
from rest_framework.test import APIClient

from assistant.core.errors import ApplicationError
from assistant.knowledge.embedding import embedder
from assistant.knowledge.models import Chunk, Document, LexiconState
from assistant.knowledge.parsers import Block, ParsedDocument
from assistant.knowledge.search import Reader, SearchRequest, ef_search, knowledge_search
from assistant.knowledge.services.indexing import documents_index
from assistant.knowledge.services.submission import collection_get_or_create, document_submit

pytestmark = pytest.mark.django_db


def search(user, query: str, **options):
    return knowledge_search(reader=Reader.of(user), request=SearchRequest(query=query, **options))


def test_results_carry_their_source_and_score_parts(library, personas):
    response = search(personas["alice"], "what is the ongoing charge of the equity fund?")

    top = response.results[0]
    assert (top.collection, top.external_id, top.version) == ("funds", "equity.md", 1)
    assert top.heading == "Equity fund"
    assert top.parts.vector_rank == 1
    assert top.parts.vector_similarity > 0.5
    assert top.parts.lexical_rank is not None
    assert top.parts.lexical_score > 0
    assert top.score == top.parts.fused
    assert set(response.timings_ms) == {"embed", "query", "rerank", "total"}


def test_a_reader_never_receives_chunks_of_a_collection_they_may_not_read(library, personas):
    query = "bond fund charge"

    assert {r.collection for r in search(personas["alice"], query).results} == {"funds"}
    assert {r.collection for r in search(personas["carol"], query).results} == {"private"}
    assert search(personas["dave"], query).results == []
    assert {r.collection for r in search(personas["kim"], query).results} == {"funds", "private"}


def test_a_forbidden_collection_is_reported_like_a_missing_one(library, personas):
    for name in ("private", "no-such-thing"):
        with pytest.raises(ApplicationError) as refused:
            search(personas["alice"], "charge", collections=[name])
        assert refused.value.field == "collections"
        assert refused.value.message == f"no such collection, or no access to it: {name}"


def test_modes_use_one_side_only(library, personas):
    vector = search(personas["kim"], "income from bonds", mode="vector").results
    lexical = search(personas["kim"], "income from bonds", mode="lexical").results

    assert all(r.parts.lexical_rank is None and r.parts.vector_rank for r in vector)
    assert all(r.parts.vector_rank is None and r.parts.lexical_rank for r in lexical)
    assert lexical[0].external_id == "bonds.md"


def test_documents_outside_their_effective_period_are_left_out(personas, index_files):
    rules = collection_get_or_create(name="rules")
    today = date.today()
    index_files(
        rules, [("old.md", b"# Rule\n\nThe transfer limit is 10000.")], effective_to=today - timedelta(days=1)
    )
    index_files(rules, [("now.md", b"# Rule\n\nThe transfer limit is 25000.")], effective_from=today)
    reader = Reader.system()

    current = knowledge_search(
        reader=reader, request=SearchRequest(query="transfer limit", collections=["rules"])
    ).results
    last_year = knowledge_search(
        reader=reader,
        request=SearchRequest(
            query="transfer limit", collections=["rules"], as_of=today - timedelta(days=365)
        ),
    ).results

    assert [r.external_id for r in current] == ["now.md"]
    assert [r.external_id for r in last_year] == ["old.md"]


def test_metadata_filters_documents(personas, index_files):
    notes = collection_get_or_create(name="notes")
    index_files(notes, [("eu.md", b"# Rates\n\nEuro rates fall.")], metadata={"region": "EU"})
    index_files(notes, [("us.md", b"# Rates\n\nDollar rates fall.")], metadata={"region": "US"})

    results = knowledge_search(
        reader=Reader.system(), request=SearchRequest(query="rates", metadata={"region": "US"})
    ).results

    assert [r.external_id for r in results] == ["us.md"]


@pytest.mark.slow
def test_a_selective_filter_still_fills_the_top_k(personas):
    """With a filter matching a small part of the index, iterative HNSW scans keep going."""
    big, small = collection_get_or_create(name="big"), collection_get_or_create(name="small")
    rng = np.random.default_rng(3)
    for collection, count in ((big, 2000), (small, 15)):
        document = Document.objects.create(
            collection=collection, external_id="bulk", title="bulk", checksum="x"
        )
        vectors = rng.normal(size=(count, 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        Chunk.objects.bulk_create(
            Chunk(
                document=document, collection=collection, position=i, text=f"passage {i}", token_count=2,
                embedding=Vector(vector), embedding_model="all-MiniLM-L6-v2",
            )
            for i, vector in enumerate(vectors)
        )  # fmt: skip

    results = knowledge_search(
        reader=Reader.system(),
        request=SearchRequest(query="anything", k=15, collections=["small"], mode="vector"),
    )

    assert len(results.results) == 15


def test_each_collection_is_searched_with_its_own_embedding_model(personas, monkeypatch):
    seen = []
    real = embedder

    def tracking(name):
        seen.append(name)
        return real("all-MiniLM-L6-v2")

    monkeypatch.setattr("assistant.knowledge.search.embedder", tracking)
    other = collection_get_or_create(name="other-model")
    other.embedding_model = "some-other-model"
    other.save()
    collection_get_or_create(name="default-model")

    knowledge_search(
        reader=Reader.system(), request=SearchRequest(query="x", collections=["other-model", "default-model"])
    )

    assert sorted(seen) == ["all-MiniLM-L6-v2", "some-other-model"]


def test_a_query_of_stop_words_only_still_answers_from_vectors(library, personas):
    results = search(personas["kim"], "what is it").results

    assert results
    assert all(r.parts.lexical_rank is None for r in results)


@pytest.mark.parametrize(
    ("query", "k", "field"), [("   ", 10, "query"), ("fees", 0, "k"), ("fees", 101, "k")]
)
def test_bad_arguments_name_the_field(library, personas, query, k, field):
    with pytest.raises(ApplicationError) as refused:
        search(personas["kim"], query, k=k)
    assert refused.value.field == field


class TestApi:
    def client(self, user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    def test_it_answers_with_results_and_score_parts(self, library, personas):
        response = self.client(personas["alice"]).post(
            "/api/knowledge/search", {"query": "equity fund charge", "k": 2}, format="json"
        )

        body = response.json()
        assert response.status_code == 200, body
        assert body["collections"] == ["funds"]
        assert body["results"][0]["external_id"] == "equity.md"
        assert set(body["results"][0]["parts"]) == {
            "vector_similarity", "vector_rank", "lexical_score", "lexical_rank", "fused",
        }  # fmt: skip

    def test_it_gives_other_readers_nothing_from_a_private_collection(self, library, personas):
        response = self.client(personas["dave"]).post(
            "/api/knowledge/search", {"query": "charge"}, format="json"
        )

        assert response.status_code == 200
        assert response.json()["results"] == []

    def test_it_needs_credentials(self, library):
        response = self.client().post("/api/knowledge/search", {"query": "charge"}, format="json")

        assert response.status_code == 401

    @pytest.mark.parametrize(
        ("body", "field", "message"),
        [
            ({}, "query", "This field is required."),
            ({"query": ""}, "query", "This field may not be blank."),
            ({"query": "x", "k": 500}, "k", "Ensure this value is less than or equal to 100."),
            (
                {"query": "x", "collections": ["private"]},
                "collections",
                "no such collection, or no access to it: private",
            ),
            (
                {"query": "x", "as_of": "soon"},
                "as_of",
                "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
            ),
            (
                {"query": "x", "metadata": "region"},
                "metadata",
                'Expected a dictionary of items but got type "str".',
            ),
        ],
    )
    def test_bad_input_is_a_400_naming_the_field(self, library, personas, body, field, message):
        response = self.client(personas["alice"]).post("/api/knowledge/search", body, format="json")

        assert response.status_code == 400
        assert response.json() == {field: [message]}

    def test_it_is_in_the_openapi_schema(self, personas):
        response = self.client(personas["alice"]).get("/api/schema/")

        assert b"/api/knowledge/search" in response.content


def test_a_new_document_in_a_collection_is_indexed_by_its_collection_model(personas):
    collection = collection_get_or_create(name="solo")
    submitted = document_submit(
        collection=collection, parsed=ParsedDocument("a", "A", [Block("Alpha.")]), enqueue=False
    )
    documents_index([submitted.document.pk])

    assert set(Chunk.objects.filter(collection=collection).values_list("embedding_model", flat=True)) == {
        collection.embedding_model
    }


def test_full_text_counts_words_only_in_the_collections_searched(personas, index_files, settings):
    """A word common elsewhere must not crowd a rare occurrence here out of the match budget."""
    settings.SEARCH_LEXICAL_BUDGET = 5
    here, elsewhere = collection_get_or_create(name="here"), collection_get_or_create(name="elsewhere")
    index_files(here, [("a.md", b"# Cover\n\nThe premium is due in March.")])
    index_files(
        elsewhere, [(f"{n}.md", f"# Note {n}\n\nPremium note number {n}.".encode()) for n in range(8)]
    )

    results = knowledge_search(
        reader=Reader.system(), request=SearchRequest(query="premium", collections=["here"], mode="lexical")
    ).results

    assert [r.external_id for r in results] == ["a.md"]


def test_a_query_whose_every_word_is_too_common_matches_nothing_by_full_text(personas, index_files, settings):
    """Over budget, full text finds no chunk of its own; it still scores the vector candidates."""
    settings.SEARCH_LEXICAL_BUDGET = 5
    settings.SEARCH_CANDIDATES = 3
    notes = collection_get_or_create(name="notes")
    index_files(notes, [(f"{n}.md", f"# Note {n}\n\nPremium note number {n}.".encode()) for n in range(8)])

    hybrid = knowledge_search(
        reader=Reader.system(), request=SearchRequest(query="premium", collections=["notes"], k=3)
    ).results
    lexical = knowledge_search(
        reader=Reader.system(), request=SearchRequest(query="premium", collections=["notes"], mode="lexical")
    ).results

    assert lexical == []
    assert len(hybrid) == 3
    assert all(r.parts.vector_rank and r.parts.lexical_score > 0 for r in hybrid)


def test_a_metadata_filter_answers_alike_exactly_or_through_the_graph(personas, index_files, monkeypatch):
    notes = collection_get_or_create(name="notes")
    for region in ("EU", "US"):
        files = [
            (f"{region}-{n}.md", f"# Rates {n}\n\n{region} rates fall, note {n}.".encode()) for n in range(6)
        ]
        index_files(notes, files, metadata={"region": region})
    search_us = lambda: [  # noqa: E731
        r.external_id
        for r in knowledge_search(
            reader=Reader.system(), request=SearchRequest(query="rates", metadata={"region": "US"}, k=6)
        ).results
    ]

    exact = search_us()
    monkeypatch.setattr("assistant.knowledge.search.EXACT_BELOW", 0)
    graph = search_us()

    assert sorted(exact) == sorted(graph) == [f"US-{n}.md" for n in range(6)]


def _bm25_by_hand(collection_name: str, query: str) -> dict[int, float]:
    """BM25 (k1 1.2, b 0.75, idf ln(1 + (N - df + 0.5) / (df + 0.5))) from the stored words."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT tsvector_to_array(to_tsvector('english', %s))", [query])
        (words,) = cursor.fetchone()
        cursor.execute(
            "SELECT c.id, c.token_count, u.lexeme, array_length(u.positions, 1) FROM knowledge_chunk c "
            "JOIN knowledge_collection k ON k.id = c.collection_id, unnest(c.search_vector) u "
            "WHERE k.name = %s",
            [collection_name],
        )
        rows = cursor.fetchall()
    lengths = {chunk: tokens for chunk, tokens, _, _ in rows}
    frequency = {(chunk, word): tf for chunk, _, word, tf in rows}
    chunks, mean = len(lengths), sum(lengths.values()) / len(lengths)
    scores: dict[int, float] = {}
    for word in words:
        holding = [chunk for chunk in lengths if (chunk, word) in frequency]
        idf = math.log(1 + (chunks - len(holding) + 0.5) / (len(holding) + 0.5))
        for chunk in holding:
            tf = frequency[chunk, word]
            norm = tf + 1.2 * (0.25 + 0.75 * lengths[chunk] / mean)
            scores[chunk] = scores.get(chunk, 0.0) + idf * tf * 2.2 / norm
    return scores


def test_full_text_scores_are_bm25(personas, index_files):
    notes = collection_get_or_create(name="notes")
    index_files(
        notes,
        [
            ("a.md", b"# Premium\n\nThe premium is due in March; a late premium costs a fee."),
            ("b.md", b"# Fees\n\nA fee applies to every late payment of any kind, in any month of the year."),
            ("c.md", b"# Cover\n\nYour cover starts in March."),
        ],
    )
    query = "late premium fee in March"

    results = knowledge_search(
        reader=Reader.system(), request=SearchRequest(query=query, collections=["notes"], mode="lexical")
    ).results

    expected = _bm25_by_hand("notes", query)
    assert {r.chunk_id: r.parts.lexical_score for r in results} == pytest.approx(expected)
    assert results[0].external_id == "a.md"
    assert [r.parts.lexical_rank for r in results] == [1, 2, 3]


@pytest.mark.parametrize("fusion", ["weighted", "rrf"])
def test_hybrid_fuses_the_score_parts_as_configured(library, personas, settings, fusion):
    settings.SEARCH_FUSION = fusion
    results = search(personas["kim"], "bond fund charge", k=10).results

    weight = settings.SEARCH_LEXICAL_WEIGHT
    best = max(r.parts.lexical_score or 0 for r in results)
    floor = min(r.parts.vector_similarity for r in results if r.parts.vector_similarity is not None)
    for r in results:
        if fusion == "weighted":
            share = (r.parts.lexical_score or 0) / best
            expected = (r.parts.vector_similarity or floor) + weight * share
        else:
            k = settings.SEARCH_RRF_K
            expected = (1 / (k + r.parts.vector_rank) if r.parts.vector_rank else 0) + (
                weight / (k + r.parts.lexical_rank) if r.parts.lexical_rank else 0
            )
        assert r.parts.fused == pytest.approx(expected)
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)


def test_the_search_statement_is_bound_and_prepared_on_the_server(library, personas):
    for query in ("bond fund charge", "equity risk"):
        search(personas["alice"], query)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement FROM pg_prepared_statements WHERE statement LIKE '%%knowledge_chunk%%'"
        )
        statements = [row[0] for row in cursor.fetchall()]
    (statement,) = statements
    assert "$1" in statement
    assert "bond fund" not in statement


def test_word_counts_are_looked_up_by_word():
    """Every index of the word counts that holds the collection holds the word too: beside a
    collection-only index, a plan made without statistics filtered every word of a collection."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'knowledge_lexeme'")
        definitions = [row[0] for row in cursor.fetchall()]
    assert definitions
    assert all("lexeme" in d.split("(", 1)[1] for d in definitions if "collection_id" in d)


def test_connections_plan_the_search_once_without_parallel_workers():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('plan_cache_mode'), current_setting('max_parallel_workers_per_gather')"
        )
        assert cursor.fetchone() == ("force_generic_plan", "0")


def test_the_graph_walk_widens_with_the_size_of_the_largest_collection_searched(library, settings):
    settings.SEARCH_EF = 80
    sizes = (0, 5_000, 100_000, 1_000_000, 10_000_000)
    assert [ef_search(chunks) for chunks in sizes] == [80, 80, 80, 160, 240]
    LexiconState.objects.filter(collection=library["funds"]).update(chunks=1_000_000)

    def searched_with() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('hnsw.ef_search')")
            return cursor.fetchone()[0]

    knowledge_search(
        reader=Reader.system(), request=SearchRequest(query="bond fund charge", collections=["private"])
    )
    assert searched_with() == "80"
    knowledge_search(
        reader=Reader.system(),
        request=SearchRequest(query="bond fund charge", collections=["private", "funds"]),
    )
    assert searched_with() == "160"

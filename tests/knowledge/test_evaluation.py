import math

import pytest

from assistant.knowledge.evaluation import Query, evaluate, ranked_units, scores
from assistant.knowledge.search import ScoreParts, SearchResult


def result(external_id: str, page: int | None = None) -> SearchResult:
    parts = ScoreParts(None, None, None, None, 0.0)
    return SearchResult(0, 0, "c", external_id, "t", 1, "", page, "", 0.0, parts)


def test_metrics_on_a_ranking_with_known_answers():
    ranked = ["x", "a", "y", "b", "z"]

    metrics = scores(ranked, frozenset({"a", "b"}), k=10)

    ideal = 1 + 1 / math.log2(3)
    assert metrics["recall@1"] == 0.0
    assert metrics["recall@5"] == 1.0
    assert metrics["mrr@10"] == 0.5
    assert metrics["ndcg@10"] == pytest.approx((1 / math.log2(3) + 1 / math.log2(5)) / ideal)


def test_chunks_become_documents_or_pages_like_the_labels():
    results = [result("a", 3), result("a", 4), result("b", 0), result("a", 3)]

    assert ranked_units(results, pages=False) == ["a", "b"]
    assert ranked_units(results, pages=True) == ["a#p3", "a#p4", "b#p0"]


def test_evaluate_averages_over_queries_at_the_labels_granularity():
    answers = {"q1": [result("doc", 2), result("doc", 7)], "q2": [result("other"), result("doc")]}
    queries = [Query("q1", frozenset({"doc#p7"})), Query("q2", frozenset({"doc"}))]

    metrics = evaluate(queries, lambda text: answers[text], k=10)

    assert metrics["queries"] == 2
    assert metrics["recall@1"] == 0.0
    assert metrics["recall@5"] == 1.0
    assert metrics["mrr@10"] == 0.5
    assert metrics["ndcg@10"] == pytest.approx(1 / math.log2(3), abs=1e-4)

"""A trained cross-encoder reranker for a collection, through the fine-tuning platform."""

from __future__ import annotations

import pytest

from assistant.knowledge.models import RERANK_DEPTH, Collection
from assistant.knowledge.search import Reader, SearchRequest, knowledge_search
from assistant.knowledge.services.submission import collection_get_or_create
from assistant.training.models import ModelVersion, TrainingRun
from assistant.training.services import (
    run_execute,
    run_submit,
    version_activate,
    version_prepare,
    version_rollback,
)
from tests.support import retrieval

pytestmark = pytest.mark.django_db

TASK = "reranker:codes"
OPTIONS = {"epochs": 3, "batch_size": 8, "learning_rate": 1e-4}
QUESTION = "Who do I ask about my Falcon receipts?"
DEPTH = 10  # every result of a search for ten: the stock retriever ranks the right code low


@pytest.fixture
def reranker(codes, tmp_path) -> ModelVersion:
    Collection.objects.filter(pk=codes.pk).update(rerank_depth=DEPTH)
    return retrieval.trained(TASK, OPTIONS, tmp_path)


def _search(collections: list[str]) -> list[tuple[str, str]]:
    request = SearchRequest(query=QUESTION, k=10, collections=collections)
    found = knowledge_search(reader=Reader.system(), request=request).results
    return [(result.collection, result.external_id) for result in found]


def test_a_collection_reranks_no_more_results_than_two_cores_afford_by_default(codes):
    assert codes.rerank_depth == RERANK_DEPTH


def test_a_trained_reranker_reorders_its_collection_in_place_until_rolled_back(codes, reranker, index_files):
    metrics = reranker.metrics
    assert reranker.labels == []
    assert metrics["depth"] == DEPTH
    assert metrics["dataset_sizes"]["validation_questions"] > 0
    assert metrics["ndcg@10"] > metrics["active"]["ndcg@10"] + 0.2, metrics
    plain = collection_get_or_create(name="plain")
    index_files(plain, [("falcon.md", b"# Falcon receipts\n\nA falcon receipt is a bird ringing record.")])
    before = _search(["codes", "plain"])
    assert before[0] != ("codes", "travel.md")  # the stock retriever does not know the code name

    version_activate(reranker, prepare_now=True)
    codes.refresh_from_db()
    after = _search(["codes", "plain"])

    assert codes.reranker_version == reranker
    assert [place for place, (name, _) in enumerate(after) if name == "plain"] == [
        place for place, (name, _) in enumerate(before) if name == "plain"
    ]
    assert next(hit for hit in after if hit[0] == "codes") == ("codes", "travel.md")
    assert sorted(after) == sorted(before)

    version_prepare(version_rollback(TASK).pk)  # the rollback queues this for a worker
    codes.refresh_from_db()
    assert codes.reranker_version is None
    assert _search(["codes", "plain"]) == before


def test_a_reranker_needs_a_question_file(codes):
    from assistant.core.errors import ApplicationError

    run = run_execute(run_submit(task=TASK, options={}, dispatch=False).pk)

    assert run.status == TrainingRun.Status.FAILED
    assert "a reranker trains on questions" in run.error
    with pytest.raises(ApplicationError, match="no collection named nowhere"):
        run_submit(task="reranker:nowhere", options={}, dispatch=False)

"""The retriever as a fine-tuning task: the bundled encoder tuned on a collection's questions,
registered, activated (the collection re-embedded), rolled back."""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path

import numpy as np
import pytest

from assistant.core.encoder import Embedder, encoder
from assistant.core.errors import ApplicationError
from assistant.knowledge.models import Chunk, Collection
from assistant.knowledge.search import Reader, SearchRequest, knowledge_search
from assistant.knowledge.services.submission import collection_get_or_create
from assistant.knowledge.tuning import task_name, tuned_model
from assistant.training.models import ModelVersion, TrainingRun
from assistant.training.services import (
    run_submit,
    version_activate,
    version_activate_if_better,
    version_prepare,
    version_rollback,
)
from assistant.training.tasks import train_task
from tests.support import retrieval

pytestmark = pytest.mark.django_db

TASK = task_name(["codes"])
OPTIONS = {"epochs": 4, "batch_size": 8, "learning_rate": 1e-4}


@pytest.fixture
def tuned(codes, tmp_path) -> ModelVersion:
    return retrieval.trained(TASK, OPTIONS, tmp_path)


def _search(query: str, collections: list[str], mode: str = "vector") -> list:
    request = SearchRequest(query=query, k=3, collections=collections, mode=mode)  # type: ignore[arg-type]
    return knowledge_search(reader=Reader.system(), request=request).results


@pytest.mark.django_db(transaction=True)
def test_a_gpu_queue_worker_tunes_the_retriever_above_the_stock_model_on_held_out_questions(
    codes, start_worker, settings, tmp_path
):
    queue = f"test-{uuid.uuid4().hex[:12]}"
    start_worker(queue, FINASSIST_MODELS_DIR=str(settings.MODELS_DIR))
    run = run_submit(task=TASK, options=OPTIONS, data_file=retrieval.questions_file(tmp_path), dispatch=False)

    status = train_task.apply_async((run.pk,), queue=queue).get(timeout=300)

    run.refresh_from_db()
    assert status == "succeeded", run.error
    version = run.model_version
    metrics = version.metrics
    assert version.labels == []
    assert version.base_model == "all-MiniLM-L6-v2"
    assert metrics["dataset_sizes"]["validation_questions"] > 0
    assert metrics["active"]["model"] == "all-MiniLM-L6-v2"
    assert metrics["ndcg@10"] > metrics["active"]["ndcg@10"] + 0.2, metrics
    assert (Path(tuned_model(version)) / "model.safetensors").is_file()
    assert run.step == run.total_steps > 0


@pytest.mark.django_db(transaction=True)
def test_a_tuned_version_is_activated_searched_beside_a_stock_collection_and_rolled_back(
    codes, tuned, index_files, admin_client
):
    """Activation re-embeds while a search runs (which never mixes the vectors of two models); a
    search spanning the tuned and a stock collection embeds the question once per model; the
    admin shows the version's scores; rollback returns to the stock model; `if-better` compares
    with the model serving."""
    _activated_while_searched(codes, tuned)
    _searched_beside_a_stock_collection(tuned, index_files)

    page = admin_client.get(f"/admin/training/modelversion/{tuned.pk}/change/")
    assert page.status_code == 200
    assert b"held-out questions" in page.content
    assert b"ndcg@10" in page.content

    retired = version_rollback(TASK)
    version_prepare(retired.pk)  # what the worker the rollback queued it for does
    codes.refresh_from_db()
    assert retired.status == ModelVersion.Status.RETIRED
    assert codes.embedding_model == "all-MiniLM-L6-v2"
    assert codes.embedding_version is None
    assert set(Chunk.objects.filter(collection=codes).values_list("embedding_model", flat=True)) == {
        "all-MiniLM-L6-v2"
    }

    assert version_activate_if_better(tuned, prepare_now=True)
    codes.refresh_from_db()
    assert codes.embedding_version == tuned
    tuned.metrics["score"] = tuned.metrics["active"]["score"] - 0.01
    tuned.save(update_fields=["metrics"])
    version_prepare(version_rollback(TASK).pk)
    assert not version_activate_if_better(tuned)


def _activated_while_searched(codes: Collection, tuned: ModelVersion) -> None:
    stock = Embedder("all-MiniLM-L6-v2")
    tuned_encoder = Embedder(tuned_model(tuned))
    rows = Chunk.objects.filter(collection=codes).order_by("pk").values_list("pk", "heading", "text")
    ids = [pk for pk, _, _ in rows]
    passages = [f"{heading}\n{text}" for _, heading, text in rows]
    vectors = {"stock": stock.embed(passages), "tuned": tuned_encoder.embed(passages)}
    query = "How do I claim my Falcon costs?"
    queries = {"stock": stock.embed([query])[0], "tuned": tuned_encoder.embed([query])[0]}
    seen: list[set[str]] = []
    done = threading.Event()

    def models_of(results: list) -> set[str]:
        """The models whose vectors give every result's similarity."""
        return {
            model
            for model in ("stock", "tuned")
            if all(
                abs(float(vectors[model][ids.index(r.chunk_id)] @ queries[model]) - r.parts.vector_similarity)
                < 0.02
                for r in results
            )
        }

    def searching() -> None:
        from django.db import connection

        try:
            while not done.is_set():
                results = _search(query, ["codes"])
                if results:
                    seen.append(models_of(results))
        finally:
            connection.close()

    searcher = threading.Thread(target=searching)
    searcher.start()
    try:
        version_activate(tuned, prepare_now=True)
    finally:
        done.set()
        searcher.join()

    codes.refresh_from_db()
    assert codes.embedding_model == tuned_model(tuned)
    assert codes.embedding_version == tuned
    assert set(Chunk.objects.filter(collection=codes).values_list("embedding_model", flat=True)) == {
        tuned_model(tuned)
    }
    assert seen
    assert all(len(models) == 1 for models in seen), seen
    assert _search(query, ["codes"])[0].external_id == "travel.md"


def _searched_beside_a_stock_collection(tuned: ModelVersion, index_files) -> None:
    plain = collection_get_or_create(name="plain")
    index_files(plain, [("falcon.md", b"# Falcon\n\nThe Falcon is a bird of prey.")])
    embedded: list[str] = []

    def embed_query(model: str, text: str) -> np.ndarray:
        embedded.append(model)
        return encoder(model).embed([text])[0]

    request = SearchRequest(query="Falcon receipts", k=5, collections=["codes", "plain"], mode="vector")
    results = knowledge_search(reader=Reader.system(), request=request, embed_query=embed_query).results

    assert sorted(embedded) == sorted(["all-MiniLM-L6-v2", tuned_model(tuned)])
    assert {result.collection for result in results} == {"codes", "plain"}


def test_the_bad_inputs_of_a_question_file_get_named_errors(codes, tmp_path):
    path = tmp_path / "q.jsonl"
    cases = {
        json.dumps(
            {"query": "Falcon?", "relevant": ["nowhere.md"]}
        ): "no document nowhere.md in the collection",
        json.dumps({"query": "  ", "relevant": ["travel.md"]}): "line 1: needs a query",
        "not json": "line 1: expected",
        "": "no queries",
    }
    for content, message in cases.items():
        path.write_text(content + "\n")
        with pytest.raises(ApplicationError, match=message) as caught:
            run_submit(task=TASK, options={}, data_file=path, dispatch=False)
        assert caught.value.field == "data"
    with pytest.raises(ApplicationError, match="no collection named nowhere"):
        run_submit(task=task_name(["nowhere"]), options={}, dispatch=False)
    assert not TrainingRun.objects.exists()


def test_sections_and_helpful_answers_give_training_pairs_beside_the_questions(index_files):
    from assistant.chat.models import Conversation, Message
    from assistant.knowledge.tuning import Passages, heading_pairs, helpful_pairs

    manual = collection_get_or_create(name="manual")
    index_files(
        manual, [("cards.md", b"# Cards\n\n## Lost card\n\nCall us to block it.\n\n## Fees\n\nNone.")]
    )
    passages = Passages.of([manual])
    lost = next(pk for pk, text in zip(passages.ids, passages.texts, strict=True) if "block" in text)
    conversation = Conversation.objects.create(session_key="s")
    cited = {"number": 1, "collection": "manual", "chunk_id": lost}
    Message.objects.create(
        conversation=conversation, role=Message.Role.ASSISTANT, query="I lost my card", text="Call us [1].",
        citations=[cited], rating=1,
    )  # fmt: skip
    Message.objects.create(
        conversation=conversation, role=Message.Role.ASSISTANT, query="unrated", text="Call us [1].",
        citations=[cited],
    )  # fmt: skip

    sections = {(pair.query, pair.positive) for pair in heading_pairs(passages)}
    helpful = helpful_pairs([manual], passages, skip=set())

    assert ("Lost card", "Call us to block it.") in sections
    assert [(pair.query, pair.positive) for pair in helpful] == [
        ("I lost my card", passages.texts[passages.ids.index(lost)])
    ]
    assert helpful_pairs([manual], passages, skip={"I lost my card"}) == []

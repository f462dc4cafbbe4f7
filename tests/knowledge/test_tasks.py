import uuid

import pytest

from assistant.knowledge.models import Document, DocumentStatus
from assistant.knowledge.parsers import Block, ParsedDocument
from assistant.knowledge.search import Reader, SearchRequest, knowledge_search
from assistant.knowledge.services.submission import (
    collection_get_or_create,
    document_reindex,
    document_submit,
)
from assistant.knowledge.tasks import document_index_task


def test_an_ingest_worker_indexes_a_submitted_document(start_worker):
    queue = f"test-{uuid.uuid4().hex[:12]}"
    start_worker(queue)
    collection = collection_get_or_create(name="inbox")
    submitted = document_submit(
        collection=collection,
        parsed=ParsedDocument("memo.md", "Memo", [Block("The branch in Leeds closes on Fridays.")]),
        enqueue=False,
    )

    outcome = document_index_task.apply_async((submitted.document.pk,), queue=queue).get(timeout=120)

    assert outcome == {"indexed": 1, "chunks": 1, "failed": {}}
    assert Document.objects.get().status == DocumentStatus.READY
    results = knowledge_search(
        reader=Reader.system(), request=SearchRequest(query="when does the Leeds branch close?")
    ).results
    assert results[0].external_id == "memo.md"


@pytest.mark.django_db
def test_a_submission_queues_its_indexing_once_the_transaction_commits(
    eager_tasks, django_capture_on_commit_callbacks
):
    collection = collection_get_or_create(name="inbox")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        document_submit(collection=collection, parsed=ParsedDocument("a", "A", [Block("Alpha.")]))
    assert Document.objects.get().status == DocumentStatus.PENDING
    assert len(callbacks) == 1

    callbacks[0]()

    assert Document.objects.get().status == DocumentStatus.READY


@pytest.mark.django_db
def test_a_document_a_dead_worker_left_pending_or_processing_is_sent_again_once_a_period(
    settings, monkeypatch
):
    from datetime import timedelta

    from django.utils import timezone

    from assistant.knowledge.services.indexing import documents_requeue_stale

    collection = collection_get_or_create(name="inbox")
    documents = {
        name: document_submit(
            collection=collection, parsed=ParsedDocument(name, name, [Block(f"{name}.")]), enqueue=False
        ).document
        for name in ["stuck", "lost", "moving", "ready", "reindexed"]
    }
    long_ago = timezone.now() - timedelta(seconds=settings.INGEST_REQUEUE_AFTER_S + 1)
    for name, status, when in [
        ("stuck", DocumentStatus.PROCESSING, long_ago),
        ("lost", DocumentStatus.PENDING, long_ago),  # its message went with the worker that prefetched it
        ("moving", DocumentStatus.PROCESSING, timezone.now()),
        ("ready", DocumentStatus.READY, long_ago),
        ("reindexed", DocumentStatus.READY, long_ago),
    ]:
        Document.objects.filter(pk=documents[name].pk).update(status=status, updated_at=when)
    sent: list[int] = []
    monkeypatch.setattr("assistant.knowledge.services.indexing.document_index_later", sent.append)
    monkeypatch.setattr("assistant.knowledge.services.submission.document_index_later", lambda pk: None)
    document_reindex(document=documents["reindexed"])  # pending from now, not from long ago

    assert documents_requeue_stale() == 2
    assert sorted(sent) == sorted([documents["stuck"].pk, documents["lost"].pk])
    assert documents_requeue_stale() == 0  # not again until another period has passed

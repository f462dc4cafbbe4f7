import threading
import time

import numpy as np
import pytest
from django.db import connection, connections

from assistant.knowledge.embedding import embedder
from assistant.knowledge.models import Chunk, Collection, Document, DocumentStatus
from assistant.knowledge.parsers import Block, ParsedDocument
from assistant.knowledge.search import Reader, SearchRequest, knowledge_search
from assistant.knowledge.services.indexing import documents_index
from assistant.knowledge.services.submission import (
    collection_get_or_create,
    document_reindex,
    document_submit,
)
from tests.support.documents import docx, pdf

pytestmark = pytest.mark.django_db


@pytest.fixture
def collection() -> Collection:
    return collection_get_or_create(name="manuals")


def test_a_batch_goes_in_around_its_bad_files_which_are_named(collection, index_files):
    files = [
        ("guide.md", b"# Guide\n\nSavings pay monthly interest."),
        ("report.pdf", pdf(["Revenue rose.", "Costs fell."])),
        ("manual.docx", docx("Manual", {"Cards": ["Freeze a lost card in the app."]})),
        ("faq.csv", b"question,answer\nFees?,There are none.\nLimits?,25000 a day.\n"),
        ("virus.exe", b"MZ..."),
        ("broken.pdf", b"%PDF-garbage"),
    ]

    report = index_files(collection, files)

    assert sorted(r.name for r in report.rejected) == ["broken.pdf", "virus.exe"]
    documents = Document.objects.filter(collection=collection)
    assert sorted(documents.values_list("external_id", flat=True)) == [
        "faq-1", "faq-2", "guide.md", "manual.docx", "report.pdf",
    ]  # fmt: skip
    assert set(documents.values_list("status", flat=True)) == {DocumentStatus.READY}
    pdf_pages = Chunk.objects.filter(document__external_id="report.pdf").values_list("page", flat=True)
    assert sorted(pdf_pages) == [0, 1]
    assert Document.objects.get(external_id="guide.md").file.read() == files[0][1]


def test_every_chunk_records_its_model_position_and_token_count(collection, index_files):
    index_files(collection, [("guide.md", b"# Guide\n\n" + b"Savings pay monthly interest. " * 200)])

    chunks = list(Chunk.objects.filter(collection=collection).order_by("position"))
    assert len(chunks) > 1
    assert {c.embedding_model for c in chunks} == {"all-MiniLM-L6-v2"}
    assert all(0 < c.token_count <= 254 for c in chunks)
    assert [c.position for c in chunks] == list(range(len(chunks)))
    assert Document.objects.get().chunks_done == len(chunks)


def test_the_same_content_again_is_a_no_op(collection, index_files):
    files = [("guide.md", b"# Guide\n\nSavings pay monthly interest.")]
    index_files(collection, files)
    before = list(Chunk.objects.values_list("pk", flat=True))

    report = index_files(collection, files)

    assert [s.changed for s in report.submitted] == [False]
    assert Document.objects.get().version == 1
    assert list(Chunk.objects.values_list("pk", flat=True)) == before


def test_a_new_version_replaces_the_old_chunks(collection, index_files):
    index_files(collection, [("guide.md", b"# Guide\n\nThe fee is 5 dollars.")])
    index_files(collection, [("guide.md", b"# Guide\n\nThe fee is now 7 dollars.\n\nNew section.")])

    document = Document.objects.get()
    assert document.version == 2
    assert [c.text for c in document.chunks.order_by("position")] == [
        "The fee is now 7 dollars.\nNew section."
    ]


def test_a_failed_write_keeps_the_previous_version_whole_and_says_why(collection, index_files):
    index_files(collection, [("guide.md", b"# Guide\n\nThe fee is 5 dollars.")])
    old = list(Chunk.objects.values_list("pk", "text"))
    # The server refuses the new chunks (the trigger goes with the test's transaction).
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION pg_temp.refuse() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON knowledge_chunk "
            "FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse()"
        )

    index_files(collection, [("guide.md", b"# Guide\n\nThe fee is now 7 dollars.")])

    document = Document.objects.get()
    assert list(Chunk.objects.values_list("pk", "text")) == old
    assert document.status == DocumentStatus.FAILED
    assert document.error.splitlines()[0] == "storing the chunks failed: disk full"


@pytest.fixture
def inserts_held():
    """Chunk inserts on other connections wait, inside their transaction, until the test
    lets them go: a trigger takes an advisory lock that the test's connection holds (and so
    passes itself)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_hold_insert() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN PERFORM pg_advisory_xact_lock_shared(4242); RETURN NEW; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER test_hold_insert BEFORE INSERT ON knowledge_chunk "
            "FOR EACH ROW EXECUTE FUNCTION test_hold_insert()"
        )
        cursor.execute("SELECT pg_advisory_lock(4242)")

    def waiting() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND NOT granted"
            )
            return cursor.fetchone()[0] > 0

    def release() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock_all()")

    try:
        yield waiting, release
    finally:
        release()
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER test_hold_insert ON knowledge_chunk")
            cursor.execute("DROP FUNCTION test_hold_insert()")


@pytest.mark.django_db(transaction=True)
def test_a_search_during_a_version_swap_sees_the_whole_old_version_then_the_whole_new(
    collection, index_files, inserts_held
):
    index_files(
        collection, [("guide.md", b"# Guide\n\nOld one.\n\n## Two\n\nOld two.\n\n## Three\n\nOld three.")]
    )
    document = Document.objects.get()
    submitted = document_submit(
        collection=collection,
        parsed=ParsedDocument("guide.md", "Guide", [Block("New text.")]),
        enqueue=False,
    )
    assert submitted.changed
    inserting, release = inserts_held

    def swap() -> None:
        try:
            documents_index([document.pk])
        finally:
            connections.close_all()

    writer = threading.Thread(target=swap)
    writer.start()
    deadline = time.monotonic() + 60
    while not inserting():
        assert time.monotonic() < deadline, "the writer never reached its insert"
        time.sleep(0.05)
    # The writer has deleted the old chunks and not yet inserted the new: uncommitted.
    during = sorted(Chunk.objects.filter(document=document).values_list("text", flat=True))
    release()
    writer.join(60)

    assert during == ["Old one.", "Old three.", "Old two."]
    assert list(Chunk.objects.filter(document=document).values_list("text", flat=True)) == ["New text."]


def test_a_document_added_is_searchable_at_once_without_retraining(collection, index_files):
    index_files(collection, [("gold.md", b"# Gold\n\nGold rose as real yields fell.")])

    results = knowledge_search(
        reader=Reader.system(), request=SearchRequest(query="why did gold go up", collections=["manuals"])
    ).results

    assert results[0].external_id == "gold.md"


def test_a_document_whose_embedding_fails_is_marked_failed_with_the_reason(collection, monkeypatch):
    from assistant.core import encoder

    submitted = document_submit(
        collection=collection, parsed=ParsedDocument("a.md", "A", [Block("Text.")]), enqueue=False
    )
    monkeypatch.setattr(
        encoder.Embedder,
        "embed_batches",
        lambda self, texts, **kw: (_ for _ in ()).throw(OSError("no memory")),
    )

    report = documents_index([submitted.document.pk])

    document = Document.objects.get()
    assert report.failed == {"manuals/a.md": "embedding failed: no memory"}
    assert (document.status, document.error) == (DocumentStatus.FAILED, "embedding failed: no memory")


@pytest.mark.slow
def test_chunks_embedded_across_windows_and_threads_keep_their_own_vectors(collection, settings, monkeypatch):
    from assistant.knowledge.services import indexing

    monkeypatch.setattr(indexing, "INDEX_WINDOW", 16)  # documents span windows, windows documents
    settings.TORCH_THREADS = 2
    settings.EMBEDDING_BATCH_SIZE = 4
    settings.CHUNK_TOKENS = 40
    documents = [
        document_submit(
            collection=collection,
            parsed=ParsedDocument(
                f"doc-{number}.md",
                f"Document {number}",
                [
                    Block(f"Paragraph {p} of document {number} is about topic {p * number}. " * (1 + p % 4))
                    for p in range(3 + 5 * number)
                ],
            ),
            enqueue=False,
        ).document
        for number in range(4)
    ]
    progress: list[tuple[str, int, int]] = []

    report = documents_index(
        [d.pk for d in documents],
        on_progress=lambda stage, done, total: progress.append((stage, done, total)),
    )

    chunks = list(Chunk.objects.filter(collection=collection).order_by("document_id", "position"))
    assert report.indexed == 4
    assert report.chunks == len(chunks) > 16
    assert progress[:5] == [("chunking", n, 4) for n in (1, 2, 3, 4)] + [("embedding", 0, len(chunks))]
    assert progress[-1] == ("embedding", len(chunks), len(chunks))
    for document in Document.objects.all():
        assert (document.status, document.chunks_done) == (DocumentStatus.READY, document.chunks_total)
    alone = embedder("all-MiniLM-L6-v2").embed([f"{c.heading}\n{c.text}" for c in chunks])
    stored = np.array([c.embedding for c in chunks])
    assert (stored * alone).sum(axis=1).min() > 0.999


def test_a_pdf_is_indexed_without_its_running_header_and_page_numbers(collection, index_files):
    body = [
        "Structured cash deposits are a red flag.",
        "Report within 30 days.",
        "Shell companies share an address.",
    ]
    pages = [
        f"F I N C E N A D V I S O R Y\n{line}\nSee the {word} typology.\n{n + 1}"
        for n, (line, word) in enumerate(zip(body, ["first", "second", "third"], strict=True))
    ]

    index_files(collection, [("advisory.pdf", pdf(pages))])

    text = "\n".join(Chunk.objects.order_by("position").values_list("text", flat=True))
    assert "F I N C E N" not in text
    assert "FINCEN" not in text
    assert "See the second typology." in text
    assert all(line in text for line in body)
    assert not any(line.strip().isdigit() for line in text.splitlines())


def test_a_reindex_cleans_what_was_stored_before_cleaning(collection):
    raw = ParsedDocument(
        "faq-dispute", "Disputes", [Block("It cannot take more than 90 days.If the issuer errs, say so.")]
    )
    document = document_submit(collection=collection, parsed=raw, enqueue=False).document
    assert document.content[0]["text"].endswith("90 days.If the issuer errs, say so.")

    document_reindex(document=document)
    documents_index([document.pk])

    assert list(document.chunks.values_list("text", flat=True)) == [
        "It cannot take more than 90 days. If the issuer errs, say so."
    ]

import re

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile

from assistant.celery import app
from assistant.knowledge.models import Chunk, Document, DocumentStatus, Upload, UploadStatus
from tests.support.documents import pdf

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def eager_tasks():
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def manager(client, personas):
    client.force_login(personas["kim"])
    return client


def messages(response) -> list[str]:
    return re.findall(r'<li class="(?:success|info|error)">([^<]*)', response.content.decode())


def upload(client, collection, *files, **fields):
    return client.post(
        f"/admin/knowledge/collection/{collection.pk}/upload/",
        {"files": [SimpleUploadedFile(name, data) for name, data in files], **fields},
        follow=True,
    )


def test_a_manager_uploads_many_files_and_sees_each_rejected_one_named(
    manager, library, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(
            manager,
            library["funds"],
            ("gold.md", b"# Gold\n\nGold rose as real yields fell."),
            ("annual.pdf", pdf(["Revenue rose 4%."])),
            ("malware.exe", b"MZ"),
            effective_from="2026-01-01",
            metadata='{"region": "EU"}',
        )

    assert response.status_code == 200
    assert messages(response) == [
        "2 file(s) received: each is parsed on an ingest worker, then indexed.",
        "Rejected malware.exe: unsupported format .exe "
        "(supported: .csv, .docx, .htm, .html, .jsonl, .markdown, .md, .pdf, .txt)",
    ]
    gold = Document.objects.get(external_id="gold.md")
    assert (gold.status, gold.metadata, str(gold.effective_from)) == (
        DocumentStatus.READY,
        {"region": "EU"},
        "2026-01-01",
    )


def test_an_upload_form_with_a_bad_field_says_which(manager, library):
    response = upload(manager, library["funds"], ("a.md", b"# A\n\nText."), metadata="[1, 2]")

    assert "metadata must be a JSON object" in response.content.decode()
    assert not Document.objects.filter(external_id="a.md").exists()


def test_try_a_query_shows_ranked_chunks_with_their_scores(manager, library):
    response = manager.get(
        "/admin/knowledge/collection/try-a-query/", {"query": "equity charge", "k": 10, "mode": "hybrid"}
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert page.index("funds/equity.md") < page.index("funds/bonds.md")
    assert "#1 · " in page


def test_replacing_a_document_makes_a_new_version(manager, library, django_capture_on_commit_callbacks):
    document = Document.objects.get(external_id="bonds.md")

    with django_capture_on_commit_callbacks(execute=True):
        response = manager.post(
            f"/admin/knowledge/document/{document.pk}/replace/",
            {"file": SimpleUploadedFile("bonds-v2.md", b"# Bond fund\n\nIncome is now paid monthly.")},
            follow=True,
        )

    document.refresh_from_db()
    assert messages(response) == ["1 file(s) received: each is parsed on an ingest worker, then indexed."]
    assert document.version == 2
    assert [c.text for c in document.chunks.all()] == ["Income is now paid monthly."]


def test_reindex_and_chunk_preview(manager, library, django_capture_on_commit_callbacks):
    document = Document.objects.get(external_id="equity.md")
    old = set(Chunk.objects.filter(document=document).values_list("pk", flat=True))

    with django_capture_on_commit_callbacks(execute=True):
        response = manager.post(
            "/admin/knowledge/document/",
            {"action": "reindex", "_selected_action": [document.pk]},
            follow=True,
        )
    change = manager.get(f"/admin/knowledge/document/{document.pk}/change/")

    assert messages(response) == ["1 document(s) queued for indexing."]
    assert set(Chunk.objects.filter(document=document).values_list("pk", flat=True)).isdisjoint(old)
    assert "The ongoing charge is 0.18% a year." in change.content.decode()


def test_the_document_list_refreshes_itself_while_something_is_indexing(manager, library):
    Document.objects.filter(external_id="bonds.md").update(
        status=DocumentStatus.PROCESSING, chunks_total=4, chunks_done=1
    )

    page = manager.get("/admin/knowledge/document/").content.decode()

    assert '<meta http-equiv="refresh" content="3">' in page
    assert "1 / 4" in page


def test_only_knowledge_managers_upload(client, library):
    staff = User.objects.create_user("staffer", password="pw", is_staff=True)
    client.force_login(staff)

    assert client.get(f"/admin/knowledge/collection/{library['funds'].pk}/upload/").status_code == 403


def test_a_replacement_that_is_not_one_document_is_rejected_and_changes_nothing(
    manager, library, django_capture_on_commit_callbacks
):
    document = Document.objects.get(external_id="bonds.md")
    faq = b"question,answer\nWhat is it?,A fund.\nWhat does it cost?,0.25% a year.\n"

    with django_capture_on_commit_callbacks(execute=True):
        manager.post(
            f"/admin/knowledge/document/{document.pk}/replace/", {"file": SimpleUploadedFile("faq.csv", faq)}
        )
    uploads = manager.get("/admin/knowledge/upload/").content.decode()

    document.refresh_from_db()
    assert "the file holds several documents; upload it to the collection" in uploads
    assert Upload.objects.get().status == UploadStatus.REJECTED
    assert (document.version, document.status) == (1, DocumentStatus.READY)


def test_a_replacement_refused_on_its_name_is_said_on_the_form(manager, library):
    document = Document.objects.get(external_id="bonds.md")

    response = manager.post(
        f"/admin/knowledge/document/{document.pk}/replace/", {"file": SimpleUploadedFile("v2.exe", b"MZ")}
    )

    assert response.status_code == 200
    assert "unsupported format .exe" in response.content.decode()
    assert not Upload.objects.exists()

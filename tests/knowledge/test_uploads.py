"""Files are received in the request and parsed on an ingest worker, under limits; nothing is
half-stored and the media folder keeps no file that no row names."""

import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from assistant.knowledge.models import Document, DocumentStatus, Upload, UploadStatus
from assistant.knowledge.services.indexing import documents_requeue_stale
from assistant.knowledge.services.uploads import (
    upload_fail,
    upload_parse,
    uploads_receive,
    uploads_requeue_stale,
)
from tests.support.documents import docx, docx_bomb
from tests.support.processes import wait_for


@pytest.fixture
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored(media: Path) -> list[str]:
    return sorted(str(path.relative_to(media)) for path in media.rglob("*") if path.is_file())


def files(*named: tuple[str, bytes]) -> list[SimpleUploadedFile]:
    return [SimpleUploadedFile(name, data) for name, data in named]


@pytest.mark.django_db
def test_the_request_keeps_the_file_and_leaves_parsing_to_a_worker(
    library, media, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        receipt = uploads_receive(
            collection=library["funds"],
            files=files(("gold.docx", docx("Gold", {"Outlook": ["Gold rose."]})), ("run.exe", b"MZ")),
        )

    (upload,) = receipt.queued
    assert [rejected.name for rejected in receipt.rejected] == ["run.exe"]
    assert (upload.status, upload.size, len(callbacks)) == (UploadStatus.QUEUED, upload.file.size, 1)
    assert stored(media) == [upload.file.name]
    assert not Document.objects.filter(external_id="gold.docx").exists()

    upload_parse(upload.pk)

    upload.refresh_from_db()
    gold = Document.objects.get(external_id="gold.docx")
    assert (upload.status, upload.documents, upload.file.name) == (UploadStatus.DONE, 1, "")
    assert stored(media) == [gold.file.name]  # the document took the file over


HOSTILE = [
    ("late-nul.txt", b"a" * 9000 + b"\x00b", "block 1 contains a NUL character"),
    ("late-nul.html", b"<p>" + b"a" * 9000 + b"\x00</p>", "block 1 contains a NUL character"),
    ("bad-xml.docx", docx_bomb(100, body=b"<w:body><w:p>unclosed"), "not a readable DOCX"),
    ("escape.jsonl", b'{"question": "Q\\ud83d?", "answer": "A"}', "the title contains a lone surrogate"),
    ("bomb.docx", docx_bomb(40_000_000), "(FINASSIST_PARSE_MAX_EXPANDED_BYTES)"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "data", "reason"), HOSTILE, ids=[name for name, _, _ in HOSTILE])
def test_a_hostile_file_is_rejected_by_name_storing_nothing(
    library, media, name, data, reason, django_capture_on_commit_callbacks
):
    documents = Document.objects.count()
    (upload,) = uploads_receive(collection=library["funds"], files=files((name, data))).queued

    with django_capture_on_commit_callbacks(execute=True):
        upload_parse(upload.pk)

    upload.refresh_from_db()
    assert upload.status == UploadStatus.REJECTED
    assert reason in upload.reason
    assert Document.objects.count() == documents
    assert stored(media) == []


@pytest.mark.django_db
def test_a_faq_file_becomes_its_documents_in_one_go_or_not_at_all(
    library, media, django_capture_on_commit_callbacks
):
    good = b'{"id": "a", "question": "A?", "answer": "Yes."}\n{"id": "b", "question": "B?", "answer": "No."}'
    bad = good + b'\n{"id": "c", "question": "C?", "answer": "Bad \\u0000 byte."}'
    uploads = uploads_receive(
        collection=library["funds"], files=files(("bad.jsonl", bad), ("ok.jsonl", good))
    )

    with django_capture_on_commit_callbacks(execute=True):
        for upload in uploads.queued:
            upload_parse(upload.pk)

    assert list(Upload.objects.order_by("name").values_list("name", "status", "documents")) == [
        ("bad.jsonl", UploadStatus.REJECTED, 0),
        ("ok.jsonl", UploadStatus.DONE, 2),
    ]
    assert (
        Upload.objects.get(name="bad.jsonl").reason
        == "c: block 1 contains a NUL character (\\u0000), which cannot be stored"
    )
    assert sorted(
        Document.objects.filter(source__endswith=".jsonl").values_list("external_id", flat=True)
    ) == [
        "a",
        "b",
    ]
    assert stored(media) == []  # several documents: the file itself is not kept


@pytest.mark.django_db
def test_a_failure_while_receiving_keeps_none_of_the_files(library, media, monkeypatch):
    sent: list[int] = []

    def send_then_fail(upload_id: int) -> None:
        sent.append(upload_id)
        if len(sent) == 2:
            raise ConnectionError("broker gone")

    monkeypatch.setattr("assistant.knowledge.services.uploads.upload_parse_later", send_then_fail)

    with pytest.raises(ConnectionError):
        uploads_receive(
            collection=library["funds"], files=files(("a.md", b"# A\n\nA."), ("b.md", b"# B\n\nB."))
        )

    assert not Upload.objects.exists()
    assert stored(media) == []


@pytest.mark.django_db
def test_a_parse_that_fails_for_good_is_recorded_and_its_file_deleted(
    library, media, django_capture_on_commit_callbacks
):
    (upload,) = uploads_receive(collection=library["funds"], files=files(("a.md", b"# A\n\nA."))).queued

    with django_capture_on_commit_callbacks(execute=True):
        upload_fail(upload.pk, "OperationalError: the database went away")

    upload.refresh_from_db()
    assert (upload.status, upload.reason) == (UploadStatus.FAILED, "OperationalError: the database went away")
    assert stored(media) == []
    assert upload_parse(upload.pk) is None  # a late retry finds it closed


@pytest.mark.django_db
def test_a_new_version_deletes_the_old_file_and_a_deleted_document_its_own(
    library, media, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        (first,) = uploads_receive(collection=library["funds"], files=files(("memo.txt", b"One."))).queued
        upload_parse(first.pk)
        memo = Document.objects.get(external_id="memo.txt")
        old = memo.file.name
        (second,) = uploads_receive(
            collection=library["funds"], files=files(("memo-v2.txt", b"Two.")), replaces=memo
        ).queued
        upload_parse(second.pk)

    memo.refresh_from_db()
    assert memo.version == 2
    assert memo.file.name != old
    assert stored(media) == [memo.file.name]

    with django_capture_on_commit_callbacks(execute=True):
        memo.delete()

    assert stored(media) == []


@pytest.mark.django_db
def test_an_upload_left_by_a_dead_worker_is_sent_again(
    library, media, eager_tasks, settings, django_capture_on_commit_callbacks
):
    (upload,) = uploads_receive(collection=library["funds"], files=files(("a.md", b"# A\n\nAlpha."))).queued
    long_ago = timezone.now() - timedelta(seconds=settings.INGEST_REQUEUE_AFTER_S + 1)
    Upload.objects.filter(pk=upload.pk).update(status=UploadStatus.PARSING, progressed_at=long_ago)

    with django_capture_on_commit_callbacks(execute=True):
        assert uploads_requeue_stale() == 1

    upload.refresh_from_db()
    assert (upload.status, upload.documents) == (UploadStatus.DONE, 1)
    assert uploads_requeue_stale() == 0


@pytest.mark.django_db
def test_the_upload_list_shows_each_files_fate_and_refreshes_while_parsing(client, personas, library, media):
    client.force_login(personas["kim"])
    response = client.post(
        f"/admin/knowledge/collection/{library['funds'].pk}/upload/",
        {"files": files(("late-nul.txt", b"a" * 9000 + b"\x00b"), ("run.exe", b"MZ"))},
        follow=True,
    )

    page = response.content.decode()
    assert re.findall(r'<li class="(?:success|error)">([^<]*)', page) == [
        "1 file(s) received: each is parsed on an ingest worker, then indexed.",
        "Rejected run.exe: unsupported format .exe "
        "(supported: .csv, .docx, .htm, .html, .jsonl, .markdown, .md, .pdf, .txt)",
    ]
    assert '<meta http-equiv="refresh" content="3">' in page
    assert "queued" in page

    upload_parse(Upload.objects.get().pk)
    page = client.get("/admin/knowledge/upload/").content.decode()
    assert "block 1 contains a NUL character" in page
    assert 'http-equiv="refresh"' not in page


def test_killing_the_ingest_worker_mid_upload_loses_and_repeats_nothing(
    start_worker, test_queue, library, media, settings
):
    """The worker's main process is killed mid-batch (its pool dies with it); a new worker and the
    sweep (here every second, sending again what has not moved for 3) finish the files left, each
    exactly once."""
    names = [f"note-{number}.docx" for number in range(8)]
    worker_env = {"FINASSIST_DATA_DIR": str(media.parent)}  # the same media folder as this test's
    worker = start_worker(test_queue, **worker_env)
    uploads_receive(
        collection=library["funds"],
        files=files(*[(name, docx(name, {"Body": [f"Paragraph of {name}."]})) for name in names]),
    )
    worker.kill_main_when(
        lambda: (
            Upload.objects.filter(status=UploadStatus.DONE).exists()
            and Upload.objects.exclude(status=UploadStatus.DONE).exists()
        ),
        120,
        "a first file parsed, and others not yet",
    )
    assert Upload.objects.exclude(status=UploadStatus.DONE).exists(), "killed too late to test anything"

    start_worker(test_queue, **worker_env)
    settings.INGEST_REQUEUE_AFTER_S = 3

    def finished() -> bool:
        uploads_requeue_stale()
        documents_requeue_stale()
        time.sleep(1)
        return not Upload.objects.exclude(status=UploadStatus.DONE).exists() and not (
            Document.objects.filter(external_id__in=names).exclude(status=DocumentStatus.READY).exists()
        )

    wait_for(finished, 180, "every file parsed and indexed")

    assert list(Upload.objects.values_list("documents", flat=True)) == [1] * len(names)
    documents = Document.objects.filter(external_id__in=names)
    assert sorted(documents.values_list("external_id", "version")) == [(name, 1) for name in sorted(names)]
    assert stored(media) == sorted(str(document.file.name) for document in documents)
    assert all(document.chunks.count() == 1 for document in documents)

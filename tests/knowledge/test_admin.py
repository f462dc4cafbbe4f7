import re
import threading
from collections.abc import Callable

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from playwright.sync_api import expect

from assistant.celery import app
from assistant.knowledge.models import Chunk, Document, DocumentStatus, Upload, UploadStatus
from tests.conftest import SCREENSHOTS, fits_width
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


def _poller(page: str) -> str:
    found = re.search(r'<div id="document-progress"[^>]*>', page)
    assert found, "the list has no status poller"
    return found.group(0)


def _status_cells(page: str) -> dict[str, str]:
    return dict(re.findall(r'<span id="(document-(?:status|progress)-\d+)"[^>]*>(.*?)</span>\n?', page, re.S))


def test_while_something_is_indexing_the_list_polls_its_status_cells_in_place(manager, library):
    bonds = Document.objects.get(external_id="bonds.md")
    Document.objects.filter(pk=bonds.pk).update(
        status=DocumentStatus.PROCESSING, chunks_total=4, chunks_done=1
    )

    page = manager.get("/admin/knowledge/document/?collection__id__exact=" + str(library["funds"].pk))

    html = page.content.decode()
    assert 'http-equiv="refresh"' not in html
    assert "htmx-2.0.11.min.js" in html
    poller = _poller(html)
    assert 'hx-trigger="every 3s"' in poller
    assert f'hx-get="/admin/knowledge/document/?collection__id__exact={library["funds"].pk}"' in poller
    assert "1 / 4" in _status_cells(html)[f"document-progress-{bonds.pk}"]


def test_the_status_fragment_follows_a_documents_status_until_nothing_is_indexing(manager, library):
    bonds = Document.objects.get(external_id="bonds.md")
    Document.objects.filter(pk=bonds.pk).update(
        status=DocumentStatus.PROCESSING, chunks_total=4, chunks_done=1
    )

    fragment = manager.get("/admin/knowledge/document/", headers={"HX-Request": "true"}).content.decode()

    assert "<html" not in fragment
    cells = _status_cells(fragment)
    assert "processing" in cells[f"document-status-{bonds.pk}"]
    assert cells[f"document-progress-{bonds.pk}"] == "1 / 4"
    assert 'hx-swap-oob="true"' in fragment
    assert 'hx-trigger="every 3s"' in _poller(fragment)

    Document.objects.filter(pk=bonds.pk).update(
        status=DocumentStatus.FAILED, chunks_done=2, error="the embedding service is down"
    )
    fragment = manager.get("/admin/knowledge/document/", headers={"HX-Request": "true"}).content.decode()

    cells = _status_cells(fragment)
    assert "failed" in cells[f"document-status-{bonds.pk}"]
    assert "the embedding service is down" in cells[f"document-status-{bonds.pk}"]
    assert cells[f"document-progress-{bonds.pk}"] == "2 / 4"
    assert "hx-trigger" not in _poller(fragment)


def test_the_document_list_does_not_poll_when_nothing_is_indexing(manager, library):
    page = manager.get("/admin/knowledge/document/").content.decode()

    assert "hx-trigger" not in _poller(page)


def test_the_document_list_links_to_the_upload_page_of_each_collection(manager, library):
    page = manager.get("/admin/knowledge/document/").content.decode()

    assert "Upload files" in page
    for collection in library.values():
        assert (
            f'href="/admin/knowledge/collection/{collection.pk}/upload/">into {collection.name}</a>' in page
        )


def test_a_list_filtered_to_a_collection_uploads_straight_into_it(manager, library):
    funds = library["funds"]

    page = manager.get(f"/admin/knowledge/document/?collection__id__exact={funds.pk}").content.decode()

    assert (
        f'<a class="addlink" href="/admin/knowledge/collection/{funds.pk}/upload/">Upload files</a>' in page
    )
    assert "into private" not in page


def test_who_cannot_upload_sees_no_upload_link(client, library):
    viewer = User.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_document"))
    client.force_login(viewer)

    page = client.get("/admin/knowledge/document/")

    assert page.status_code == 200
    assert "Upload files" not in page.content.decode()


def _metadata(page: str) -> str:
    found = re.search(r'<textarea name="metadata"[^>]*>(.*?)</textarea>', page, re.S)
    assert found, "the form has no metadata field"
    return found.group(1).strip()


def test_the_upload_form_prefills_an_empty_object_not_null(manager, library):
    page = manager.get(f"/admin/knowledge/collection/{library['funds'].pk}/upload/").content.decode()

    assert _metadata(page) == "{}"


def test_the_replace_form_prefills_the_documents_metadata_and_never_null(manager, library):
    equity = Document.objects.get(external_id="equity.md")
    bonds = Document.objects.get(external_id="bonds.md")
    Document.objects.filter(pk=equity.pk).update(metadata={"region": "EU"})

    assert _metadata(manager.get(f"/admin/knowledge/document/{bonds.pk}/replace/").content.decode()) == "{}"
    assert (
        _metadata(manager.get(f"/admin/knowledge/document/{equity.pk}/replace/").content.decode())
        == "{&quot;region&quot;: &quot;EU&quot;}"
    )
    refused = manager.post(
        f"/admin/knowledge/document/{bonds.pk}/replace/", {"file": SimpleUploadedFile("v2.exe", b"MZ")}
    )
    assert _metadata(refused.content.decode()) == "{}"


def test_the_document_page_offers_a_new_version(manager, library):
    document = Document.objects.get(external_id="equity.md")

    page = manager.get(f"/admin/knowledge/document/{document.pk}/change/").content.decode()

    assert f'href="/admin/knowledge/document/{document.pk}/replace/">Replace with a new version</a>' in page


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


@pytest.fixture
def indexing(library) -> Document:
    bonds = Document.objects.get(external_id="bonds.md")
    Document.objects.filter(pk=bonds.pk).update(
        status=DocumentStatus.PROCESSING, chunks_total=4, chunks_done=1
    )
    return bonds


@pytest.fixture
def equity(library) -> Document:
    return Document.objects.get(external_id="equity.md")


def _elsewhere(work: Callable[[], object]) -> None:
    """Database work in a thread of its own, as a worker does it, while the browser's loop runs here."""

    def run() -> None:
        try:
            work()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()


def _sign_in_as_kim(page, url: str, next_path: str) -> None:
    page.goto(f"{url}/admin/login/?next={next_path}")
    page.fill("#id_username", "kim")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")


@pytest.mark.browser
def test_the_documents_list_updates_statuses_in_place_and_leads_to_the_upload_page(
    library, indexing, site, browser_page
):
    page = browser_page
    funds = library["funds"].pk
    _sign_in_as_kim(page, site.url, "/admin/knowledge/document/")
    status = page.locator(f"#document-status-{indexing.pk}")
    assert "processing" in status.inner_text()
    page.evaluate("window.notReloaded = true")
    page.screenshot(path=str(SCREENSHOTS / "knowledge-admin-documents-indexing.png"), full_page=True)

    _elsewhere(
        lambda: Document.objects.filter(pk=indexing.pk).update(status=DocumentStatus.READY, chunks_done=4)
    )

    expect(status).to_contain_text("ready", timeout=10_000)
    assert page.locator(f"#document-progress-{indexing.pk}").inner_text() == "4 / 4"
    assert page.evaluate("window.notReloaded") is True
    page.click("summary:has-text('Upload files')")
    page.screenshot(path=str(SCREENSHOTS / "knowledge-admin-documents.png"), full_page=True)
    page.click("a:has-text('into funds')")
    page.wait_for_url(f"**/admin/knowledge/collection/{funds}/upload/")
    assert page.locator("#content h1").inner_text() == "Upload documents into funds"
    assert page.input_value("textarea[name=metadata]") == "{}"
    page.screenshot(path=str(SCREENSHOTS / "knowledge-admin-upload.png"), full_page=True)


# Where a title and a button could meet: the titles, and every button or object tool shown.
OVERLAPS = """() => {
  const shown = (selector) => [...document.querySelectorAll(selector)].filter((e) => e.checkVisibility());
  const buttons = shown(".object-tools a, .object-tools summary, #content a.button, #content [type=submit]");
  const meet = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  return shown("#content h1, #content h2").flatMap((title) => buttons
    .filter((button) => meet(title.getBoundingClientRect(), button.getBoundingClientRect()))
    .map((button) => title.textContent.trim() + " / " + button.textContent.trim()));
}"""


@pytest.mark.browser
def test_buttons_never_cover_the_titles_of_the_knowledge_pages(library, equity, site, any_page):
    page = any_page
    funds = library["funds"].pk
    _sign_in_as_kim(page, site.url, "/admin/knowledge/document/")

    for name, path in [
        ("documents", "/admin/knowledge/document/"),
        ("document", f"/admin/knowledge/document/{equity.pk}/change/"),
        ("replace", f"/admin/knowledge/document/{equity.pk}/replace/"),
        ("upload", f"/admin/knowledge/collection/{funds}/upload/"),
        ("collections", "/admin/knowledge/collection/"),
        ("uploads", "/admin/knowledge/upload/"),
    ]:
        page.goto(site.url + path)
        page.locator("#content h1").wait_for()
        assert page.evaluate(OVERLAPS) == [], name
        assert fits_width(page), name
        page.screenshot(path=str(SCREENSHOTS / f"knowledge-admin-{page.size}-{name}.png"), full_page=True)

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from assistant.core.e5 import MULTILINGUAL_MODEL
from assistant.core.errors import ApplicationError
from assistant.core.hf import BUNDLED_MODEL
from assistant.knowledge.models import Chunk, Collection, Document, Upload, UploadStatus
from assistant.knowledge.parsers import PARSERS
from assistant.knowledge.search import MAX_K, Reader, SearchRequest, knowledge_search, readable_collections
from assistant.knowledge.selectors import document_get, documents_indexing, uploads_parsing
from assistant.knowledge.services.submission import document_reindex
from assistant.knowledge.services.uploads import Receipt, uploads_receive

ACCEPT = ",".join(sorted(PARSERS))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        clean_one = super().clean
        files = data if isinstance(data, list | tuple) else [data]
        return [clean_one(item, initial) for item in files]


class MetadataField(forms.JSONField):
    """A JSON object that shows as `{}` when there is none, never as `null`."""

    def prepare_value(self, value: Any) -> str:
        return "{}" if value is None else str(super().prepare_value(value))


class DocumentDetailsForm(forms.Form):
    effective_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    effective_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    metadata = MetadataField(required=False, help_text='a JSON object, e.g. {"region": "EU"}')

    def clean_metadata(self) -> dict[str, Any]:
        value = self.cleaned_data.get("metadata") or {}
        if not isinstance(value, dict):
            raise forms.ValidationError("metadata must be a JSON object")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("effective_from"), data.get("effective_to")
        if start and end and end < start:
            self.add_error("effective_to", "the effective period ends before it starts")
        return data


class UploadForm(DocumentDetailsForm):
    # A declared field: Django's form metaclass moves it aside, so it does not hide Form.files.
    files = MultipleFileField(  # type: ignore[assignment]
        widget=MultipleFileInput(attrs={"accept": ACCEPT}),
        help_text=f"one or many files ({', '.join(sorted(PARSERS))}); CSV and JSONL hold FAQ pairs",
    )


class ReplaceForm(DocumentDetailsForm):
    file = forms.FileField(widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}))


class TryQueryForm(forms.Form):
    query = forms.CharField(max_length=2000, widget=forms.TextInput(attrs={"size": 80, "autofocus": True}))
    mode = forms.ChoiceField(choices=[(m, m) for m in ("hybrid", "vector", "lexical")], initial="hybrid")
    k = forms.IntegerField(min_value=1, max_value=MAX_K, initial=10)

    def __init__(self, data: Any, *, reader: Reader) -> None:
        super().__init__(data)
        self.fields["collections"] = forms.ModelMultipleChoiceField(
            queryset=readable_collections(reader), required=False
        )
        self.order_fields(["query", "collections", "mode", "k"])


def _report_receipt(request: HttpRequest, receipt: Receipt) -> None:
    if receipt.queued:
        messages.success(
            request,
            f"{len(receipt.queued)} file(s) received: each is parsed on an ingest worker, then indexed.",
        )
    for rejected in receipt.rejected:
        messages.error(request, f"Rejected {rejected.name}: {rejected.reason}")


def _uploads_of(collection: Collection) -> str:
    return reverse("admin:knowledge_upload_changelist") + f"?collection__id__exact={collection.pk}"


class CollectionForm(forms.ModelForm):
    class Meta:
        model = Collection
        fields = [
            "name",
            "description",
            "embedding_model",
            "second_embedding_model",
            "rerank_depth",
            "reader_groups",
            "reader_users",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "embedding_model" in self.fields:  # a new collection's: read-only once created
            models = list(dict.fromkeys([settings.EMBEDDING_MODEL, BUNDLED_MODEL, MULTILINGUAL_MODEL]))
            self.fields["embedding_model"] = forms.ChoiceField(
                choices=[(name, name) for name in models],
                initial=settings.EMBEDDING_MODEL,
                help_text=f"{MULTILINGUAL_MODEL} reads Chinese as well as English and cannot be "
                "fine-tuned; `manage.py reembed` moves a collection to another model later",
            )
            self.fields["second_embedding_model"] = forms.ChoiceField(
                choices=[("", "none"), *((name, name) for name in models)],
                required=False,
                help_text=f"embeds every chunk as well, for questions the first model cannot read: "
                f"{MULTILINGUAL_MODEL} beside an English model answers Chinese questions and leaves "
                "English ones as they were; `manage.py reembed --second` changes it later",
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        second = cleaned.get("second_embedding_model")
        if second and second == cleaned.get("embedding_model"):
            self.add_error("second_embedding_model", "the second model must differ from the first")
        return cleaned


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    form = CollectionForm
    list_display = [
        "name",
        "description",
        "embedding_model",
        "embedding_version",
        "second_embedding_model",
        "documents",
        "upload_link",
    ]
    search_fields = ["name", "description"]
    filter_horizontal = ["reader_groups", "reader_users"]

    def get_readonly_fields(self, request: HttpRequest, obj: Collection | None = None) -> list[str]:
        """The models are chosen when the collection is created; re-embedding changes them, and
        activating a version of its retrieval task (`embedding:<name>`) tunes the first, and one of
        its reranking task (`reranker:<name>`) sets its reranker."""
        stamps = ["created_at", "updated_at"]
        models = ["embedding_model", "embedding_version", "second_embedding_model", "reranker_version"]
        return stamps if obj is None else [*models, *stamps]

    change_list_template = "admin/knowledge/collection_change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Collection]:
        return (
            super()
            .get_queryset(request)
            .select_related("embedding_version")
            .annotate(document_count=Count("documents"))
        )

    @admin.display(description="documents", ordering="document_count")
    def documents(self, collection: Collection) -> str:
        url = reverse("admin:knowledge_document_changelist") + f"?collection__id__exact={collection.pk}"
        return format_html('<a href="{}">{}</a>', url, getattr(collection, "document_count", 0))

    @admin.display(description="")
    def upload_link(self, collection: Collection) -> str:
        url = reverse("admin:knowledge_collection_upload", args=[collection.pk])
        return format_html('<a class="button" href="{}">Upload documents</a>', url)

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:collection_id>/upload/",
                self.admin_site.admin_view(self.upload_view),
                name="knowledge_collection_upload",
            ),
            path("try-a-query/", self.admin_site.admin_view(self.try_query_view), name="knowledge_try_query"),
            *super().get_urls(),
        ]

    def upload_view(self, request: HttpRequest, collection_id: int) -> HttpResponse:
        if not request.user.has_perm("knowledge.add_document"):
            raise PermissionDenied
        collection = get_object_or_404(Collection, pk=collection_id)
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            receipt = uploads_receive(
                collection=collection,
                files=form.cleaned_data["files"],
                uploaded_by=request.user,
                metadata=form.cleaned_data["metadata"],
                effective_from=form.cleaned_data["effective_from"],
                effective_to=form.cleaned_data["effective_to"],
            )
            _report_receipt(request, receipt)
            if receipt.queued:
                return HttpResponseRedirect(_uploads_of(collection))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Upload documents into {collection.name}",
            "collection": collection,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/knowledge/upload.html", context)

    def try_query_view(self, request: HttpRequest) -> HttpResponse:
        reader = Reader.of(request.user)
        form = TryQueryForm(request.GET or None, reader=reader)
        response = None
        if form.is_valid():
            try:
                response = knowledge_search(
                    reader=reader,
                    request=SearchRequest(
                        query=form.cleaned_data["query"],
                        k=form.cleaned_data["k"],
                        collections=[c.name for c in form.cleaned_data["collections"]] or None,
                        mode=form.cleaned_data["mode"],
                    ),
                )
            except ApplicationError as exc:
                form.add_error(exc.field or None, exc.message)
        context = {
            **self.admin_site.each_context(request),
            "title": "Try a query",
            "form": form,
            "response": response,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/knowledge/try_query.html", context)


CHUNK_PREVIEW = ("position", "page", "heading", "text", "token_count")
CHUNK_DETAIL = ("document", "collection", *CHUNK_PREVIEW, "embedding_model", "second_embedding_model")


class ChunkInline(admin.TabularInline):
    model = Chunk
    fields = CHUNK_PREVIEW
    readonly_fields = CHUNK_PREVIEW
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = "chunks (preview)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Chunk]:
        return super().get_queryset(request).defer("embedding", "search_vector")


@dataclass(frozen=True)
class UploadLink:
    collection: str
    url: str


@dataclass(frozen=True)
class DocumentProgress:
    """A document's status and progress cells as the list shows them, to swap in place."""

    pk: int
    status: str
    progress: str


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["external_id", "title", "collection", "version", "status_badge", "progress", "indexed_at"]
    list_filter = ["collection", "status"]
    search_fields = ["external_id", "title", "source"]
    list_select_related = ["collection"]
    actions = ["reindex"]
    inlines = [ChunkInline]
    exclude = ["content"]
    readonly_fields = [
        "collection",
        "external_id",
        "title",
        "source",
        "file",
        "version",
        "checksum",
        "status",
        "error",
        "chunks_total",
        "chunks_done",
        "indexed_at",
        "created_at",
        "updated_at",
    ]
    change_list_template = "admin/knowledge/document_change_list.html"
    change_form_template = "admin/knowledge/document_change_form.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # documents come in through a collection's upload page

    @admin.display(description="status", ordering="status")
    def status_badge(self, document: Document) -> str:
        return format_html('<span id="document-status-{}">{}</span>', document.pk, self._status(document))

    @admin.display(description="chunks done")
    def progress(self, document: Document) -> str:
        return format_html('<span id="document-progress-{}">{}</span>', document.pk, self._progress(document))

    @staticmethod
    def _status(document: Document) -> str:
        colours = {"ready": "#2e7d32", "failed": "#c62828", "processing": "#1565c0", "pending": "#6d6d6d"}
        badge = format_html('<b style="color:{}">{}</b>', colours[document.status], document.status)
        if document.error:
            return format_html(
                '{}<br><span title="{}">{}</span>', badge, document.error, document.error[:120]
            )
        return badge

    @staticmethod
    def _progress(document: Document) -> str:
        if not document.chunks_total:
            return "-"
        return f"{document.chunks_done} / {document.chunks_total}"

    @admin.action(description="Re-index the selected documents", permissions=["change"])
    def reindex(self, request: HttpRequest, queryset: QuerySet[Document]) -> None:
        for document in queryset:
            document_reindex(document=document)
        messages.success(request, f"{queryset.count()} document(s) queued for indexing.")

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """The list; while documents are indexing, it asks for their status every few seconds
        (htmx, the same address) and swaps the status cells in place."""
        context = {
            **(extra_context or {}),
            "indexing": documents_indexing(),
            "upload_links": self._upload_links(request),
        }
        response = super().changelist_view(request, context)
        htmx = request.headers.get("HX-Request") == "true"
        if htmx and isinstance(response, TemplateResponse) and response.context_data:
            documents = response.context_data["cl"].result_list
            context["documents_progress"] = [
                DocumentProgress(d.pk, self._status(d), self._progress(d)) for d in documents
            ]
            return HttpResponse(
                render_to_string("admin/knowledge/_document_progress.html", context, request=request)
            )
        return response

    def _upload_links(self, request: HttpRequest) -> list[UploadLink]:
        """Where files may be uploaded from the list: the collection it is filtered to, else each."""
        if not request.user.has_perm("knowledge.add_document"):
            return []
        collections = Collection.objects.order_by("name")
        chosen = request.GET.get("collection__id__exact", "")
        if chosen.isdigit() and collections.filter(pk=chosen).exists():
            collections = collections.filter(pk=chosen)
        return [
            UploadLink(c.name, reverse("admin:knowledge_collection_upload", args=[c.pk])) for c in collections
        ]

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:document_id>/replace/",
                self.admin_site.admin_view(self.replace_view),
                name="knowledge_document_replace",
            ),
            *super().get_urls(),
        ]

    def replace_view(self, request: HttpRequest, document_id: int) -> HttpResponse:
        if not request.user.has_perm("knowledge.change_document"):
            raise PermissionDenied
        document = document_get(document_id)
        if document is None:
            raise Http404(f"no document {document_id}")
        initial = {
            "effective_from": document.effective_from,
            "effective_to": document.effective_to,
            "metadata": document.metadata,
        }
        form = ReplaceForm(request.POST or None, request.FILES or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            receipt = uploads_receive(
                collection=document.collection,
                files=[form.cleaned_data["file"]],
                uploaded_by=request.user,
                replaces=document,
                metadata=form.cleaned_data["metadata"],
                effective_from=form.cleaned_data["effective_from"],
                effective_to=form.cleaned_data["effective_to"],
            )
            for rejected in receipt.rejected:
                form.add_error("file", rejected.reason)
            if receipt.queued:
                _report_receipt(request, receipt)
                return HttpResponseRedirect(_uploads_of(document.collection))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Replace {document.external_id}",
            "document": document,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/knowledge/replace.html", context)


UPLOAD_DETAIL = (
    "collection",
    "replaces",
    "name",
    "size",
    "status",
    "reason",
    "documents",
    "uploaded_by",
    "metadata",
    "effective_from",
    "effective_to",
    "created_at",
    "progressed_at",
)


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    """Received files and what became of them: parsed into documents, or rejected and why."""

    list_display = [
        "name",
        "collection",
        "replaces",
        "status_badge",
        "documents",
        "uploaded_by",
        "created_at",
    ]
    list_filter = ["collection", "status"]
    search_fields = ["name", "reason"]
    list_select_related = ["collection", "replaces", "uploaded_by"]
    fields = UPLOAD_DETAIL
    readonly_fields = UPLOAD_DETAIL
    change_list_template = "admin/knowledge/refreshing_change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # files come in through a collection's upload page

    def has_change_permission(self, request: HttpRequest, obj: Upload | None = None) -> bool:
        return False

    @admin.display(description="status", ordering="status")
    def status_badge(self, upload: Upload) -> str:
        colours = {
            UploadStatus.DONE: "#2e7d32",
            UploadStatus.REJECTED: "#c62828",
            UploadStatus.FAILED: "#c62828",
            UploadStatus.PARSING: "#1565c0",
            UploadStatus.QUEUED: "#6d6d6d",
        }
        badge = format_html('<b style="color:{}">{}</b>', colours[UploadStatus(upload.status)], upload.status)
        if upload.reason:
            return format_html("{}<br>{}", badge, upload.reason)
        return badge

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        busy = uploads_parsing()
        return super().changelist_view(
            request, {**(extra_context or {}), "refresh_seconds": 3 if busy else None}
        )


@admin.register(Chunk)
class ChunkAdmin(admin.ModelAdmin):
    list_display = ["document", "position", "page", "heading", "token_count", "embedding_model"]
    list_filter = ["collection", "embedding_model"]
    search_fields = ["text", "heading", "document__external_id"]
    list_select_related = ["document", "document__collection"]
    fields = CHUNK_DETAIL
    readonly_fields = CHUNK_DETAIL

    def get_queryset(self, request: HttpRequest) -> QuerySet[Chunk]:
        return super().get_queryset(request).defer("embedding", "search_vector")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Chunk | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Chunk | None = None) -> bool:
        return False

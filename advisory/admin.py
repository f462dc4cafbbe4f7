from django.contrib import admin
from django.http import HttpRequest

from advisory.models import Answer, Citation, Client, Holding, Keyword, Letter
from advisory.services import letter_create


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [name for name in self.fields or () if isinstance(name, str)]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class HoldingInline(admin.TabularInline):
    model = Holding
    extra = 0


class LetterInline(ReadOnlyInline):
    """Letters are added on their own page, where their keywords are extracted."""

    model = Letter
    fields = ["written_on", "author", "text"]
    show_change_link = True


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ["reference", "full_name", "advisor", "risk_tolerance", "horizon_years"]
    list_filter = ["risk_tolerance", "income_band"]
    search_fields = ["reference", "full_name"]
    autocomplete_fields = ["advisor"]
    inlines = [HoldingInline, LetterInline]


class KeywordInline(ReadOnlyInline):
    model = Keyword
    fields = ["category", "phrase", "start", "end", "score"]


@admin.register(Letter)
class LetterAdmin(admin.ModelAdmin):
    list_display = ["client", "written_on", "author"]
    search_fields = ["client__reference", "client__full_name"]
    autocomplete_fields = ["client"]
    inlines = [KeywordInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Letter | None = None) -> list[str]:
        # A letter is a record of what was written: corrected by a new letter, not edited.
        return ["client", "written_on", "author", "text"] if obj else []

    def save_model(self, request: HttpRequest, obj: Letter, form: object, change: bool) -> None:
        if not change:
            created = letter_create(
                client=obj.client, written_on=obj.written_on, author=obj.author, text=obj.text
            )
            obj.pk = created.pk


class CitationInline(ReadOnlyInline):
    model = Citation
    fields = ["number", "cited", "title", "collection", "version", "page", "score"]


@admin.register(Answer)
class AnswerAdmin(admin.ModelAdmin):
    """Every answer with what it stood on, for audit; nothing here is edited."""

    list_display = ["created_at", "advisor", "client", "scope", "status", "rating", "question"]
    list_filter = ["status", "scope", "backend", "rating"]
    search_fields = ["question", "feedback"]
    inlines = [CitationInline]
    readonly_fields = [f.name for f in Answer._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone

from assistant.chat.models import Conversation, IntentRoute, Message, Ticket


@admin.register(IntentRoute)
class IntentRouteAdmin(admin.ModelAdmin):
    """Which intents a person takes over, and what the bot says first."""

    list_display = ["intent", "label", "route", "reply"]
    list_editable = ["route"]
    list_filter = ["route"]
    search_fields = ["intent", "label", "reply"]
    readonly_fields = ["intent"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # one route per intent of the model, made by migrate

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    fields = [
        "created_at",
        "role",
        "kind",
        "text",
        "intent",
        "confidence",
        "model_version",
        "rating",
        "feedback",
    ]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["public_id", "user", "status", "created_at", "updated_at"]
    list_filter = ["status"]
    readonly_fields = ["public_id", "session_key", "user", "status", "created_at", "updated_at"]
    inlines = [MessageInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    """The staff queue of handoffs: oldest open first."""

    list_display = ["pk", "created_at", "intent", "status", "assignee"]
    list_filter = ["status", "intent"]
    readonly_fields = ["conversation", "message", "intent", "transcript", "created_at", "updated_at"]
    fields = ["status", "assignee", *readonly_fields]
    actions = ["take", "resolve"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Take the selected tickets")
    def take(self, request: HttpRequest, queryset: object) -> None:
        queryset.filter(status=Ticket.Status.OPEN).update(
            status=Ticket.Status.IN_PROGRESS, assignee=request.user, updated_at=timezone.now()
        )

    @admin.action(description="Mark the selected tickets resolved")
    def resolve(self, request: HttpRequest, queryset: object) -> None:
        queryset.update(status=Ticket.Status.RESOLVED, updated_at=timezone.now())

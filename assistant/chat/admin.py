from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import linebreaksbr
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join

from assistant.chat.models import Conversation, IntentRoute, Message, Ticket
from assistant.chat.selectors import ticket_replies
from assistant.chat.services import ticket_reply
from assistant.core.access import signed_in


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


MESSAGE_FIELDS = (
    "created_at",
    "role",
    "author",
    "kind",
    "text",
    "intent",
    "confidence",
    "model_version",
    "rating",
    "feedback",
)


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    fields = MESSAGE_FIELDS
    readonly_fields = MESSAGE_FIELDS
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


class TicketForm(forms.ModelForm):
    reply = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="sent to the customer in their conversation (they see it when they return to the chat)",
    )

    class Meta:
        model = Ticket
        fields = ["status", "assignee"]


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    """The staff queue of handoffs: oldest open first. A reply here reaches the customer's chat."""

    form = TicketForm

    list_display = ["pk", "created_at", "intent", "status", "assignee"]
    list_filter = ["status", "intent"]
    readonly_fields = [
        "conversation",
        "message",
        "intent",
        "replies",
        "transcript",
        "created_at",
        "updated_at",
    ]
    fields = [
        "status",
        "assignee",
        "replies",
        "reply",
        "conversation",
        "message",
        "intent",
        "transcript",
        "created_at",
        "updated_at",
    ]
    actions = ["take", "resolve"]

    @admin.display(description="replies sent")
    def replies(self, ticket: Ticket) -> str:
        """What colleagues wrote to the customer, oldest first: who, when, and the text."""
        sent = [
            (
                message.author.get_full_name() or message.author.get_username()
                if message.author
                else "a colleague",
                date_format(timezone.localtime(message.created_at), "DATETIME_FORMAT"),
                linebreaksbr(message.text),
            )
            for message in ticket_replies(ticket)
        ]
        if not sent:
            return "none yet"
        return format_html(
            '<ol class="ticket-replies">{}</ol>',
            format_html_join("", "<li><strong>{}</strong>, {}<br>{}</li>", sent),
        )

    def save_model(self, request: HttpRequest, obj: Ticket, form: TicketForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if form.cleaned_data.get("reply", "").strip():
            ticket_reply(ticket=obj, staff=signed_in(request), text=form.cleaned_data["reply"])

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Take the selected tickets")
    def take(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        queryset.filter(status=Ticket.Status.OPEN).update(
            status=Ticket.Status.IN_PROGRESS, assignee=signed_in(request), updated_at=timezone.now()
        )

    @admin.action(description="Mark the selected tickets resolved")
    def resolve(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        queryset.update(status=Ticket.Status.RESOLVED, updated_at=timezone.now())

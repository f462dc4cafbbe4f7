from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from assistant.integrations.keys import SCOPES, api_key_issue, api_key_revoke, token_issue
from assistant.integrations.models import ApiKey, PersonalToken, System, WebhookDelivery, WebhookEndpoint
from assistant.integrations.webhooks import delivery_resend, secret_new


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    fields = ["name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at"]
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # keys are issued with the action "Issue an API key", which shows the key once


class WebhookEndpointInline(admin.TabularInline):
    model = WebhookEndpoint
    extra = 0
    fields = ["url", "event_types", "active", "secret"]
    readonly_fields = ["secret"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # an address typed bare


@admin.register(System)
class SystemAdmin(admin.ModelAdmin):
    list_display = ["name", "description", "active", "created_at"]
    search_fields = ["name"]
    inlines = [ApiKeyInline, WebhookEndpointInline]
    actions = ["issue_key"]

    @admin.action(description="Issue an API key with every scope (shown once)")
    def issue_key(self, request: HttpRequest, queryset: QuerySet[System]) -> None:
        for system in queryset:
            _, text = api_key_issue(system=system, name="issued in the admin", scopes=list(SCOPES))
            self.message_user(
                request,
                f"API key for {system.name} (copy it now, it is not shown again): {text}",
                messages.WARNING,
            )

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        for endpoint in formset.save(commit=False):
            if isinstance(endpoint, WebhookEndpoint) and not endpoint.secret:
                endpoint.secret = secret_new()
            endpoint.save()
        formset.save_m2m()
        for obj in formset.deleted_objects:
            obj.delete()


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["system", "name", "prefix", "scopes", "last_used_at", "revoked_at"]
    list_filter = ["system"]
    readonly_fields = ["system", "prefix", "created_at", "last_used_at", "revoked_at"]
    fields = ["system", "name", "scopes", "prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset:
            api_key_revoke(key)
        self.message_user(request, f"{queryset.count()} key(s) revoked")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
    ]
    list_filter = ["status", "event_type", "endpoint__system"]
    search_fields = ["message_id"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    actions = ["resend"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Send again now")
    def resend(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        for delivery in queryset:
            delivery_resend(delivery)
        self.message_user(request, f"{queryset.count()} delivery(ies) queued again")


@admin.register(PersonalToken)
class PersonalTokenAdmin(admin.ModelAdmin):
    """Tokens are issued with the users' action "Issue a personal API token", shown once."""

    list_display = ["user", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["user", "prefix", "created_at", "last_used_at"]
    search_fields = ["user__username", "prefix"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[PersonalToken]) -> None:
        from django.utils import timezone

        revoked = queryset.filter(revoked_at=None).update(revoked_at=timezone.now())
        self.message_user(request, f"{revoked} token(s) revoked")


@admin.action(description="Issue a personal API token (shown once)")
def issue_token(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Any]) -> None:
    for user in queryset:
        modeladmin.message_user(
            request,
            f"API token for {user.get_username()} (copy it now, it is not shown again): {token_issue(user)}",
            messages.WARNING,
        )


def _users_issue_tokens() -> None:
    """The users' admin gains the action; DRF's plaintext tokens leave the admin."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import TokenProxy

    user_admin = admin.site._registry.get(get_user_model())
    if user_admin is not None:
        user_admin.actions = [*(user_admin.actions or []), issue_token]
    if admin.site.is_registered(TokenProxy):
        admin.site.unregister(TokenProxy)


_users_issue_tokens()

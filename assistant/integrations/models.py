"""Integrating systems: their API keys, the idempotency of their requests, and their webhooks."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class System(models.Model):
    """A system that calls the API (a claims platform, a core-banking feed): it sees only its own data."""

    name = models.SlugField(max_length=64, unique=True)
    description = models.CharField(max_length=300, blank=True)
    active = models.BooleanField(default=True, help_text="an inactive system's keys are refused")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    """A revocable, scoped key. Only a hash of the secret is kept; the key is shown once, at creation."""

    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="keys")
    name = models.CharField(max_length=100, help_text="what the key is for, e.g. 'production'")
    prefix = models.CharField(max_length=16, unique=True, editable=False, help_text="identifies the key")
    secret_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list, help_text="e.g. claims:write, claims:read")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["system", "-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.system} / {self.name} ({self.prefix}…)"


class PersonalToken(models.Model):
    """A person's API token (`Authorization: Token ft_…`). Only a hash is kept; shown once, when issued."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    prefix = models.CharField(max_length=16, unique=True, editable=False, help_text="identifies the token")
    secret_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["user", "-created_at"]
        verbose_name = "personal API token"

    def __str__(self) -> str:
        return f"{self.user} ({self.prefix}…)"


class IdempotentRequest(models.Model):
    """The first response to a request with an `Idempotency-Key`, replayed for the same key and body."""

    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="idempotent_requests")
    key = models.CharField(max_length=255)
    operation = models.CharField(max_length=100, help_text="the endpoint the key was used on")
    request_hash = models.CharField(max_length=64, help_text="SHA-256 of the canonical request body")
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["system", "operation", "key"], name="idempotency_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.system} {self.operation} {self.key}"


class WebhookEndpoint(models.Model):
    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500)
    secret = models.CharField(
        max_length=100, editable=False, help_text="whsec_… (Standard Webhooks); shown in the admin"
    )
    event_types = models.JSONField(default=list, blank=True, help_text="events sent here; empty: all")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["system", "url"]

    def __str__(self) -> str:
        return f"{self.system} → {self.url}"

    def wants(self, event_type: str) -> bool:
        return self.active and (not self.event_types or event_type in self.event_types)


class WebhookDelivery(models.Model):
    """One event to one endpoint, with every attempt's outcome: the delivery log."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed", "failed (retries exhausted)"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    message_id = models.CharField(max_length=40, unique=True, help_text="the webhook-id header")
    event_type = models.CharField(max_length=64)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    log = models.JSONField(default=list, help_text="each attempt: time, status code or error, milliseconds")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(
                fields=["next_attempt_at"], condition=Q(status="pending"), name="delivery_pending_due"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.message_id} → {self.endpoint.url}"

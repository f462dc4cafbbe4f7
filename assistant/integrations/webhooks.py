"""Outgoing webhooks, signed as Standard Webhooks (https://www.standardwebhooks.com/).

Each event becomes one `WebhookDelivery` per subscribed endpoint, written in the transaction that
caused it and sent after it commits. Headers: `webhook-id` (the same on every retry, so the
receiver can drop duplicates), `webhook-timestamp` (Unix seconds of this attempt) and
`webhook-signature` (`v1,` + base64 HMAC-SHA256 of `id.timestamp.body` with the endpoint's
secret). A failed attempt (no answer, or not 2xx) is retried after each delay of
WEBHOOK_RETRY_DELAYS: a short delay as a delayed task, a long one by the periodic sweep, which also
sends anything a lost task left behind. After the last delay the delivery is marked failed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from datetime import timedelta
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from assistant.core.timing import ms_since
from assistant.integrations.dispatch import deliver_later
from assistant.integrations.models import System, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger("finassist.integrations")

SECRET_PREFIX = "whsec_"
# A delay up to this long is a delayed task; longer ones wait for the sweep (a Redis broker
# would hand a task delayed past its visibility timeout to a second worker).
TASK_DELAY_MAX_S = 60
SWEEP_BATCH = 100


def secret_new() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()


def event_emit(*, system: System, event_type: str, data: dict[str, Any]) -> list[WebhookDelivery]:
    """Record the event for each of the system's endpoints that wants it; sent once committed."""
    payload = {"type": event_type, "timestamp": timezone.now().isoformat(), "data": data}
    deliveries = [
        WebhookDelivery.objects.create(
            endpoint=endpoint,
            message_id=f"msg_{secrets.token_urlsafe(18)}",
            event_type=event_type,
            payload=payload,
            next_attempt_at=timezone.now(),
        )
        for endpoint in system.webhooks.all()
        if endpoint.wants(event_type)
    ]
    for delivery in deliveries:
        deliver_later(delivery.pk)
    return deliveries


def delivery_attempt(delivery_id: int) -> WebhookDelivery | None:
    """One attempt, if the delivery is still pending and due; safe to run twice.

    A task that arrives before the delivery is due (a timer that fired a little early) sends
    itself again for the time that is left.
    """
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .select_related("endpoint")
            .filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING)
            .first()
        )
        if delivery is None:
            return None
        due = delivery.next_attempt_at is None or delivery.next_attempt_at <= timezone.now()
        if due:
            _attempt(delivery)
            delivery.save()
    if delivery.status == WebhookDelivery.Status.PENDING and delivery.next_attempt_at is not None:
        delay = (delivery.next_attempt_at - timezone.now()).total_seconds()
        if delay <= TASK_DELAY_MAX_S:
            deliver_later(delivery.pk, delay_s=max(delay, 0))
    return delivery if due else None


def _attempt(delivery: WebhookDelivery) -> None:
    endpoint: WebhookEndpoint = delivery.endpoint
    body = body_of(delivery)
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "user-agent": "finassist-webhooks/1",
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(endpoint.secret, delivery.message_id, timestamp, body),
    }
    started = time.perf_counter()
    code: int | None = None
    error = ""
    try:
        response = httpx.post(endpoint.url, content=body, headers=headers, timeout=settings.WEBHOOK_TIMEOUT_S)
        code = response.status_code
        if not 200 <= code < 300:
            error = f"HTTP {code}: {response.text[:200]}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    now = timezone.now()
    delivery.attempts += 1
    delivery.last_status_code = code
    delivery.last_error = error
    delivery.log = [
        *delivery.log,
        {
            "at": now.isoformat(),
            "status_code": code,
            "error": error,
            "ms": ms_since(started),
        },
    ]
    if not error:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = (
            WebhookDelivery.Status.DELIVERED,
            now,
            None,
        )
    elif delivery.attempts > len(settings.WEBHOOK_RETRY_DELAYS):
        delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.FAILED, None
        logger.warning(
            "webhook %s to %s failed %d times: %s",
            delivery.message_id,
            endpoint.url,
            delivery.attempts,
            error,
        )
    else:
        delivery.next_attempt_at = now + timedelta(
            seconds=settings.WEBHOOK_RETRY_DELAYS[delivery.attempts - 1]
        )


def deliveries_due() -> int:
    """Attempt every pending delivery that is due (the periodic sweep); how many were attempted."""
    due = list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=timezone.now()
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    return sum(delivery_attempt(pk) is not None for pk in due)


def delivery_resend(delivery: WebhookDelivery) -> None:
    """Send a delivery again now (from the admin), whatever its status; the attempts go on counting."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.PENDING, next_attempt_at=timezone.now()
    )
    deliver_later(delivery.pk)

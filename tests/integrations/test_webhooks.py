"""Webhooks as Standard Webhooks receivers see them: signed, retried after a failure, logged."""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from assistant.integrations.models import System, WebhookDelivery, WebhookEndpoint
from assistant.integrations.webhooks import event_emit, secret_new, signature
from tests.support.processes import wait_for


def test_signatures_match_the_standard_webhooks_reference_vector():
    assert (
        signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
            b'{"test": 2432232314}',
        )
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )  # fmt: skip


def test_a_worker_delivers_a_signed_event_and_retries_after_the_receiver_failed(
    start_worker, test_queue, receiver
):
    start_worker(test_queue, FINASSIST_WEBHOOK_RETRY_DELAYS="1,1,1")
    secret = secret_new()
    hook = receiver(secret, failures=1)
    system = System.objects.create(name="claims-core")
    WebhookEndpoint.objects.create(system=system, url=hook.url, secret=secret, event_types=["claim.triaged"])
    WebhookEndpoint.objects.create(system=system, url="http://127.0.0.1:9/never", secret=secret_new(),
                                   event_types=["claim.decided"])  # fmt: skip

    with transaction.atomic():
        event_emit(system=system, event_type="claim.triaged", data={"id": 7, "outcome": "complete"})

    delivery = WebhookDelivery.objects.get()  # only the endpoint that wants the event
    wait_for(lambda: WebhookDelivery.objects.get().status == "delivered", 60, "the retried delivery")
    delivery.refresh_from_db()
    assert [r.answered for r in hook.received] == [500, 204]
    assert all(r.valid for r in hook.received)
    assert {r.headers["webhook-id"] for r in hook.received} == {delivery.message_id}
    assert json.loads(hook.received[1].body) == {
        "type": "claim.triaged",
        "timestamp": delivery.payload["timestamp"],
        "data": {"id": 7, "outcome": "complete"},
    }
    assert delivery.attempts == 2
    assert [entry["status_code"] for entry in delivery.log] == [500, 204]


@pytest.mark.django_db
def test_a_delivery_that_keeps_failing_is_marked_failed_after_the_last_retry(settings, receiver, test_queue):
    from assistant.integrations.webhooks import delivery_attempt

    settings.WEBHOOK_RETRY_DELAYS = [0]
    secret = secret_new()
    hook = receiver(secret, failures=5)
    system = System.objects.create(name="claims-core")
    WebhookEndpoint.objects.create(system=system, url=hook.url, secret=secret)
    delivery = event_emit(system=system, event_type="claim.decided", data={"id": 1})[0]

    delivery_attempt(delivery.pk)
    delivery_attempt(delivery.pk)
    delivery.refresh_from_db()

    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.attempts == 2
    assert "HTTP 500" in delivery.last_error


@pytest.mark.django_db
def test_a_webhook_address_typed_without_a_scheme_in_the_admin_is_kept_as_https(admin_client):
    response = admin_client.post(
        "/admin/integrations/system/add/",
        {
            "name": "claims-core",
            "description": "",
            "active": "on",
            "keys-TOTAL_FORMS": "0",
            "keys-INITIAL_FORMS": "0",
            "webhooks-TOTAL_FORMS": "1",
            "webhooks-INITIAL_FORMS": "0",
            "webhooks-0-url": "hooks.example.com/finassist",
            "webhooks-0-event_types": "[]",
            "webhooks-0-active": "on",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.url == "https://hooks.example.com/finassist"
    assert endpoint.secret.startswith("whsec_")

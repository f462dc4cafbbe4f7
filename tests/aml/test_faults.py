"""Faults in real processes: a worker's main process killed mid-way through a screening batch. A new
worker and the stale-work sweep resume the batch where it stopped, each transaction screened
exactly once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from aml.models import Alert, AuditEvent, Channel, Direction, Screening, ScreeningBatch
from aml.services.audit import audit_verify
from aml.services.screening import BATCH_CHUNK, TransactionInput, batch_submit
from aml.tasks import requeue_stale_task
from assistant.integrations.models import System, WebhookDelivery, WebhookEndpoint
from assistant.integrations.webhooks import secret_new
from tests.aml.conftest import account_open
from tests.support.processes import wait_for

ACCOUNTS = 15
BOOKINGS = 100  # each account's: 1,500 in all, screened in a chunk of 1,000, then one of 500
DEPOSITS = 4  # each account's last bookings, cash just under 10,000 a day apart: structuring alerts
PURCHASES = ("Groceries", "Coffee and cake", "Train ticket to Leeds")
DEPOSIT = "Cash deposit split to stay below the reporting limit"
# The workers' FINASSIST_AML_BATCH_REQUEUE_AFTER: how long a batch may go without progress before
# the sweep resumes it (120 s in production), short enough that the killed worker's batch is stale.
STALE_AFTER = {"FINASSIST_AML_BATCH_REQUEUE_AFTER": "2"}


def _bookings(number: str) -> list[TransactionInput]:
    now = timezone.now()
    items = []
    for n in range(BOOKINGS):
        deposit = n >= BOOKINGS - DEPOSITS
        items.append(
            TransactionInput(
                account=number,
                external_id=f"{number}-{n}",
                amount=Decimal("9500.00") if deposit else Decimal(12 + n % 40),
                currency="EUR",
                direction=Direction.IN if deposit else Direction.OUT,
                counterparty_name="Cash deposit" if deposit else "Shop Ltd",
                channel=Channel.CASH if deposit else Channel.CARD,
                booked_at=now - timedelta(days=BOOKINGS - n),
                narrative=DEPOSIT if deposit else PURCHASES[n % len(PURCHASES)],
            )
        )
    return items


def test_a_worker_main_process_killed_mid_batch_leaves_each_transaction_screened_exactly_once(
    start_worker, test_queue, typology_model, receiver
):
    typology_model()
    system = System.objects.create(name="core-banking")
    secret = secret_new()
    WebhookEndpoint.objects.create(
        system=system, url=receiver(secret).url, secret=secret, event_types=["aml.batch.completed"]
    )
    numbers = [account_open(f"CUS-F{n}", f"ACC-F{n}").number for n in range(ACCOUNTS)]
    first = start_worker(test_queue, **STALE_AFTER)
    batch = batch_submit(system=system, items=[item for number in numbers for item in _bookings(number)])
    total = ACCOUNTS * BOOKINGS

    def progress() -> tuple[str, int]:
        return ScreeningBatch.objects.values_list("status", "screened").get(pk=batch.pk)

    first.kill_main_when(
        lambda: progress() == (ScreeningBatch.Status.PROCESSING, BATCH_CHUNK),
        120,
        "the first worker to be mid-way through the batch",
    )
    assert progress() == (ScreeningBatch.Status.PROCESSING, BATCH_CHUNK)

    start_worker(test_queue, **STALE_AFTER)
    quiet = timedelta(seconds=int(STALE_AFTER["FINASSIST_AML_BATCH_REQUEUE_AFTER"]) + 1)
    wait_for(
        lambda: ScreeningBatch.objects.get(pk=batch.pk).progressed_at < timezone.now() - quiet,
        30,
        "the batch to go without progress for longer than the sweep waits",
    )  # a worker that starts fast would otherwise sweep a batch still within its quiet time
    assert requeue_stale_task.delay().get(timeout=60) == 1  # what beat sends every minute
    wait_for(
        lambda: progress()[0] == ScreeningBatch.Status.COMPLETE, 120, "the batch to be screened to its end"
    )

    batch.refresh_from_db()
    assert (batch.screened, batch.total) == (total, total)
    assert batch.finished_at is not None
    screened = sorted(Screening.objects.filter(batch=batch).values_list("transaction_id", flat=True))
    assert screened == sorted(batch.transactions.values_list("pk", flat=True))
    alerts = set(Alert.objects.filter(screening__batch=batch).values_list("pk", flat=True))
    assert len(alerts) >= ACCOUNTS  # each account's structured deposits raise one at least
    raised = list(AuditEvent.objects.filter(action="alert.raised").values_list("subject", flat=True))
    assert sorted(raised) == sorted(f"alert:{pk}" for pk in alerts)
    assert audit_verify() == []
    completed = WebhookDelivery.objects.filter(event_type="aml.batch.completed")
    assert [event.payload["data"] for event in completed] == [
        {"id": batch.pk, "screened": total, "alerts": len(alerts)}
    ]

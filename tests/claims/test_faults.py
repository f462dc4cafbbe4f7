"""Faults in real processes: a worker's main process killed mid-way through a batch of claims. A new
worker and the stale-work sweep finish the batch, each claim triaged exactly once."""

from __future__ import annotations

from assistant.integrations.models import WebhookDelivery, WebhookEndpoint
from assistant.integrations.webhooks import secret_new
from claims.demo import synthetic_claim_input, synthetic_policies_store
from claims.models import Claim, ClaimReport, ExtractedField, PolicyCheck, Triage
from claims.services.submission import claims_submit
from claims.synthetic import generate
from claims.tasks import requeue_stale_task
from tests.support.processes import wait_for

CLAIMS = 24
# The workers' FINASSIST_CLAIMS_REQUEUE_AFTER: how long a claim waits before the sweep sends it
# again (120 s in production), short enough that the sweep finds the killed worker's claim stale.
STALE_AFTER = {"FINASSIST_CLAIMS_REQUEUE_AFTER": "2"}


def test_a_worker_main_process_killed_mid_batch_leaves_each_claim_triaged_exactly_once(
    start_worker, test_queue, claims_models, claims_system, receiver
):
    claims_models()
    system = claims_system[0]
    secret = secret_new()
    WebhookEndpoint.objects.create(
        system=system, url=receiver(secret).url, secret=secret, event_types=["claim.triaged"]
    )
    policies, generated = generate(CLAIMS, seed=31)
    synthetic_policies_store(policies)
    first = start_worker(test_queue, **STALE_AFTER)
    claims = claims_submit(system=system, items=[synthetic_claim_input(c) for c in generated], batch=True)

    def count(status: str) -> int:
        return Claim.objects.filter(status=status).count()

    first.kill_main_when(
        lambda: count(Claim.Status.COMPLETE) >= 4 and count(Claim.Status.PROCESSING) == 1,
        120,
        "the first worker to be mid-way through the batch, triaging a claim",
    )
    in_flight = set(Claim.objects.filter(status=Claim.Status.PROCESSING).values_list("pk", flat=True))
    assert len(in_flight) == 1, "the claim being triaged was finished before the worker was killed"
    assert count(Claim.Status.COMPLETE) < CLAIMS - 1

    start_worker(test_queue, **STALE_AFTER)
    # What beat sends every minute; on the same queue, it runs once the new worker has taken the
    # claims still queued, and finds the killed worker's claim stale.
    assert requeue_stale_task.delay().get(timeout=120) == 1
    wait_for(lambda: count(Claim.Status.COMPLETE) == CLAIMS, 120, "every claim to be triaged")

    ids = sorted(claim.pk for claim in claims)
    assert sorted(Triage.objects.values_list("claim_id", flat=True)) == ids
    assert sorted(PolicyCheck.objects.values_list("claim_id", flat=True)) == ids
    assert sorted(ClaimReport.objects.values_list("claim_id", flat=True)) == ids
    events = WebhookDelivery.objects.filter(event_type="claim.triaged")
    assert sorted(event.payload["data"]["id"] for event in events) == ids
    fields = list(ExtractedField.objects.values_list("claim_id", "kind", "start"))
    assert len(fields) == len(set(fields)), "a claim has its extracted fields twice"
    attempts = dict(Claim.objects.values_list("pk", "attempts"))
    assert attempts == {pk: 2 if pk in in_flight else 1 for pk in ids}

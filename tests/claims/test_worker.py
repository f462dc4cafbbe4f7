"""Triage in real Celery workers: a worker killed mid-triage loses no claim."""

from __future__ import annotations

from claims.demo import synthetic_claim_input, synthetic_policies_store
from claims.models import Claim, ExtractedField, Triage
from claims.services.submission import claims_requeue_stale, claims_submit
from claims.synthetic import generate
from tests.support.processes import wait_for

CLAIMS = 24


def test_a_worker_killed_mid_triage_loses_no_claim(start_worker, test_queue, claims_models, claims_system):
    claims_models()
    policies, generated = generate(CLAIMS, seed=31)
    synthetic_policies_store(policies)
    first = start_worker(test_queue)
    items = [synthetic_claim_input(c) for c in generated]
    claims_submit(system=claims_system[0], items=items, batch=True)

    def done() -> int:
        return Claim.objects.filter(status=Claim.Status.COMPLETE).count()

    wait_for(lambda: done() >= 2, 120, "the first worker to triage two claims")
    first.kill()
    assert done() < CLAIMS, "the worker finished everything before it could be killed"

    start_worker(test_queue)
    claims_requeue_stale(older_than_s=0)  # what the periodic sweep does once a claim has waited too long
    wait_for(lambda: done() == CLAIMS, 120, "every claim to be triaged after the restart")

    assert Triage.objects.count() == CLAIMS
    for claim in Claim.objects.all():
        fields = list(ExtractedField.objects.filter(claim=claim).values_list("kind", "start"))
        assert len(fields) == len(set(fields)), f"claim {claim.pk} has its fields twice"
        assert claim.triage.model_versions

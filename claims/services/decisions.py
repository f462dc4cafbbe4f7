"""Adjusters' decisions: accept or override the triage; what changed is kept and the system is told."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction

from assistant.core.errors import ApplicationError
from assistant.integrations.webhooks import event_emit
from claims.models import (
    Claim,
    Decision,
    LineOfBusiness,
    Route,
)
from claims.selectors import claim_resource, related

logger = logging.getLogger("finassist.claims")


def fraud_suspected_by_triage(claim: Claim) -> bool:
    triage = related(claim, "triage")
    return bool(
        triage
        and triage.fraud_score is not None
        and triage.fraud_score >= settings.CLAIMS_INVESTIGATION_THRESHOLD
    )


def decision_record(
    *,
    claim: Claim,
    adjuster: User,
    line_of_business: str,
    route: str,
    fraud_suspected: bool,
    note: str = "",
) -> Decision:
    """An adjuster accepts or overrides the triage; what changed is kept, and the system is told."""
    if claim.status not in (Claim.Status.COMPLETE, Claim.Status.PARTIAL):
        raise ApplicationError(
            f"claim {claim.pk} is {claim.status}: it can be decided once triaged", field="claim"
        )
    if line_of_business not in LineOfBusiness.values:
        raise ApplicationError(f"unknown line of business {line_of_business!r}", field="line_of_business")
    if route not in Route.values:
        raise ApplicationError(f"unknown route {route!r}", field="route")
    triage = claim.triage
    suggested_fraud = fraud_suspected_by_triage(claim)
    overridden = [
        name
        for name, decided, suggested in (
            ("line_of_business", line_of_business, triage.line_of_business),
            ("route", route, triage.route),
            ("fraud_suspected", fraud_suspected, suggested_fraud),
        )
        if decided != suggested
    ]
    with transaction.atomic():
        decision, _ = Decision.objects.update_or_create(
            claim=claim,
            defaults={
                "adjuster": adjuster,
                "line_of_business": line_of_business,
                "route": route,
                "fraud_suspected": fraud_suspected,
                "overridden": overridden,
                "note": note,
            },
        )
        claim.refresh_from_db()
        event_emit(system=claim.system, event_type="claim.decided", data=claim_resource(claim))
    return decision

"""Adjusters' decisions: accept the triage's route or override it with a reason. A claim is decided
once; what changed is kept, and the system is told."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from assistant.core.errors import ApplicationError, Conflict
from assistant.integrations.webhooks import event_emit
from claims.models import (
    Claim,
    Decision,
    LineOfBusiness,
    Route,
)
from claims.selectors import claim_resource, related

logger = logging.getLogger("finassist.claims")

NOTE_LIMIT = 2000
DECIDABLE = (Claim.Status.COMPLETE, Claim.Status.PARTIAL)


def fraud_suspected_by_triage(claim: Claim) -> bool:
    triage = related(claim, "triage")
    return bool(
        triage
        and triage.fraud_score is not None
        and triage.fraud_score >= settings.CLAIMS_INVESTIGATION_THRESHOLD
    )


def suggested_line_of_business(claim: Claim) -> str:
    """The triage's line of business; the policy's where the triage could not read one."""
    triage = related(claim, "triage")
    line: str = triage.line_of_business if triage else ""
    return line or claim.policy.line_of_business


def decision_accept(*, claim: Claim, adjuster: User, note: str = "") -> Decision:
    """The adjuster takes the triage as it stands: its route, line of business and fraud judgement."""
    decision_allowed(claim)
    return _decision_store(
        claim=claim,
        adjuster=adjuster,
        line_of_business=suggested_line_of_business(claim),
        route=claim.triage.route,
        fraud_suspected=fraud_suspected_by_triage(claim),
        note=_note(note, required=False),
    )


def decision_override(
    *,
    claim: Claim,
    adjuster: User,
    route: str,
    line_of_business: str,
    fraud_suspected: bool,
    note: str,
) -> Decision:
    """The adjuster sends the claim another way than the triage did, and says why: overrides become
    training labels, and the note is what a reviewer reads to trust them."""
    decision_allowed(claim)
    if route not in Route.values:
        raise ApplicationError(f"unknown route {route!r}", field="route")
    if route == claim.triage.route:
        raise ApplicationError(
            f"the triage already routes this claim to {Route(route).label}: accept it instead", field="route"
        )
    return _decision_store(
        claim=claim,
        adjuster=adjuster,
        line_of_business=line_of_business,
        route=route,
        fraud_suspected=fraud_suspected,
        note=_note(note, required=True),
    )


def decision_allowed(claim: Claim) -> None:
    """Refuses a claim not triaged yet, and one decided already (409)."""
    if claim.status not in DECIDABLE:
        raise ApplicationError(
            f"claim {claim.pk} is {claim.status}: it can be decided once triaged", field="claim"
        )
    decided = Decision.objects.filter(claim=claim).select_related("adjuster").first()
    if decided is not None:
        raise _already_decided(claim, decided)


def _already_decided(claim: Claim, decision: Decision) -> Conflict:
    return Conflict(
        f"claim {claim.external_id} was already decided by {decision.adjuster.get_username()} on "
        f"{decision.decided_at:%Y-%m-%d %H:%M} UTC ({decision.get_route_display()}); a claim is decided once",
        field="claim",
    )


def _note(note: str, *, required: bool) -> str:
    text = note.strip()
    if required and not text:
        raise ApplicationError("an override needs a note: say why the triage's route is wrong", field="note")
    if len(text) > NOTE_LIMIT:
        raise ApplicationError(f"the note is {len(text)} characters; the limit is {NOTE_LIMIT}", field="note")
    return text


def _decision_store(
    *,
    claim: Claim,
    adjuster: User,
    line_of_business: str,
    route: str,
    fraud_suspected: bool,
    note: str,
) -> Decision:
    if line_of_business not in LineOfBusiness.values:
        raise ApplicationError(f"unknown line of business {line_of_business!r}", field="line_of_business")
    triage = claim.triage
    overridden = [
        name
        for name, decided, suggested in (
            ("line_of_business", line_of_business, suggested_line_of_business(claim)),
            ("route", route, triage.route),
            ("fraud_suspected", fraud_suspected, fraud_suspected_by_triage(claim)),
        )
        if decided != suggested
    ]
    try:
        with transaction.atomic():
            decision = Decision.objects.create(
                claim=claim,
                adjuster=adjuster,
                line_of_business=line_of_business,
                route=route,
                fraud_suspected=fraud_suspected,
                overridden=overridden,
                note=note,
            )
            claim.refresh_from_db()
            event_emit(system=claim.system, event_type="claim.decided", data=claim_resource(claim))
    except IntegrityError:
        decided = Decision.objects.filter(claim=claim).select_related("adjuster").first()
        if decided is None:
            raise
        raise _already_decided(claim, decided) from None
    logger.info("claim %s decided by %s: %s, overridden %s", claim.pk, adjuster.pk, route, overridden)
    return decision

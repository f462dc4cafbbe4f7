"""Triage: classifiers, extraction, policy check, fraud risk, route and report; one claim at a time."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from assistant.core.errors import NotFound
from assistant.core.timing import ms_since, with_total
from assistant.integrations.webhooks import event_emit
from assistant.training.inference import ModelNotReady, NoActiveModel, Prediction, predict
from claims import fraud
from claims.extraction import Span, extract
from claims.learning import FRAUD, LINE_OF_BUSINESS, ROUTE
from claims.models import (
    Claim,
    ClaimReport,
    ExtractedField,
    LineOfBusiness,
    PolicyCheck,
    Route,
    Triage,
)
from claims.policy import COVERAGE, CheckResult, policy_check
from claims.reports import report_html
from claims.selectors import claim_resource
from claims.services.calibration import fraud_weights

logger = logging.getLogger("finassist.claims")


# A description the line-of-business model reads this surely as another line than the policy's
# is worth a person's look.
LINE_MISMATCH_CONFIDENCE = 0.8


def claim_triage(claim_id: int) -> Claim:
    """Triage one claim. Safe to run twice: a claim already triaged is left as it is."""
    with transaction.atomic():
        claim = (
            Claim.objects.select_for_update().select_related("policy", "system").filter(pk=claim_id).first()
        )
        if claim is None:
            raise NotFound(f"no claim {claim_id} to triage: deleted since it was queued", field="id")
        if claim.status in (Claim.Status.COMPLETE, Claim.Status.PARTIAL):
            return claim
        claim.status, claim.started_at = Claim.Status.PROCESSING, timezone.now()
        claim.attempts += 1
        claim.save(update_fields=["status", "started_at", "attempts"])
    try:
        return _triaged(claim)
    except ModelNotReady as waiting:
        # Its task tries again shortly; meanwhile the claim reads as queued, with the reason.
        Claim.objects.filter(pk=claim.pk).update(status=Claim.Status.QUEUED, error=waiting.message)
        raise


def claim_fail(claim_id: int, reason: str) -> None:
    """Mark a claim's triage failed (its task gave up), unless it was triaged meanwhile."""
    unfinished = Claim.objects.filter(pk=claim_id).exclude(
        status__in=[Claim.Status.COMPLETE, Claim.Status.PARTIAL]
    )
    if unfinished.update(status=Claim.Status.ERROR, error=reason[:2000], completed_at=timezone.now()):
        logger.error("triage of claim %s failed: %s", claim_id, reason)


def _predicted(task: str, text: str, steps: dict[str, str]) -> Prediction | None:
    try:
        prediction = predict(task, [text])[0]
    except NoActiveModel as error:
        steps[task] = error.message
        return None
    steps[task] = "ok"
    return prediction


def _triaged(claim: Claim) -> Claim:
    timings: dict[str, float] = {}
    steps: dict[str, str] = {}
    started = time.perf_counter()
    spans = extract(claim.description, reference_date=claim.reported_date)
    check = policy_check(
        policy=claim.policy,
        loss_date=claim.loss_date,
        amount=claim.amount_claimed,
        currency=claim.currency,
        description=claim.description,
    )
    timings["extract_and_check"] = ms_since(started)
    started = time.perf_counter()
    line = _predicted(LINE_OF_BUSINESS, claim.description, steps)
    route = _predicted(ROUTE, claim.description, steps)
    suspicion = _predicted(FRAUD, claim.description, steps)
    timings["classify"] = ms_since(started)
    started = time.perf_counter()
    score = _fraud_scored(claim, spans, suspicion)
    final_route, route_reasons = route_decide(claim, route, score, check, line)
    timings["score_and_route"] = ms_since(started)

    started = time.perf_counter()
    predictions = [p for p in (line, route, suspicion) if p is not None]
    complete = all(state == "ok" for state in steps.values())
    with transaction.atomic():
        claim = Claim.objects.select_for_update().select_related("policy", "system").get(pk=claim.pk)
        if claim.status in (Claim.Status.COMPLETE, Claim.Status.PARTIAL):
            return claim  # another worker finished it meanwhile
        triage = Triage.objects.create(
            claim=claim,
            line_of_business=line.label if line else "",
            line_of_business_confidence=line.confidence if line else None,
            route=final_route,
            model_route=route.label if route else "",
            route_confidence=route.confidence if route else None,
            route_reasons=route_reasons,
            fraud_score=round(score.score, 4) if score else None,
            fraud_reasons=score.reasons if score else [],
            abstained=any(p.abstained for p in predictions),
            model_versions={task: p.model_version for task, p in zip(
                (LINE_OF_BUSINESS, ROUTE, FRAUD), (line, route, suspicion), strict=True) if p is not None},
            steps=steps,
        )  # fmt: skip
        ExtractedField.objects.bulk_create(
            ExtractedField(
                claim=claim, kind=s.kind, value=s.value[:300], start=s.start, end=s.end,
                text=claim.description[s.start : s.end][:300],
            )
            for s in spans
        )  # fmt: skip
        PolicyCheck.objects.create(
            claim=claim,
            passed=check.passed,
            perils=list(check.perils),
            findings=[f.as_dict() for f in check.findings],
            payable=check.payable,
        )
        claim.status = Claim.Status.COMPLETE if complete else Claim.Status.PARTIAL
        claim.completed_at = timezone.now()
        claim.error = "" if complete else "; ".join(f"{k}: {v}" for k, v in steps.items() if v != "ok")
        claim.save(update_fields=["status", "completed_at", "error"])
        timings["store"] = ms_since(started)
        triage.timings_ms = with_total(timings)
        triage.save(update_fields=["timings_ms"])
        ClaimReport.objects.update_or_create(claim=claim, defaults={"html": report_html(claim)})
        event_emit(system=claim.system, event_type="claim.triaged", data=claim_resource(claim))
    return claim


def _probability(prediction: Prediction, label: str) -> float:
    return next((p for name, p in prediction.alternatives if name == label), 0.0)


def _fraud_scored(claim: Claim, spans: list[Span], suspicion: Prediction | None) -> fraud.FraudScore | None:
    if suspicion is None:
        return None
    window_start = claim.loss_date - fraud.REPEATED_CLAIMS_WINDOW
    facts = fraud.ClaimFacts(
        loss_date=claim.loss_date,
        reported_date=claim.reported_date,
        amount=claim.amount_claimed,
        policy_from=claim.policy.effective_from,
        policy_limit=claim.policy.limit,
        prior_claims=Claim.objects.filter(
            policy=claim.policy, loss_date__gte=window_start, loss_date__lt=claim.loss_date
        ).count(),
        stated_dates=fraud.dates_stated(spans),
    )
    weights = fraud_weights(suspicion.model_version)
    return fraud.fraud_score(weights, fraud.signals_of(facts), _probability(suspicion, fraud.SUSPICIOUS))


def route_decide(
    claim: Claim,
    route: Prediction | None,
    score: fraud.FraudScore | None,
    check: CheckResult,
    line: Prediction | None,
) -> tuple[str, list[str]]:
    """The route: the model's, raised where the evidence says a person must look closer."""
    reasons: list[str] = []
    chosen = route.label if route else Route.STANDARD
    if route is None:
        reasons.append("no route model is active: standard handling")
    threshold = settings.CLAIMS_INVESTIGATION_THRESHOLD
    if score is not None and score.score >= threshold and chosen != Route.SPECIAL_INVESTIGATION:
        reasons.append(
            f"fraud-risk score {score.score:.2f} is at or above {threshold:g}: special investigation"
        )
        return Route.SPECIAL_INVESTIGATION, reasons
    if chosen == Route.FAST_TRACK:
        uncovered = [f.name for f in check.findings if not f.passed and f.name in COVERAGE]
        if uncovered:
            reasons.append(f"the policy check failed ({', '.join(uncovered)}): not fast-tracked")
        elif route is not None and route.abstained:
            reasons.append(f"the route model is unsure ({route.confidence:.2f}): not fast-tracked")
        elif (
            line is not None
            and line.label != claim.policy.line_of_business
            and line.confidence >= LINE_MISMATCH_CONFIDENCE
        ):
            reasons.append(
                f"the description reads as {LineOfBusiness(line.label).label}, the policy is "
                f"{claim.policy.get_line_of_business_display()}: not fast-tracked"
            )
        if reasons:
            return Route.STANDARD, reasons
    return chosen, reasons

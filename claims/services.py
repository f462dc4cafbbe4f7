"""Claims: submission, triage (classifiers, extraction, policy check, fraud risk, report), decisions."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from assistant.core.errors import ApplicationError, FieldErrors, NotFound
from assistant.core.timing import ms_since, with_total
from assistant.db.constraints import violated_constraint
from assistant.integrations.models import System
from assistant.integrations.webhooks import event_emit
from assistant.training.inference import NoActiveModel, Prediction, predict
from assistant.training.models import ModelVersion
from claims import fraud
from claims.dispatch import triage_later
from claims.extraction import Span, extract
from claims.learning import FRAUD, LINE_OF_BUSINESS, ROUTE, SUSPICIOUS
from claims.models import (
    Claim,
    ClaimReport,
    Decision,
    ExtractedField,
    FraudCalibration,
    LineOfBusiness,
    Policy,
    PolicyCheck,
    Route,
    Triage,
)
from claims.policy import COVERAGE, CheckResult, policy_check
from claims.reports import report_html
from claims.selectors import claim_resource, related

logger = logging.getLogger("finassist.claims")

# A description the line-of-business model reads this surely as another line than the policy's
# is worth a person's look.
LINE_MISMATCH_CONFIDENCE = 0.8


def claims_submit(*, system: System, items: list[dict[str, Any]], batch: bool) -> list[Claim]:
    """Store claims (all or none) and queue their triage once stored.

    `items` have passed the API's field checks; here the checks that need the database:
    the policy exists, the external id is new for the system. A batch's errors are keyed by index.
    """
    policies = Policy.objects.in_bulk([item["policy_number"] for item in items], field_name="number")
    taken = set(
        Claim.objects.filter(system=system, external_id__in=[i["external_id"] for i in items]).values_list(
            "external_id", flat=True
        )
    )
    errors: dict[str, Any] = {}
    conflict = False
    seen: set[str] = set()
    for index, item in enumerate(items):
        problems: dict[str, list[str]] = {}
        if item["policy_number"] not in policies:
            problems["policy_number"] = [f"no policy with the number {item['policy_number']!r}"]
        if item["external_id"] in taken:
            conflict = True
            problems["external_id"] = [
                f"a claim with the external id {item['external_id']!r} was already submitted"
            ]
        elif item["external_id"] in seen:
            problems["external_id"] = [f"the external id {item['external_id']!r} appears twice in this batch"]
        seen.add(item["external_id"])
        if problems:
            errors[str(index)] = problems
    if errors:
        status = 409 if conflict else 400
        raise FieldErrors({"claims": errors} if batch else errors["0"], status=status)
    try:
        claims = Claim.objects.bulk_create(
            Claim(
                system=system,
                policy=policies[item["policy_number"]],
                **{k: v for k, v in item.items() if k != "policy_number"},
            )
            for item in items
        )
    except IntegrityError as error:
        if violated_constraint(error) != "claim_external_id_unique":
            raise
        raise ApplicationError(
            "a claim with one of these external ids was submitted at the same moment", field="external_id"
        ) from None
    for claim in claims:
        triage_later(claim.pk)
    return claims


def claims_requeue_stale(*, older_than_s: float | None = None) -> int:
    """Send triage again for claims waiting longer than CLAIMS_REQUEUE_AFTER_S (a lost message, a
    killed worker); triage of a claim already triaged does nothing, so a duplicate is harmless."""
    cutoff = timezone.now() - timedelta(
        seconds=settings.CLAIMS_REQUEUE_AFTER_S if older_than_s is None else older_than_s
    )
    waiting = Claim.objects.filter(
        status__in=[Claim.Status.QUEUED, Claim.Status.PROCESSING], created_at__lte=cutoff
    ).exclude(started_at__gt=cutoff)
    ids = list(waiting.values_list("pk", flat=True)[:1000])
    for pk in ids:
        triage_later(pk)
    if ids:
        logger.warning("re-sent triage of %d waiting claim(s)", len(ids))
    return len(ids)


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
    return _triaged(claim)


def claim_fail(*, claim_id: int, reason: str) -> None:
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
    return fraud.fraud_score(weights, fraud.signals_of(facts), _probability(suspicion, SUSPICIOUS))


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


def fraud_weights(version_id: int) -> fraud.Weights:
    """The combination fitted for this fraud text-model version, fitted now if it has none."""
    calibration = FraudCalibration.objects.filter(model_version_id=version_id).first()
    if calibration is None:
        calibration = fraud_calibrate(ModelVersion.objects.get(pk=version_id))
    return fraud.Weights(calibration.bias, calibration.weights)


def fraud_calibrate(version: ModelVersion) -> FraudCalibration:
    """Fit the combination of this text-model version and the structured signals on generated claims
    the text model never saw (another seed than its training data), and measure it on a held-out part."""
    from sklearn.metrics import roc_auc_score

    from assistant.training.inference import classifier_for
    from claims.synthetic import generate

    policies, claims = generate(fraud.CALIBRATION_CLAIMS, seed=fraud.CALIBRATION_SEED)
    by_number = {p.number: p for p in policies}
    priors = fraud.prior_claims_of([(c.policy_number, c.loss_date) for c in claims])
    classifier = classifier_for(version)
    suspicious = classifier.labels.index(SUSPICIOUS)
    probabilities = classifier.scores([c.description for c in claims]).probabilities[:, suspicious]
    rows, labels = [], []
    for claim, prior, probability in zip(claims, priors, probabilities, strict=True):
        policy = by_number[claim.policy_number]
        facts = fraud.ClaimFacts(
            loss_date=claim.loss_date,
            reported_date=claim.reported_date,
            amount=claim.amount_claimed,
            policy_from=policy.effective_from,
            policy_limit=policy.limit,
            prior_claims=prior,
            stated_dates=fraud.dates_stated(extract(claim.description, reference_date=claim.reported_date)),
        )
        rows.append(fraud.features_of(fraud.signals_of(facts), float(probability)))
        labels.append(int(claim.suspicious))
    cut = int(len(rows) * (1 - fraud.CALIBRATION_HELD_OUT))
    weights, model = fraud.weights_fit(rows[:cut], labels[:cut])
    held_rows, held_labels = rows[cut:], labels[cut:]
    text_index = fraud.FEATURES.index(fraud.TEXT)
    metrics = {
        "held_out_claims": len(held_rows),
        "roc_auc_combined": round(float(roc_auc_score(held_labels, model.predict_proba(held_rows)[:, 1])), 4),
        "roc_auc_text_only": round(float(roc_auc_score(held_labels, [r[text_index] for r in held_rows])), 4),
        "roc_auc_signals_only": round(
            float(roc_auc_score(held_labels, [sum(r[:text_index]) for r in held_rows])), 4
        ),
    }
    calibration, _ = FraudCalibration.objects.update_or_create(
        model_version=version, defaults={"bias": weights.bias, "weights": weights.weights, "metrics": metrics}
    )
    logger.info("fraud combination fitted for model version %s: %s", version.pk, metrics)
    return calibration


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
    adjuster: Any,
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

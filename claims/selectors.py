"""Reading claims: one system's own, the adjusters' queue, and the resource the API and webhooks send."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse

from assistant.core.errors import NotFound
from assistant.integrations.models import System
from claims.models import Claim, ClaimReport, Decision, Triage

# The FHIR ClaimResponse outcome of each status: a claim being triaged is still queued.
OUTCOMES: dict[str, str] = {
    Claim.Status.QUEUED: "queued",
    Claim.Status.PROCESSING: "queued",
    Claim.Status.COMPLETE: "complete",
    Claim.Status.PARTIAL: "partial",
    Claim.Status.ERROR: "error",
}
DISPOSITIONS = {
    "queued": "Waiting for triage.",
    "complete": "Triaged.",
    "partial": "Triaged in part: a step could not run (see steps).",
    "error": "Triage failed.",
}
RELATED = ("policy", "system", "triage", "policy_check", "decision", "report")


def claims_of(system: System, *, external_id: str | None = None) -> QuerySet[Claim]:
    """The system's claims, newest first (only the one with `external_id`, when given)."""
    claims = Claim.objects.filter(system=system).select_related("policy").order_by("-created_at")
    return claims if external_id is None else claims.filter(external_id=external_id)


def claim_of(system: System, claim_id: int) -> Claim:
    """One of the system's claims; another system's is reported as missing."""
    claim = Claim.objects.filter(system=system, pk=claim_id).select_related(*RELATED).first()
    if claim is None:
        raise NotFound(f"no claim {claim_id}", field="id")
    return claim


def claim_get(claim_id: int) -> Claim:
    claim = Claim.objects.filter(pk=claim_id).select_related(*RELATED).first()
    if claim is None:
        raise NotFound(f"no claim {claim_id}", field="id")
    return claim


def adjuster_queue() -> QuerySet[Claim]:
    """Triaged claims waiting for a decision, special investigation and higher risk first."""
    return (
        Claim.objects.filter(status__in=[Claim.Status.COMPLETE, Claim.Status.PARTIAL], decision__isnull=True)
        .select_related("policy", "triage", "system")
        .order_by("-triage__fraud_score", "created_at")
    )


def decided_claims(limit: int) -> QuerySet[Claim]:
    """The latest claims an adjuster decided, newest first."""
    decided = Claim.objects.filter(decision__isnull=False).select_related("decision", "triage", "policy")
    return decided.order_by("-decision__decided_at")[:limit]


def claims_in_triage() -> int:
    return Claim.objects.filter(status__in=[Claim.Status.QUEUED, Claim.Status.PROCESSING]).count()


def related(claim: Claim, name: str) -> Any:
    """A claim's one-to-one part (triage, policy check, decision, report), or None before it exists."""
    return getattr(claim, name, None)


def report_of(claim: Claim) -> ClaimReport:
    """The claim's report; before triage wrote one, the claim has none to see."""
    report: ClaimReport | None = related(claim, "report")
    if report is None:
        raise NotFound(f"claim {claim.pk} has no report yet: it is {claim.status}", field="id")
    return report


def claim_url(claim_id: int) -> str:
    return reverse("claims-api:detail", args=[claim_id])


def claim_resource(claim: Claim) -> dict[str, Any]:
    """The claim as a ClaimResponse-like document: what `GET /api/claims/{id}` and webhooks carry."""
    outcome = OUTCOMES[claim.status]
    triage = related(claim, "triage")
    check = related(claim, "policy_check")
    decision = related(claim, "decision")
    has_report = related(claim, "report") is not None
    return {
        "resourceType": "ClaimResponse",
        "id": claim.pk,
        "identifier": {"system": claim.system.name, "value": claim.external_id},
        "status_url": claim_url(claim.pk),
        "outcome": outcome,
        "disposition": DISPOSITIONS[outcome] + (f" {claim.error}" if claim.error else ""),
        "created": claim.created_at.isoformat(),
        "completed": claim.completed_at.isoformat() if claim.completed_at else None,
        "claim": {
            "external_id": claim.external_id,
            "policy_number": claim.policy.number,
            "loss_date": claim.loss_date.isoformat(),
            "reported_date": claim.reported_date.isoformat(),
            "amount_claimed": {"value": str(claim.amount_claimed), "currency": claim.currency},
        },
        "triage": _triage(triage) if triage else None,
        "extracted_fields": [
            {"kind": f.kind, "value": f.value, "text": f.text, "start": f.start, "end": f.end}
            for f in claim.fields.all()
        ]
        if triage
        else [],
        "policy_check": {
            "passed": check.passed,
            "perils": check.perils,
            "payable": {"value": str(check.payable), "currency": claim.policy.currency},
            "findings": check.findings,
        }
        if check
        else None,
        "report": {
            "html": reverse("claims-api:report", args=[claim.pk]),
            "pdf": reverse("claims-api:report-pdf", args=[claim.pk]),
        }
        if has_report
        else None,
        "model_versions": triage.model_versions if triage else {},
        "decision": {
            "line_of_business": decision.line_of_business,
            "route": decision.route,
            "fraud_suspected": decision.fraud_suspected,
            "overridden": decision.overridden,
            "decided_at": decision.decided_at.isoformat(),
        }
        if decision
        else None,
    }


def _triage(triage: Any) -> dict[str, Any]:
    return {
        "line_of_business": triage.line_of_business or None,
        "line_of_business_confidence": triage.line_of_business_confidence,
        "route": triage.route,
        "model_route": triage.model_route or None,
        "route_confidence": triage.route_confidence,
        "route_reasons": triage.route_reasons,
        "fraud_score": triage.fraud_score,
        "fraud_reasons": triage.fraud_reasons,
        "abstained": triage.abstained,
        "steps": triage.steps,
        "timings_ms": triage.timings_ms,
    }


def decided_claim(claim_id: int) -> Claim | None:
    """The claim with its decision; None while it has none (or there is no such claim)."""
    return (
        Claim.objects.filter(pk=claim_id, decision__isnull=False)
        .select_related("decision__adjuster", "triage")
        .first()
    )


@dataclass(frozen=True)
class Comparison:
    """One model's answer on a decided claim against what the adjuster decided."""

    decision: Decision
    task: str
    version: int
    predicted: str
    decided: str

    @property
    def agreed(self) -> bool:
        return self.predicted == self.decided


def _comparisons() -> Iterator[Comparison]:
    """Each decision against each model whose answer its triage kept, newest decision first (fraud:
    the combined score at the investigation threshold)."""
    from claims.learning import FRAUD, LINE_OF_BUSINESS, ROUTE

    threshold = settings.CLAIMS_INVESTIGATION_THRESHOLD
    readings: dict[str, tuple[Callable[[Triage], str | None], Callable[[Decision], str]]] = {
        LINE_OF_BUSINESS: (lambda t: t.line_of_business, lambda d: d.line_of_business),
        ROUTE: (lambda t: t.model_route, lambda d: d.route),
        FRAUD: (
            lambda t: (
                None
                if t.fraud_score is None
                else ("suspicious" if t.fraud_score >= threshold else "ordinary")
            ),
            lambda d: "suspicious" if d.fraud_suspected else "ordinary",
        ),
    }
    decisions = Decision.objects.select_related("claim__triage", "claim__policy").order_by("-decided_at")
    for decision in decisions:
        triage = decision.claim.triage
        for task, (predicted_of, decided_of) in readings.items():
            version, predicted = triage.model_versions.get(task), predicted_of(triage)
            if version is not None and predicted:
                yield Comparison(decision, task, version, predicted, decided_of(decision))


def misclassification_report() -> list[dict[str, Any]]:
    """Per model version: how often its answer matched the adjusters' decisions, and where it did not."""
    groups: dict[tuple[str, int], dict[str, Any]] = {}
    for c in _comparisons():
        empty = {"task": c.task, "version": c.version, "decided": 0, "correct": 0, "wrong": []}
        group = groups.setdefault((c.task, c.version), empty)
        group["decided"] += 1
        if c.agreed:
            group["correct"] += 1
        else:
            group["wrong"].append({"claim": c.decision.claim, "predicted": c.predicted, "decided": c.decided})
    report = sorted(groups.values(), key=lambda g: (g["task"], -g["version"]))
    for group in report:
        group["accuracy"] = group["correct"] / group["decided"]
    return report


@dataclass(frozen=True)
class DailyAgreement:
    day: date
    agreed: int
    decided: int

    @property
    def accuracy(self) -> float:
        return self.agreed / self.decided


def agreement_by_day() -> dict[tuple[str, int], list[DailyAgreement]]:
    """Per model version (task, version): each day's decisions and how many agreed with the model,
    oldest day first; days are UTC days of the decision."""
    counts: dict[tuple[str, int], dict[date, list[int]]] = {}
    for c in _comparisons():
        day = c.decision.decided_at.astimezone(UTC).date()
        tally = counts.setdefault((c.task, c.version), {}).setdefault(day, [0, 0])
        tally[0] += c.agreed
        tally[1] += 1
    return {
        model: [DailyAgreement(day, agreed, decided) for day, (agreed, decided) in sorted(days.items())]
        for model, days in sorted(counts.items())
    }

"""The adjusters' pages: the queue, a claim with its evidence and the decision, model accuracy."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from assistant.core.access import role_required
from assistant.core.errors import ApplicationError, NotFound
from assistant.core.roles import CLAIMS_ADJUSTER
from claims.models import Claim, LineOfBusiness, Route
from claims.reports import marked_description, report_pdf
from claims.selectors import adjuster_queue, claim_get, misclassification_report, related
from claims.services import decision_record, fraud_suspected_by_triage

adjuster_required = role_required(
    CLAIMS_ADJUSTER, refusal="the claims pages are for claims adjusters", error_template="claims/error.html"
)


@adjuster_required
def queue(request: HttpRequest) -> HttpResponse:
    decided = Claim.objects.filter(decision__isnull=False).select_related("decision", "triage", "policy")
    return render(
        request,
        "claims/queue.html",
        {
            "waiting": adjuster_queue()[:100],
            "decided": decided.order_by("-decision__decided_at")[:20],
            "in_triage": Claim.objects.filter(
                status__in=[Claim.Status.QUEUED, Claim.Status.PROCESSING]
            ).count(),
        },
    )


@adjuster_required
@require_http_methods(["GET", "POST"])
def claim(request: HttpRequest, claim_id: int) -> HttpResponse:
    item = claim_get(claim_id)
    error = None
    if request.method == "POST":
        try:
            decision_record(
                claim=item,
                adjuster=request.user,
                line_of_business=request.POST.get("line_of_business", ""),
                route=request.POST.get("route", ""),
                fraud_suspected=request.POST.get("fraud_suspected") == "on",
                note=request.POST.get("note", "")[:2000],
            )
            return redirect("claims:queue")
        except ApplicationError as refusal:
            error = refusal
    return render(
        request,
        "claims/claim.html",
        {
            "claim": item,
            "description": marked_description(item),
            "lines": LineOfBusiness.choices,
            "routes": Route.choices,
            "suggested_fraud": fraud_suspected_by_triage(item),
            "error": error,
        },
        status=error.status if error else 200,
    )


def _report_of(claim_id: int) -> Claim:
    item = claim_get(claim_id)
    if related(item, "report") is None:
        raise NotFound(f"claim {claim_id} has no report yet", field="id")
    return item


@adjuster_required
def report(request: HttpRequest, claim_id: int) -> HttpResponse:
    return HttpResponse(_report_of(claim_id).report.html)


@adjuster_required
def report_as_pdf(request: HttpRequest, claim_id: int) -> HttpResponse:
    response = HttpResponse(report_pdf(_report_of(claim_id)), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="claim-{claim_id}.pdf"'
    return response


@adjuster_required
def models(request: HttpRequest) -> HttpResponse:
    return render(request, "claims/models.html", {"groups": misclassification_report()})

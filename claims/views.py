"""The adjusters' pages: the queue, a claim with its evidence and the decision, model accuracy."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from assistant.core.access import role_required, signed_in
from assistant.core.errors import ApplicationError
from assistant.core.roles import CLAIMS_ADJUSTER
from claims.models import LineOfBusiness, Route
from claims.reports import marked_description, report_pdf_response
from claims.selectors import (
    adjuster_queue,
    claim_get,
    claims_in_triage,
    decided_claims,
    misclassification_report,
    report_of,
)
from claims.services.decisions import decision_record, fraud_suspected_by_triage

adjuster_required = role_required(
    CLAIMS_ADJUSTER, refusal="the claims pages are for claims adjusters", error_template="claims/error.html"
)


@adjuster_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "claims/queue.html",
        {"waiting": adjuster_queue()[:100], "decided": decided_claims(20), "in_triage": claims_in_triage()},
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
                adjuster=signed_in(request),
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


@adjuster_required
@require_GET
def report(request: HttpRequest, claim_id: int) -> HttpResponse:
    return HttpResponse(report_of(claim_get(claim_id)).html)


@adjuster_required
@require_GET
def report_as_pdf(request: HttpRequest, claim_id: int) -> HttpResponse:
    return report_pdf_response(report_of(claim_get(claim_id)).claim)


@adjuster_required
@require_GET
def models(request: HttpRequest) -> HttpResponse:
    return render(request, "claims/models.html", {"groups": misclassification_report()})

"""The adjusters' pages: the queue, a claim with its evidence and the decision, model accuracy."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from assistant.core.access import role_required, signed_in
from assistant.core.errors import ApplicationError
from assistant.core.roles import CLAIMS_ADJUSTER
from claims.charts import MIN_DAYS, accuracy_over_time_svg
from claims.forms import ACCEPT, OVERRIDE, AcceptForm, OverrideForm
from claims.models import Claim, LineOfBusiness
from claims.reports import marked_description, report_pdf_response
from claims.selectors import (
    adjuster_queue,
    agreement_by_day,
    claim_get,
    claims_in_triage,
    decided_claim,
    decided_claims,
    misclassification_report,
    related,
    report_of,
)
from claims.services.decisions import (
    DECIDABLE,
    decision_accept,
    decision_allowed,
    decision_override,
    fraud_suspected_by_triage,
    suggested_line_of_business,
)

LINES = dict(LineOfBusiness.choices)

adjuster_required = role_required(
    CLAIMS_ADJUSTER,
    refusal=gettext_lazy("the claims pages are for claims adjusters"),
    error_template="claims/error.html",
)


@adjuster_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    decided = request.GET.get("decided", "")
    return render(
        request,
        "claims/queue.html",
        {
            "waiting": adjuster_queue()[:100],
            "decided": decided_claims(20),
            "in_triage": claims_in_triage(),
            "confirmation": decided_claim(int(decided)) if decided.isdecimal() else None,
        },
    )


def _accept_form(data: QueryDict | None = None) -> AcceptForm:
    return AcceptForm(data, prefix=ACCEPT)


def _override_form(claim: Claim, data: QueryDict | None = None) -> OverrideForm:
    triage = related(claim, "triage")
    initial = {
        "line_of_business": suggested_line_of_business(claim),
        "fraud_suspected": fraud_suspected_by_triage(claim),
    }
    return OverrideForm(data, prefix=OVERRIDE, initial=initial, triage_route=triage.route if triage else "")


@adjuster_required
@require_http_methods(["GET", "POST"])
def claim(request: HttpRequest, claim_id: int) -> HttpResponse:
    item = claim_get(claim_id)
    accept, override = _accept_form(), _override_form(item)
    refusal = None
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == ACCEPT:
            accept = _accept_form(request.POST)
        elif action == OVERRIDE:
            override = _override_form(item, request.POST)
        form: AcceptForm | OverrideForm = accept if action == ACCEPT else override
        try:
            decision_allowed(item)
            if action not in (ACCEPT, OVERRIDE):
                raise ApplicationError(_("choose Accept or Override"), field="action")
            if form.is_valid():
                adjuster = signed_in(request)
                if action == ACCEPT:
                    decision_accept(claim=item, adjuster=adjuster, note=form.cleaned_data["note"])
                else:
                    decision_override(claim=item, adjuster=adjuster, **form.cleaned_data)
                return redirect(f"{reverse('claims:queue')}?decided={item.pk}")
            status = 400
        except ApplicationError as error:
            status = error.status
            if error.field in form.fields:
                form.add_error(error.field, f"{capfirst(error.message)}.")
            else:
                refusal = error
                item = claim_get(claim_id)
    decision = related(item, "decision")
    triage = related(item, "triage")
    line = suggested_line_of_business(item)
    return render(
        request,
        "claims/claim.html",
        {
            "claim": item,
            "decision": decision,
            "decidable": decision is None and triage is not None and item.status in DECIDABLE,
            "description": marked_description(item),
            "accept": accept,
            "override": override,
            "suggested_line": LINES.get(line, line),
            "suggested_fraud": fraud_suspected_by_triage(item),
            "refusal": refusal,
        },
        status=status,
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
    days = agreement_by_day()
    return render(
        request,
        "claims/models.html",
        {
            "groups": misclassification_report(),
            "chart": accuracy_over_time_svg(days),
            "decided_days": len({point.day for points in days.values() for point in points}),
            "min_days": MIN_DAYS,
        },
    )

"""The claim report, in HTML and PDF, from one set of findings with the evidence for each."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from claims.models import Claim
from claims.selectors import related


@dataclass(frozen=True)
class Section:
    title: str
    lines: list[str]


def marked_description(claim: Claim) -> SafeString:
    """The description with each extracted field marked (its kind in the title)."""
    text = claim.description
    parts: list[str] = []
    position = 0
    for field in sorted(claim.fields.all(), key=lambda f: (f.start, -f.end)):
        if field.start < position:
            continue
        parts.append(escape(text[position : field.start]))
        parts.append(
            f'<mark class="field field-{field.kind}" title="{escape(field.get_kind_display())}: '
            f'{escape(field.value)}">{escape(text[field.start : field.end])}</mark>'
        )
        position = field.end
    parts.append(escape(text[position:]))
    return mark_safe("".join(parts))


def sections(claim: Claim) -> list[Section]:
    """The report's findings as plain lines, shared by the HTML and the PDF."""
    policy, triage, check = claim.policy, related(claim, "triage"), related(claim, "policy_check")
    result = [
        Section(
            "Claim",
            [
                f"External id: {claim.external_id} (from {claim.system.name})",
                f"Policy: {policy.number}, {policy.get_line_of_business_display()}, "
                f"holder {policy.holder_name}",
                f"Loss date: {claim.loss_date.isoformat()}; reported: {claim.reported_date.isoformat()}",
                f"Amount claimed: {claim.amount_claimed:,.2f} {claim.currency}",
                f"Outcome: {claim.get_status_display()}" + (f" ({claim.error})" if claim.error else ""),
            ],
        )
    ]
    if triage is not None:
        lines = [f"Route: {triage.get_route_display()}"]
        if triage.model_route:
            lines.append(f"Route model: {triage.model_route} (confidence {triage.route_confidence:.2f})")
        lines += [f"Route reason: {reason}" for reason in triage.route_reasons]
        if triage.line_of_business:
            lines.append(
                f"Line of business read from the description: {triage.get_line_of_business_display()} "
                f"(confidence {triage.line_of_business_confidence:.2f})"
            )
        if triage.fraud_score is not None:
            lines.append(f"Fraud-risk score: {triage.fraud_score:.2f}")
            lines += [
                f"Raised by {r['code']}: {r['detail']} (+{r['contribution']:.2f})"
                for r in triage.fraud_reasons
            ]
        lines += [f"Step {step}: {state}" for step, state in triage.steps.items() if state != "ok"]
        lines.append("Model versions: " + ", ".join(f"{t} v{v}" for t, v in triage.model_versions.items()))
        result.append(Section("Triage", lines))
    if check is not None:
        lines = [
            f"Overall: {'passed' if check.passed else 'failed'}; "
            f"payable {check.payable:,.2f} {policy.currency}"
        ]
        for finding in check.findings:
            evidence = "; ".join(f'"{e["text"]}" at {e["start"]}' for e in finding["evidence"])
            mark = "PASS" if finding["passed"] else "FAIL"
            lines.append(
                f"{mark} {finding['name']}: {finding['reason']}"
                + (f" [evidence: {evidence}]" if evidence else "")
            )
        result.append(Section("Policy check", lines))
    fields = list(claim.fields.all())
    if fields:
        result.append(
            Section(
                "Extracted fields",
                [
                    f'{f.get_kind_display()}: {f.value} ("{f.text}", characters {f.start}-{f.end})'
                    for f in fields
                ],
            )
        )
    return result


def report_html(claim: Claim) -> str:
    return render_to_string(
        "claims/report.html",
        {
            "claim": claim,
            "sections": sections(claim),
            "description": marked_description(claim),
            "generated": timezone.now(),
        },
    )


def report_pdf(claim: Claim) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_title(f"Claim report {claim.external_id}")
    pdf.set_author("finassist")
    pdf.add_page()
    pdf.set_font("helvetica", "B", 15)
    pdf.multi_cell(0, 8, _latin(f"Claim report: {claim.external_id}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 9)
    pdf.multi_cell(
        0,
        5,
        _latin(f"Generated {timezone.now():%Y-%m-%d %H:%M} UTC by finassist"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    for section in [Section("Description", [claim.description]), *sections(claim)]:
        pdf.ln(3)
        pdf.set_font("helvetica", "B", 12)
        pdf.multi_cell(0, 7, section.title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", "", 10)
        for line in section.lines:
            pdf.multi_cell(0, 5, _latin(line), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def report_pdf_response(claim: Claim) -> HttpResponse:
    response = HttpResponse(report_pdf(claim), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="claim-{claim.pk}.pdf"'
    return response


def _latin(text: str) -> str:
    """The core PDF fonts are Latin-1: other characters become '?' rather than failing the report."""
    return text.encode("latin-1", "replace").decode("latin-1")

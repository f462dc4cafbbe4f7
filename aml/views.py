"""The AML analysts' pages: the alert queue with "take next", and a case with its evidence and decision."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from aml.legend import RuleCode, hit_codes, rule_legend
from aml.models import Alert, Case, Screening
from aml.selectors import (
    alert_counts,
    alert_queue,
    case_get,
    case_questions,
    decided_cases,
    evidence_codes,
    evidence_transactions,
    explanation_of,
    open_cases_of,
    related_transactions,
    related_window,
    sar_filed,
    timeline_transactions,
)
from aml.services.cases import (
    alert_take_next,
    case_ask,
    case_attach,
    case_decide,
    case_note,
    case_sar_from_evidence,
    case_sar_save,
    sar_digest,
)
from aml.timeline import Mark, timeline_svg
from aml.typology import DESCRIPTIONS, NONE, TYPOLOGY_LABELS
from assistant.core.access import role_required, signed_in
from assistant.core.errors import ApplicationError, FieldErrors, NotFound
from assistant.core.roles import AML_ANALYST

QUEUE_SHOWN = 100
HIGH_RISK = 0.7  # an alert this risky or more is marked high risk on its case
DECIDED_SHOWN = 20
RELATED_DAYS = 30
# The inputs of the case page's forms: a refusal naming one is shown beside it.
FIELDS = ("note", "attachment", "question", "decision", "typology", "reason", "sar_draft")

analyst_required = role_required(
    AML_ANALYST, refusal=gettext_lazy("the AML pages are for AML analysts"), error_template="aml/error.html"
)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _dicts(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _spans(phrases: object, start: int, end: int) -> list[tuple[int, int, float | None]]:
    """The phrases' character ranges clipped to [start, end), in order, overlaps dropped."""
    clipped = []
    for phrase in _dicts(phrases):
        first, last = phrase.get("start"), phrase.get("end")
        if not (isinstance(first, int) and isinstance(last, int)):
            continue
        first, last = max(first, start), min(last, end)
        if first < last:
            clipped.append((first, last, _number(phrase.get("weight"))))
    kept: list[tuple[int, int, float | None]] = []
    for span in sorted(clipped, key=lambda s: (s[0], -s[1])):
        if not kept or span[0] >= kept[-1][1]:
            kept.append(span)
    return kept


def marked_text(text: str, phrases: object, start: int = 0, end: int | None = None) -> SafeString:
    """`text[start:end]`, escaped, with the explanation's phrases in <mark> (their weight as a title)."""
    end = len(text) if end is None else min(end, len(text))
    pieces: list[SafeString] = []
    position = start
    for first, last, weight in _spans(phrases, start, end):
        pieces.append(escape(text[position:first]))
        title = _("weight %(weight).2f") % {"weight": weight} if weight is not None else _("phrase")
        pieces.append(format_html('<mark class="phrase" title="{}">{}</mark>', title, text[first:last]))
        position = last
    pieces.append(escape(text[position:end]))
    return format_html_join("", "{}", ((piece,) for piece in pieces))


def _passage(text: str, explanation: Mapping[str, Any]) -> SafeString | None:
    passage = explanation.get("passage")
    if not isinstance(passage, dict):
        return None
    start, end = passage.get("start"), passage.get("end")
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
        return None
    return marked_text(text, explanation.get("phrases"), start, end)


def _described(description: object) -> str:
    """A typology's description in the reader's language (one the taxonomy no longer has, as stored)."""
    return _(description) if isinstance(description, str) and description else ""


def _typology(explanation: Mapping[str, Any]) -> dict[str, Any] | None:
    typology = explanation.get("typology")
    if not isinstance(typology, dict):
        return None
    label = str(typology.get("label", ""))
    return {
        "label": label,
        "description": _described(typology.get("description") or DESCRIPTIONS.get(label, "")),
        "probability": _number(typology.get("probability")),
        "suspicion": _number(typology.get("suspicion")),
        "alternatives": [
            {
                "label": str(alternative.get("label", "")),
                "description": _described(DESCRIPTIONS.get(str(alternative.get("label", "")), "")),
                "probability": _number(alternative.get("probability")),
            }
            for alternative in _dicts(typology.get("alternatives"))
        ],
    }


def _risk(explanation: Mapping[str, Any]) -> dict[str, Any] | None:
    risk = explanation.get("risk")
    if not isinstance(risk, dict):
        return None
    contributions = [
        {
            "feature": str(item.get("feature", "")),
            "value": _number(item.get("value")),
            "contribution": _number(item.get("contribution")),
            "detail": str(item.get("detail", "")),
        }
        for item in _dicts(risk.get("contributions"))
    ]
    contributions.sort(key=lambda item: -abs(_number(item["contribution"]) or 0.0))
    return {
        "score": _number(risk.get("score")),
        "bias": _number(risk.get("bias")),
        "contributions": contributions,
    }


def _rules(screening: Screening, legend: Mapping[str, RuleCode]) -> list[dict[str, Any]]:
    """Each rule hit with its evidence transactions."""
    hits = _dicts(screening.rule_hits)
    transactions = evidence_transactions(screening)
    rules = []
    for hit in hits:
        evidence = hit.get("evidence")
        cited = evidence if isinstance(evidence, list) else []
        rules.append(
            {
                "code": str(hit.get("code", "")),
                "reason_code": str(hit.get("reason_code", "")),
                "meaning": legend.get(str(hit.get("reason_code", ""))),
                "name": str(hit.get("name", "")),
                "detail": str(hit.get("detail", "")),
                "weight": _number(hit.get("weight")),
                "evidence": [transactions[i] for i in cited if isinstance(i, int) and i in transactions],
            }
        )
    return rules


def _related(screening: Screening, legend: Mapping[str, RuleCode]) -> list[dict[str, Any]]:
    cited = evidence_codes(screening)
    return [
        {
            "transaction": t,
            "evidence": t.pk in cited,
            "codes": [legend[code] for code in cited.get(t.pk, []) if code in legend],
            "screened": t.pk == screening.transaction_id,
        }
        for t in related_transactions(screening, days=RELATED_DAYS)
    ]


def _timeline(screening: Screening, legend: Mapping[str, RuleCode]) -> SafeString:
    cited = evidence_codes(screening)
    marks = [
        Mark(
            booked_at=t.booked_at,
            amount=float(t.amount),
            currency=t.currency,
            text=(
                f"{t.booked_at:%Y-%m-%d %H:%M} {t.external_id}: {_(t.get_direction_display())} "
                f"{t.amount:,.2f} {t.currency} {_(t.get_channel_display())}, {t.counterparty_name}"
            ),
            flagged_by=tuple((code, legend[code].name) for code in cited.get(t.pk, []) if code in legend),
            screened=t.pk == screening.transaction_id,
        )
        for t in timeline_transactions(screening, days=RELATED_DAYS)
    ]
    start, end = related_window(screening, days=RELATED_DAYS)
    svg = timeline_svg(marks, start=start, end=end)
    return mark_safe(svg)  # timeline_svg escapes every text it writes


def _errors(error: ApplicationError | None) -> dict[str, str]:
    """The refusal's messages by the input they are about; "form" for one about no input of the page."""
    if error is None:
        return {}
    if isinstance(error, FieldErrors):
        return {
            field if field in FIELDS else "form": "; ".join(
                map(str, found if isinstance(found, list) else [found])
            )
            for field, found in error.errors.items()
        }
    return {error.field if error.field in FIELDS else "form": error.message}


def _legend_of(hits: object, explanation: Mapping[str, Any]) -> dict[str, RuleCode]:
    """The meaning of each rule code the case page shows: its hits' and its risk features' ("rule:R01")."""
    named = hit_codes(hits)
    risk = explanation.get("risk")
    features = (
        [str(c.get("feature", "")) for c in _dicts(risk.get("contributions"))]
        if isinstance(risk, dict)
        else []
    )
    return rule_legend(
        [*named, *(f.removeprefix("rule:") for f in features if f.startswith("rule:"))], names=named
    )


def _case_page(
    request: HttpRequest,
    case: Case,
    *,
    error: ApplicationError | None = None,
    form: str = "",
) -> HttpResponse:
    screening = case.alert.screening
    explanation = explanation_of(screening)
    text = screening.screened_text
    is_assignee = case.assignee_id == request.user.pk
    suggested = screening.typology if screening.typology in TYPOLOGY_LABELS else NONE
    legend = _legend_of(screening.rule_hits, explanation)
    posted = request.POST if error else {}
    filed = (sar_filed(case) or case.sar_draft) if case.status == Case.Status.ESCALATED else None
    return render(
        request,
        "aml/case.html",
        {
            "case": case,
            "alert": case.alert,
            "screening": screening,
            "customer": screening.customer,
            "transaction": screening.transaction,
            "screened_text": marked_text(text, explanation.get("phrases")),
            "passage": _passage(text, explanation),
            "typology": _typology(explanation),
            "risk": _risk(explanation),
            "rules": _rules(screening, legend),
            "legend": list(legend.values()),
            "timeline": _timeline(screening, legend),
            "related": _related(screening, legend),
            "related_days": RELATED_DAYS,
            "questions": case_questions(case),
            "attachments": list(enumerate(case.attachments)),
            "is_assignee": is_assignee,
            "can_act": is_assignee and case.status == Case.Status.OPEN,
            "can_edit_sar": is_assignee and case.status != Case.Status.CLOSED,
            "high_risk": case.alert.risk >= HIGH_RISK or screening.customer.risk_rating == "high",
            "decisions": [
                (
                    Case.Decision.CLOSED,
                    pgettext("a case's decision", "Close"),
                    _("no suspicion; no SAR is filed"),
                ),
                (
                    Case.Decision.ESCALATED,
                    pgettext("a case's decision", "Escalate"),
                    _("suspicious; the SAR draft is filed"),
                ),
            ],
            "typologies": [(label, _(DESCRIPTIONS[label])) for label in TYPOLOGY_LABELS],
            "suggested_typology": posted.get("typology", suggested),
            "sar_text": posted.get("sar_draft", case.sar_draft),
            "sar_base": sar_digest(case.sar_draft),
            "sar_filed": filed,
            "errors": _errors(error),
            "form": form,
            "posted": posted,
        },
        status=error.status if error else 200,
    )


def _case_action(
    request: HttpRequest,
    case_id: int,
    form: str,
    act: Callable[[Case], object],
    *,
    done: Callable[[Case], str] | None = None,
    anchor: str = "",
) -> HttpResponse:
    """Run one of the assignee's actions on the case; a refusal re-renders the page with its message
    beside the input at fault, and what was typed kept."""
    item = case_get(case_id)
    try:
        act(item)
    except ApplicationError as refusal:
        return _case_page(request, item, error=refusal, form=form)
    if done is not None:
        messages.success(request, done(case_get(case_id)))
    return redirect(reverse("aml:case", kwargs={"case_id": item.pk}) + anchor)


def _queue_rows(alerts: list[Alert]) -> tuple[list[tuple[Alert, list[RuleCode]]], list[RuleCode]]:
    """Each alert with the meaning of its rule codes, and the legend of every code shown."""
    named: dict[str, str] = {}
    for alert in alerts:
        named |= hit_codes(alert.screening.rule_hits)
    legend = rule_legend(named, names=named)
    rows = [(alert, [legend[code] for code in hit_codes(alert.screening.rule_hits)]) for alert in alerts]
    return rows, list(legend.values())


@analyst_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    rows, legend = _queue_rows(list(alert_queue()[:QUEUE_SHOWN]))
    return render(
        request,
        "aml/queue.html",
        {
            "counts": alert_counts(),
            "alerts": rows,
            "legend": legend,
            "mine": open_cases_of(request.user),
            "decided": decided_cases(DECIDED_SHOWN),
        },
    )


@analyst_required
@require_POST
def take(request: HttpRequest) -> HttpResponse:
    alert = alert_take_next(analyst=signed_in(request))
    if alert is None:
        messages.info(request, _("No open alerts to take: the queue is empty."))
        return redirect("aml:queue")
    return redirect("aml:case", case_id=alert.case.pk)


@analyst_required
@require_GET
def case(request: HttpRequest, case_id: int) -> HttpResponse:
    return _case_page(request, case_get(case_id))


@analyst_required
@require_POST
def note(request: HttpRequest, case_id: int) -> HttpResponse:
    return _case_action(
        request,
        case_id,
        "note",
        lambda item: case_note(case=item, analyst=signed_in(request), text=request.POST.get("note", "")),
    )


@analyst_required
@require_POST
def attach(request: HttpRequest, case_id: int) -> HttpResponse:
    def attach_upload(item: Case) -> Case:
        upload = request.FILES.get("attachment")
        if upload is None:
            raise ApplicationError(_("choose a file to attach"), field="attachment")
        return case_attach(case=item, analyst=signed_in(request), upload=upload)

    return _case_action(request, case_id, "attachment", attach_upload)


@analyst_required
@require_GET
def attachment(request: HttpRequest, case_id: int, index: int) -> HttpResponseBase:
    item = case_get(case_id)
    if index >= len(item.attachments):
        raise NotFound(f"case {case_id} has no attachment {index}", field="index")
    entry = item.attachments[index]
    if not default_storage.exists(entry["path"]):
        raise NotFound(f"the file of attachment {entry['name']} is missing from storage", field="index")
    return FileResponse(
        default_storage.open(entry["path"], "rb"),
        as_attachment=True,
        filename=entry["name"],
        content_type=entry.get("content_type") or "application/octet-stream",
    )


@analyst_required
@require_POST
def ask(request: HttpRequest, case_id: int) -> HttpResponse:
    return _case_action(
        request,
        case_id,
        "question",
        lambda item: case_ask(
            case=item, analyst=signed_in(request), question=request.POST.get("question", "")
        ),
    )


@analyst_required
@require_POST
def decide(request: HttpRequest, case_id: int) -> HttpResponse:
    return _case_action(
        request,
        case_id,
        "decision",
        lambda item: case_decide(
            case=item,
            analyst=signed_in(request),
            decision=request.POST.get("decision", ""),
            reason=request.POST.get("reason", ""),
            typology=request.POST.get("typology", ""),
            sar=request.POST.get("sar_draft"),
        ),
        done=lambda item: (
            _("Case %(number)s escalated: the SAR draft below was filed with it.") % {"number": item.pk}
            if item.status == Case.Status.ESCALATED
            else _("Case %(number)s closed.") % {"number": item.pk}
        ),
    )


def _sar_download(item: Case, version: str) -> HttpResponse:
    if version not in ("", "filed"):
        raise ApplicationError("the version is 'filed', or left out for the current draft", field="version")
    if version == "filed" and item.status != Case.Status.ESCALATED:
        raise NotFound(f"case {item.pk} has not been escalated: no SAR was filed with it", field="version")
    text = (sar_filed(item) or item.sar_draft) if version == "filed" else item.sar_draft
    if not text:
        raise NotFound(f"case {item.pk} has no SAR draft yet", field="id")
    response = HttpResponse(f"{text}\n", content_type="text/plain; charset=utf-8")
    name = f"case-{item.pk}-sar-{version or 'draft'}.txt"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@analyst_required
@require_http_methods(["GET", "POST"])
def sar(request: HttpRequest, case_id: int) -> HttpResponse:
    """The case's SAR draft: GET downloads it as text (`?version=filed`: as filed at escalation);
    POST saves the assignee's edit, or (`action=draft`) writes a first draft from the evidence."""
    if request.method == "GET":
        return _sar_download(case_get(case_id), request.GET.get("version", ""))
    if request.POST.get("action") == "draft":
        return _case_action(
            request,
            case_id,
            "sar",
            lambda item: case_sar_from_evidence(
                case=item,
                analyst=signed_in(request),
                typology=request.POST.get("typology", ""),
                reason=request.POST.get("reason", ""),
                text=request.POST.get("sar_draft", ""),
            ),
            done=lambda item: _("SAR draft written from the evidence: review it and edit it before filing."),
            anchor="#sar-draft",
        )
    return _case_action(
        request,
        case_id,
        "sar",
        lambda item: case_sar_save(
            case=item,
            analyst=signed_in(request),
            text=request.POST.get("sar_draft", ""),
            base=request.POST.get("base"),
        ),
        done=lambda item: _("SAR draft saved."),
        anchor="#sar-draft",
    )

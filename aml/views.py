"""The AML analysts' pages: the alert queue with "take next", and a case with its evidence and decision."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_POST

from aml.models import Case, Screening
from aml.selectors import (
    alert_counts,
    alert_queue,
    case_get,
    case_questions,
    decided_cases,
    evidence_ids,
    evidence_transactions,
    explanation_of,
    open_cases_of,
    related_transactions,
)
from aml.services.cases import alert_take_next, case_ask, case_attach, case_decide, case_note
from aml.typology import DESCRIPTIONS, NONE, TYPOLOGY_LABELS
from assistant.core.access import role_required, signed_in
from assistant.core.errors import ApplicationError, NotFound
from assistant.core.roles import AML_ANALYST

QUEUE_SHOWN = 100
DECIDED_SHOWN = 20
RELATED_DAYS = 30

analyst_required = role_required(
    AML_ANALYST, refusal="the AML pages are for AML analysts", error_template="aml/error.html"
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
        title = f"weight {weight:.2f}" if weight is not None else "phrase"
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


def _typology(explanation: Mapping[str, Any]) -> dict[str, Any] | None:
    typology = explanation.get("typology")
    if not isinstance(typology, dict):
        return None
    label = str(typology.get("label", ""))
    return {
        "label": label,
        "description": typology.get("description") or DESCRIPTIONS.get(label, ""),
        "probability": _number(typology.get("probability")),
        "suspicion": _number(typology.get("suspicion")),
        "alternatives": [
            {
                "label": str(alternative.get("label", "")),
                "description": DESCRIPTIONS.get(str(alternative.get("label", "")), ""),
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


def _rules(screening: Screening) -> list[dict[str, Any]]:
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
                "name": str(hit.get("name", "")),
                "detail": str(hit.get("detail", "")),
                "weight": _number(hit.get("weight")),
                "evidence": [transactions[i] for i in cited if isinstance(i, int) and i in transactions],
            }
        )
    return rules


def _related(screening: Screening) -> list[dict[str, Any]]:
    cited = evidence_ids(screening)
    return [
        {"transaction": t, "evidence": t.pk in cited, "screened": t.pk == screening.transaction_id}
        for t in related_transactions(screening, days=RELATED_DAYS)
    ]


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
            "rules": _rules(screening),
            "related": _related(screening),
            "related_days": RELATED_DAYS,
            "questions": case_questions(case),
            "attachments": list(enumerate(case.attachments)),
            "is_assignee": is_assignee,
            "can_act": is_assignee and case.status == Case.Status.OPEN,
            "decisions": [(Case.Decision.CLOSED, "Close"), (Case.Decision.ESCALATED, "Escalate")],
            "typologies": [(label, DESCRIPTIONS[label]) for label in TYPOLOGY_LABELS],
            "suggested_typology": request.POST.get("typology", suggested) if error else suggested,
            "error": error,
            "form": form,
            "posted": request.POST if error else {},
        },
        status=error.status if error else 200,
    )


def _case_action(
    request: HttpRequest, case_id: int, form: str, act: Callable[[Case], object]
) -> HttpResponse:
    """Run one of the assignee's actions on the case; a refusal re-renders the page with its message."""
    item = case_get(case_id)
    try:
        act(item)
    except ApplicationError as refusal:
        return _case_page(request, item, error=refusal, form=form)
    return redirect("aml:case", case_id=item.pk)


@analyst_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "aml/queue.html",
        {
            "counts": alert_counts(),
            "alerts": alert_queue()[:QUEUE_SHOWN],
            "mine": open_cases_of(request.user),
            "decided": decided_cases(DECIDED_SHOWN),
        },
    )


@analyst_required
@require_POST
def take(request: HttpRequest) -> HttpResponse:
    alert = alert_take_next(analyst=signed_in(request))
    if alert is None:
        messages.info(request, "No open alerts to take: the queue is empty.")
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
            raise ApplicationError("choose a file to attach", field="attachment")
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
        ),
    )

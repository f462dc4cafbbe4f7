"""Reading alerts and cases for the analysts' pages: the queue, one case with its evidence."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet

from aml.models import Alert, AuditEvent, Case, CaseQuestion, Rule, Screening, ScreeningBatch, Transaction
from assistant.core.errors import NotFound
from assistant.integrations.models import System

ALERT_RELATED = ("customer", "screening__transaction__account")
CASE_RELATED = (
    "assignee",
    "alert__customer",
    "alert__screening__customer",
    "alert__screening__transaction__account",
)


def alert_queue() -> QuerySet[Alert]:
    """Open alerts in the order "take next" hands them out: riskiest first, then oldest."""
    return (
        Alert.objects.filter(status=Alert.Status.OPEN)
        .select_related(*ALERT_RELATED)
        .order_by("-risk", "created_at", "pk")
    )


def alert_counts() -> dict[str, int]:
    """How many alerts wait to be taken and how many analysts are working on."""
    return {
        "open": Alert.objects.filter(status=Alert.Status.OPEN).count(),
        "in_progress": Alert.objects.filter(status=Alert.Status.IN_PROGRESS).count(),
    }


def open_cases_of(analyst: Any) -> QuerySet[Case]:
    return (
        Case.objects.filter(assignee=analyst, status=Case.Status.OPEN)
        .select_related(*CASE_RELATED)
        .order_by("created_at", "pk")
    )


def decided_cases(limit: int) -> QuerySet[Case]:
    return (
        Case.objects.exclude(decision=Case.Decision.NONE)
        .select_related(*CASE_RELATED)
        .order_by("-decided_at")[:limit]
    )


def case_get(case_id: int) -> Case:
    case = Case.objects.filter(pk=case_id).select_related(*CASE_RELATED).first()
    if case is None:
        raise NotFound(f"no case {case_id}", field="id")
    return case


def explanation_of(screening: Screening) -> dict[str, Any]:
    """The screening's explanation; any part of it may be missing (older screenings, documents)."""
    return screening.explanation if isinstance(screening.explanation, dict) else {}


def _evidence_of(entries: object) -> set[int]:
    if not isinstance(entries, list):
        return set()
    found: set[int] = set()
    for entry in entries:
        evidence = entry.get("evidence") if isinstance(entry, dict) else None
        if isinstance(evidence, list):
            found.update(e for e in evidence if isinstance(e, int) and not isinstance(e, bool))
    return found


def evidence_ids(screening: Screening) -> set[int]:
    """The transactions the screening's rule hits cite."""
    return _evidence_of(screening.rule_hits)


def evidence_codes(screening: Screening) -> dict[int, list[str]]:
    """The reason codes of the rules that cite each transaction, by transaction id."""
    codes: dict[int, list[str]] = {}
    hits = screening.rule_hits if isinstance(screening.rule_hits, list) else []
    for hit in hits:
        if not isinstance(hit, dict):
            continue
        code = str(hit.get("reason_code", ""))
        for cited in _evidence_of([hit]):
            if code not in codes.setdefault(cited, []):
                codes[cited].append(code)
    return codes


def evidence_transactions(screening: Screening) -> dict[int, Transaction]:
    """The cited transactions by id; only the screened customer's, whatever an explanation names."""
    found = Transaction.objects.filter(
        pk__in=evidence_ids(screening), account__customer=screening.customer_id
    ).select_related("account")
    return {t.pk: t for t in found}


def related_window(screening: Screening, days: int = 30) -> tuple[datetime, datetime]:
    """Around the screened transaction (`days` either side), or, for a document, the `days` before
    the screening."""
    window = timedelta(days=days)
    if screening.transaction is not None:
        booked = screening.transaction.booked_at
        return booked - window, booked + window
    return screening.created_at - window, screening.created_at


def related_transactions(screening: Screening, days: int = 30) -> QuerySet[Transaction]:
    """The customer's transactions in the screening's `related_window`."""
    start, end = related_window(screening, days)
    return (
        Transaction.objects.filter(account__customer=screening.customer_id, booked_at__range=(start, end))
        .select_related("account")
        .order_by("booked_at", "pk")
    )


def timeline_transactions(screening: Screening, days: int = 30) -> list[Transaction]:
    """The related transactions and every one a rule cites, however far out, in booking order."""
    found = {t.pk: t for t in related_transactions(screening, days)}
    found |= evidence_transactions(screening)
    return sorted(found.values(), key=lambda t: (t.booked_at, t.pk))


def rules_of(reason_codes: Iterable[str]) -> dict[str, Rule]:
    """The rules with these reason codes, by code (a code no rule has any more is left out)."""
    return {rule.reason_code: rule for rule in Rule.objects.filter(reason_code__in=set(reason_codes))}


def sar_filed(case: Case) -> str | None:
    """The SAR draft as it was when the case was escalated, from the audit trail (which cannot be
    edited); None for a case not escalated, or escalated before the trail kept the draft."""
    event = (
        AuditEvent.objects.filter(action="case.escalated", subject=f"case:{case.pk}")
        .order_by("-sequence")
        .first()
    )
    filed = event.payload.get("sar_draft") if event is not None and isinstance(event.payload, dict) else None
    return filed if isinstance(filed, str) else None


def screening_of(system: System, screening_id: int) -> Screening:
    """One of the system's screenings; another system's is reported as missing."""
    screening = (
        Screening.objects.filter(system=system, pk=screening_id)
        .select_related("transaction__account", "customer", "alert")
        .first()
    )
    if screening is None:
        raise NotFound(f"no screening {screening_id}", field="id")
    return screening


def batch_of(system: System, batch_id: int) -> ScreeningBatch:
    """One of the system's screening batches; another system's is reported as missing."""
    batch = ScreeningBatch.objects.filter(system=system, pk=batch_id).first()
    if batch is None:
        raise NotFound(f"no batch {batch_id}", field="id")
    return batch


def batch_screenings(batch: ScreeningBatch) -> QuerySet[Screening]:
    return batch.screenings.select_related("transaction__account", "alert").order_by("pk")


def case_questions(case: Case) -> QuerySet[CaseQuestion]:
    return case.questions.select_related("asked_by")

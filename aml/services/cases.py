"""Analysts' work on alerts: take the next one, investigate it as a case, decide, every step audited.

"Take next" locks the riskiest open alert with `SELECT ... FOR UPDATE SKIP LOCKED`, so analysts
asking at the same moment each get a different alert, and none waits for another's transaction.
Only the case's assignee may note, attach, ask, decide or edit its SAR draft. The SAR draft can be
written from the evidence and edited before the decision; escalating files it (the audit trail keeps
the filed text), and the assignee may still edit it afterwards, each edit audited.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.text import get_valid_filename

from aml.models import Alert, Case, CaseQuestion
from aml.services.audit import audit_record
from aml.typology import DESCRIPTIONS, NONE, TYPOLOGY_LABELS
from assistant.core.errors import ApplicationError, Conflict, FieldErrors, text_checked
from assistant.core.storable import text_problem
from assistant.generation import backend
from assistant.generation.base import NO_ANSWER, Prompt, citations_of, completed, passages_of
from assistant.knowledge.models import Collection
from assistant.knowledge.search import Reader, SearchRequest, SearchResult, knowledge_search

ANSWER_PASSAGES = 5
RED_FLAG_PASSAGES = 3
NOTE_MAX_CHARS = 10_000
QUESTION_MAX_CHARS = 1_000
REASON_MAX_CHARS = 4_000
SAR_MAX_CHARS = 20_000
# Where a draft written before the decision leaves the reasons; the decision's reasons fill it in.
REASONS_PENDING = "[to complete before filing]"
ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
INSTRUCTION = (
    "You assist anti-money-laundering analysts. Answer the question only from the numbered "
    "sources, which are FinCEN advisories and alerts. Cite every statement with the number of its "
    "source in square brackets, like [1]. If the sources do not answer the question, say: " + NO_ANSWER
)


class NotAssignee(ApplicationError):
    status = 403


def _actor(user: User) -> str:
    return user.get_username()


@transaction.atomic
def alert_take_next(*, analyst: User) -> Alert | None:
    """Assign the riskiest open alert to the analyst and open its case; None when the queue is empty."""
    alert = (
        Alert.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(status=Alert.Status.OPEN)
        .order_by("-risk", "created_at", "pk")
        .first()
    )
    if alert is None:
        return None
    alert.status, alert.assignee, alert.locked_at = Alert.Status.IN_PROGRESS, analyst, timezone.now()
    alert.save(update_fields=["status", "assignee", "locked_at"])
    Case.objects.create(alert=alert, assignee=analyst)
    audit_record(
        actor=_actor(analyst),
        action="alert.taken",
        subject=f"alert:{alert.pk}",
        payload={"risk": alert.risk, "customer": alert.customer.reference},
    )
    return alert


def _assigned(case: Case, analyst: User) -> Case:
    """The case, locked for this change, once it is the analyst's and still open."""
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if locked.assignee_id != analyst.pk:
        raise NotAssignee(f"case {case.pk} is assigned to another analyst", field="case")
    if locked.status != Case.Status.OPEN:
        raise ApplicationError(f"case {case.pk} is already {locked.status}", field="case")
    return locked


@transaction.atomic
def case_note(*, case: Case, analyst: User, text: object) -> Case:
    """Add a dated note to the case (notes are kept, never replaced)."""
    note = text_checked(text, field="note", noun="note", limit=NOTE_MAX_CHARS)
    locked = _assigned(case, analyst)
    stamp = timezone.now().strftime("%Y-%m-%d %H:%M UTC")
    locked.notes = f"{locked.notes}\n\n[{stamp}, {_actor(analyst)}] {note}".strip()
    locked.save(update_fields=["notes"])
    audit_record(
        actor=_actor(analyst), action="case.noted", subject=f"case:{case.pk}", payload={"note": note}
    )
    return locked


@transaction.atomic
def case_attach(*, case: Case, analyst: User, upload: UploadedFile[bytes]) -> Case:
    """Store a file as evidence: its name, type, size and SHA-256 go in the case and the audit trail."""
    if upload.size is None or upload.size == 0:
        raise ApplicationError("the file is empty", field="attachment")
    if upload.size > ATTACHMENT_MAX_BYTES:
        raise ApplicationError(
            f"the file is larger than {ATTACHMENT_MAX_BYTES // (1024 * 1024)} MiB", field="attachment"
        )
    locked = _assigned(case, analyst)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    name = get_valid_filename(upload.name or "attachment")
    path = default_storage.save(f"aml/cases/{case.pk}/{name}", upload)
    entry = {
        "name": name,
        "content_type": upload.content_type or "application/octet-stream",
        "size": upload.size,
        "sha256": digest.hexdigest(),
        "path": path,
        "uploaded_by": _actor(analyst),
        "uploaded_at": timezone.now().isoformat(),
    }
    locked.attachments = [*locked.attachments, entry]
    locked.save(update_fields=["attachments"])
    audit_record(actor=_actor(analyst), action="case.attached", subject=f"case:{case.pk}", payload=entry)
    return locked


def aml_collections() -> list[str]:
    return list(Collection.objects.filter(name__in=settings.AML_COLLECTIONS).values_list("name", flat=True))


def _search(query: str, k: int) -> list[SearchResult]:
    collections = aml_collections()
    if not collections:
        return []
    return knowledge_search(
        reader=Reader.system(), request=SearchRequest(query=query, k=k, collections=collections)
    ).results


def answer_of(question: str, results: Sequence[SearchResult]) -> str:
    prompt = Prompt(question, passages_of(results), instruction=INSTRUCTION)
    return completed(backend(), prompt)


def case_ask(*, case: Case, analyst: User, question: object) -> CaseQuestion:
    """Answer from the AML collections (FinCEN advisories) with citations; kept on the case."""
    text = text_checked(question, field="question", noun="question", limit=QUESTION_MAX_CHARS)
    if case.assignee_id != analyst.pk:
        raise NotAssignee(f"case {case.pk} is assigned to another analyst", field="case")
    results = _search(text, ANSWER_PASSAGES)
    answer = answer_of(text, results)
    with transaction.atomic():
        asked = CaseQuestion.objects.create(
            case=case, asked_by=analyst, question=text, answer=answer, citations=citations_of(results)
        )
        audit_record(
            actor=_actor(analyst),
            action="case.asked",
            subject=f"case:{case.pk}",
            payload={"question": text, "cited": [c["external_id"] for c in asked.citations]},
        )
    return asked


@dataclass(frozen=True)
class SarDraft:
    text: str
    red_flags: list[dict[str, Any]]  # the advisory passages the draft cites, numbered


def _dicts(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def sar_draft(case: Case, *, typology: str, reason: str) -> SarDraft:
    """A suspicious activity report narrative from the case's evidence: who, what, when, how, why,
    citing the advisories' red flags its activity matched. An analyst reviews it before filing."""
    screening = case.alert.screening
    customer = screening.customer
    hits = _dicts(screening.rule_hits)
    assessed = DESCRIPTIONS.get(typology, typology)
    query = " ".join([assessed, "red flags", *(str(hit.get("detail", "")) for hit in hits[:3])])
    results = _search(query, RED_FLAG_PASSAGES)
    flags = citations_of(results)
    subject = (
        f"{customer.name} (customer {customer.reference}, {customer.get_kind_display()}, "
        f"resident in {customer.country}, risk rating {customer.risk_rating})"
    )
    if (t := screening.transaction) is not None:
        activity = (
            f"On {t.booked_at:%Y-%m-%d}, account {t.account.number} booked an {t.get_direction_display()} "
            f"{t.get_channel_display()} transaction of {t.amount:,.2f} {t.currency} "
            f"{'from' if t.direction == 'in' else 'to'} {t.counterparty_name}"
            f"{f' ({t.counterparty_country})' if t.counterparty_country else ''}, "
            f'reference "{t.narrative}".'
        )
    else:
        activity = f'The customer\'s document "{screening.document_name}" was screened.'
    risk = f"a combined risk of {screening.risk:.2f}" if screening.risk is not None else "no risk score"
    lines = [
        f"Subject: {subject}.",
        activity,
        f"The activity was screened on {screening.created_at:%Y-%m-%d} with {risk}; "
        f"the analyst assessed it as {assessed}.",
    ]
    if hits:
        lines.append("Rules that fired:")
        lines += [f"- {hit.get('reason_code', '?')}: {hit.get('detail', '')}." for hit in hits]
    explanation = screening.explanation if isinstance(screening.explanation, dict) else {}
    quoted = [f'"{p["text"]}"' for p in _dicts(explanation.get("phrases")) if isinstance(p.get("text"), str)]
    if quoted:
        lines.append(f"Wording that drove the typology reading: {', '.join(quoted)}.")
    if flags:
        lines.append("Matching red flags in FinCEN guidance:")
        lines += [f'- [{f["number"]}] {f["title"]}: "{_excerpt(str(f["text"]))}"' for f in flags]
    lines.append(f"Analyst's reasons: {reason or REASONS_PENDING}")
    return SarDraft("\n".join(lines), flags)


def _excerpt(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: text.rfind(" ", 0, limit)] + " …"


def sar_digest(text: str) -> str:
    """What an editor of the SAR draft sends back as the version it started from."""
    return hashlib.sha256(text.encode()).hexdigest()


def sar_text(value: object) -> str:
    """The SAR narrative as typed, checked as every typed text is (`text_checked`) but with its lines
    kept: a report's layout is part of it."""
    text_checked(value, field="sar_draft", noun="SAR draft", limit=SAR_MAX_CHARS)
    text = str(value).replace("\r\n", "\n").strip()
    if problem := text_problem(text):
        raise ApplicationError(f"the SAR draft {problem}", field="sar_draft")
    return text


def _sar_recorded(case: Case, analyst: User, action: str, payload: dict[str, Any]) -> None:
    audit_record(
        actor=_actor(analyst),
        action=action,
        subject=f"case:{case.pk}",
        payload={"sar_draft": case.sar_draft, "sha256": sar_digest(case.sar_draft), **payload},
    )


@transaction.atomic
def case_sar_save(*, case: Case, analyst: User, text: object, base: object = None) -> Case:
    """Save the assignee's edit of the SAR draft, before or after escalation (a closed case files
    none). `base`, the digest of the draft the edit started from, refuses an edit made over a
    draft saved since; unchanged text records nothing."""
    draft = sar_text(text)
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if locked.assignee_id != analyst.pk:
        raise NotAssignee(f"case {case.pk} is assigned to another analyst", field="case")
    if locked.status == Case.Status.CLOSED:
        raise ApplicationError(f"case {case.pk} is closed: it files no SAR", field="case")
    if base is not None and base != sar_digest(locked.sar_draft):
        raise Conflict(
            "the SAR draft was saved from elsewhere since this page was opened: your text is kept here; "
            "open the case in another tab to compare, then save the text to keep",
            field="sar_draft",
        )
    if draft == locked.sar_draft:
        return locked
    locked.sar_draft = draft
    locked.save(update_fields=["sar_draft"])
    _sar_recorded(locked, analyst, "case.sar_edited", {"status": locked.status})
    return locked


@transaction.atomic
def case_sar_from_evidence(*, case: Case, analyst: User, typology: str, reason: object, text: object) -> Case:
    """Write a first SAR draft from the evidence for the assignee to edit before deciding: for the
    typology chosen so far (the screening's reading otherwise), with the reasons typed so far.
    Refused over a saved draft or over text typed in the draft's box, which it would replace."""
    if isinstance(text, str) and text.strip():
        raise ApplicationError(
            "the SAR box holds your own text: save it, or empty the box to draft from the evidence",
            field="sar_draft",
        )
    locked = _assigned(case, analyst)
    if locked.sar_draft:
        raise ApplicationError("the case has a saved SAR draft already: edit that one", field="sar_draft")
    suggested = locked.alert.screening.typology
    if typology not in TYPOLOGY_LABELS or typology == NONE:
        typology = suggested if suggested in TYPOLOGY_LABELS else NONE
    why = " ".join(reason.split())[:REASON_MAX_CHARS] if isinstance(reason, str) else ""
    draft = sar_draft(locked, typology=typology, reason=why)
    locked.sar_draft = draft.text
    locked.save(update_fields=["sar_draft"])
    red_flags = [f["external_id"] for f in draft.red_flags]
    _sar_recorded(locked, analyst, "case.sar_drafted", {"typology": typology, "red_flags": red_flags})
    return locked


def _decision_checked(decision: str, typology: str, reason: object, sar: object) -> tuple[str, str | None]:
    """The reasons and the SAR text typed (None when none was), once the decision's fields are
    right; otherwise every field's problem at once, so that the form shows them together."""
    problems: dict[str, list[str]] = {}
    if not decision:
        problems["decision"] = ["choose the outcome: close the case or escalate it"]
    elif decision not in (Case.Decision.CLOSED, Case.Decision.ESCALATED):
        problems["decision"] = ["the decision must be 'closed' or 'escalated'"]
    if typology not in TYPOLOGY_LABELS:
        problems["typology"] = [f"unknown typology {typology[:40]!r}"]
    elif decision == Case.Decision.ESCALATED and typology == NONE:
        problems["typology"] = ["an escalated case needs the typology it is suspected of"]
    why, text = "", None
    try:
        why = text_checked(reason, field="reason", noun="reason", limit=REASON_MAX_CHARS)
    except ApplicationError as refusal:
        problems["reason"] = [refusal.message]
    if isinstance(sar, str) and sar.strip():
        try:
            text = sar_text(sar)
        except ApplicationError as refusal:
            problems["sar_draft"] = [refusal.message]
    if problems:
        raise FieldErrors(problems)
    return why, text


@transaction.atomic
def case_decide(
    *, case: Case, analyst: User, decision: str, reason: object, typology: str, sar: object = None
) -> Case:
    """Close the case or escalate it, filing its SAR draft; the typology becomes a training label.

    `sar` is the SAR draft as the analyst's form holds it: when it holds text, that becomes the
    draft (filed, on escalation, with the reasons filled in where a draft written earlier left
    them to complete); empty or None, the saved draft stays, and escalating a case with none
    writes it from the evidence."""
    why, text = _decision_checked(decision, typology, reason, sar)
    locked = _assigned(case, analyst)
    if text is not None:
        locked.sar_draft = text
    locked.decision, locked.decision_reason, locked.typology = decision, why, typology
    locked.status = Case.Status.ESCALATED if decision == Case.Decision.ESCALATED else Case.Status.CLOSED
    locked.decided_at = timezone.now()
    payload: dict[str, Any] = {"decision": decision, "typology": typology, "reason": why}
    if decision == Case.Decision.ESCALATED and not locked.sar_draft:
        draft = sar_draft(locked, typology=typology, reason=why)
        locked.sar_draft = draft.text
        payload["red_flags"] = [f["external_id"] for f in draft.red_flags]
    elif decision == Case.Decision.ESCALATED:
        locked.sar_draft = locked.sar_draft.replace(REASONS_PENDING, why)
    if locked.sar_draft:
        payload |= {"sar_draft": locked.sar_draft, "sha256": sar_digest(locked.sar_draft)}
    locked.save(
        update_fields=["decision", "decision_reason", "typology", "status", "decided_at", "sar_draft"]
    )
    Alert.objects.filter(pk=locked.alert_id).update(status=Alert.Status.CLOSED)
    audit_record(actor=_actor(analyst), action=f"case.{decision}", subject=f"case:{case.pk}", payload=payload)
    return locked

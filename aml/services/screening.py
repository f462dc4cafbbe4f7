"""Screening: the rules and the typology model on transactions and customers' documents.

A transaction is screened against the customer's history (all their accounts, as far back as the
enabled rules look) and its narrative is read by `aml-typology`; the combined, calibrated risk
(`aml.risk`) decides whether it raises an alert. A document is cut into passages, each read by
the model; its most suspicious passage speaks for it. Every screening keeps its explanation: the
rules that fired with their evidence, the typology, the risk's parts, and, for alerts and single
screenings, the phrases that drove the reading (`aml.explain`; a batch's alerts get theirs once
the batch is screened, since attribution costs a model pass per word).

Batches are screened together: one history query for all their customers, one model call per
1,024 distinct narratives, one insert for the screenings and one for the alerts.
"""

from __future__ import annotations

import bisect
import json
import logging
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, NamedTuple

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from aml.dispatch import batch_screen_later
from aml.explain import occlusion, occlusions
from aml.models import Account, Alert, Customer, RiskCalibration, Rule, Screening, ScreeningBatch, Transaction
from aml.risk import (
    features_of,
    risk_of,
    rule_weights,
    suspicion_of,
    typology_predictions,
)
from aml.rules import RuleHit, rules_evaluate, rules_lookback
from aml.services.audit import Entry, audit_record_many
from aml.services.calibration import risk_calibration, risk_calibration_fit
from aml.typology import DESCRIPTIONS, NONE, PASSAGE_CHARS, TYPOLOGY
from assistant.core.dispatch import resend_stale
from assistant.core.errors import ApplicationError, Conflict, ItemErrors, NotFound
from assistant.db.constraints import violated_constraint
from assistant.integrations.models import System
from assistant.integrations.webhooks import event_emit
from assistant.training.inference import ModelNotReady, Prediction, active_version
from assistant.training.models import ModelVersion

logger = logging.getLogger("finassist.aml")

ALTERNATIVES = 3
BATCH_CHUNK = 1000
SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|\n|$)")


@dataclass(frozen=True)
class Setup:
    """What one screening run reads once: the rules as set now and the calibrated combination."""

    rules: list[Rule]
    weights: dict[str, float]
    calibration: RiskCalibration
    lookback: timedelta

    @classmethod
    def now(cls) -> Setup:
        rules = list(Rule.objects.all())
        calibration = risk_calibration(active_version(TYPOLOGY), rules)
        return cls(rules, rule_weights(rules), calibration, rules_lookback(rules))


def _typology(prediction: Prediction) -> dict[str, Any]:
    ranked = sorted(prediction.alternatives, key=lambda item: -item[1])
    return {
        "label": prediction.label,
        "description": DESCRIPTIONS[prediction.label],
        "probability": round(prediction.confidence, 4),
        "suspicion": round(suspicion_of(prediction), 4),
        "alternatives": [{"label": label, "probability": round(p, 4)} for label, p in ranked[:ALTERNATIVES]],
        "model_version": prediction.model_version,
    }


def _suspected(scores: dict[str, float]) -> str:
    """The likeliest typology other than none: the one whose phrases explain the suspicion."""
    return max((label for label in scores if label != NONE), key=lambda label: scores[label])


def _rules(hits: Sequence[RuleHit], rules: Sequence[Rule]) -> list[dict[str, Any]]:
    by_code = {rule.code: rule for rule in rules}
    return [
        {
            "code": hit.code,
            "reason_code": hit.reason_code,
            "name": by_code[hit.code].name,
            "detail": hit.detail,
            "evidence": list(hit.evidence),
            "weight": by_code[hit.code].weight,
        }
        for hit in hits
    ]


def _scored(
    setup: Setup,
    hits: Sequence[RuleHit],
    prediction: Prediction | None,
) -> tuple[float, dict[str, Any]]:
    suspicion = suspicion_of(prediction) if prediction is not None else None
    details = {
        "rules": f"{len(hits)} rule(s) fired: {', '.join(h.reason_code for h in hits)}" if hits else "",
        "text": f"the text reads {suspicion:.0%} as some typology" if suspicion is not None else "",
        "no_text": "there was no text to read",
    }
    risk = risk_of(setup.calibration, features_of(hits, setup.weights, suspicion), details)
    explanation: dict[str, Any] = {
        "risk": {"score": round(risk.score, 4), "bias": risk.bias, "contributions": risk.contributions},
        "typology": _typology(prediction) if prediction is not None else None,
        "phrases": [],
    }
    return risk.score, explanation


class HistoryRow(NamedTuple):
    """An earlier transaction as the rules read it (`aml.rules.Booked`)."""

    pk: int
    booked_at: datetime
    amount: Decimal
    direction: str
    channel: str


HISTORY = """
    SELECT t.id, t.booked_at, t.amount, t.direction, t.channel, w.customer_id
    FROM jsonb_to_recordset(%s::jsonb) AS w(customer_id bigint, since timestamptz, until timestamptz)
    JOIN aml_account a ON a.customer_id = w.customer_id
    JOIN aml_transaction t ON t.account_id = a.id AND t.booked_at BETWEEN w.since AND w.until
    ORDER BY t.booked_at, t.id
"""


def _histories(transactions: Sequence[Transaction], lookback: timedelta) -> dict[int, list[HistoryRow]]:
    """Each customer's transactions (all accounts) from `lookback` before their earliest screened one
    to their latest, in one query, with only the fields the rules read."""
    spans: dict[int, tuple[datetime, datetime]] = {}
    for t in transactions:
        since, until = spans.get(t.account.customer_id, (t.booked_at, t.booked_at))
        spans[t.account.customer_id] = (min(since, t.booked_at), max(until, t.booked_at))
    windows = [
        {"customer_id": customer, "since": (since - lookback).isoformat(), "until": until.isoformat()}
        for customer, (since, until) in spans.items()
    ]
    histories: dict[int, list[HistoryRow]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(HISTORY, [json.dumps(windows)])
        for *row, customer in cursor.fetchall():
            histories[customer].append(HistoryRow(*row))
    return histories


def _window(
    history: list[HistoryRow], times: list[datetime], t: Transaction, lookback: timedelta
) -> list[HistoryRow]:
    low = bisect.bisect_left(times, t.booked_at - lookback)
    high = bisect.bisect_right(times, t.booked_at)
    return [other for other in history[low:high] if other.pk != t.pk]


def _models(setup: Setup) -> dict[str, int]:
    return {TYPOLOGY: setup.calibration.model_version_id}


Phrases = Literal["all", "alerts", "none"]


def transactions_screen(
    transactions: Sequence[Transaction],
    *,
    system: System | None = None,
    batch: ScreeningBatch | None = None,
    phrases: Phrases = "alerts",
    setup: Setup | None = None,
) -> list[Screening]:
    """Screen stored transactions; alerts are raised for risks at or above AML_ALERT_THRESHOLD.

    `phrases`: for which screenings to attribute the typology reading to phrases now (one model
    pass per word): every one, those that raise an alert, or none (`alerts_attribute` later).
    """
    if not transactions:
        return []
    setup = setup or Setup.now()
    histories = _histories(transactions, setup.lookback)
    times = {customer: [t.booked_at for t in items] for customer, items in histories.items()}
    narratives = [t.narrative for t in transactions if t.narrative.strip()]
    predictions = typology_predictions(narratives) if narratives else {}
    screenings = []
    for t in transactions:
        customer = t.account.customer_id
        history = _window(histories[customer], times[customer], t, setup.lookback)
        hits = rules_evaluate(t, history=history, rules=setup.rules)
        prediction = predictions.get(t.narrative)
        risk, explanation = _scored(setup, hits, prediction)
        screenings.append(
            Screening(
                subject_kind=Screening.SubjectKind.TRANSACTION,
                transaction=t,
                customer_id=customer,
                system=system,
                batch=batch,
                typology=prediction.label if prediction is not None else "",
                rule_hits=_rules(hits, setup.rules),
                model_scores=dict(prediction.alternatives) if prediction is not None else {},
                risk=risk,
                explanation=explanation,
                model_versions=_models(setup),
            )
        )
    if phrases != "none":
        phrases_attribute([s for s in screenings if phrases == "all" or _alerting(s)])
    return _stored(screenings, system, batch)


def waiting_screen() -> list[Screening]:
    """Screen the stored transactions that have no screening: those that came in while no typology
    version was active (the demo's, on a first `make run`)."""
    waiting = Transaction.objects.filter(screenings__isnull=True).select_related("account")
    return transactions_screen(list(waiting.order_by("booked_at", "pk")))


def _alerting(screening: Screening) -> bool:
    return screening.risk is not None and screening.risk >= settings.AML_ALERT_THRESHOLD


def phrases_attribute(screenings: Sequence[Screening]) -> list[Screening]:
    """Set the phrases of transaction screenings the model read, all in one pass of the model."""
    read = [s for s in screenings if s.model_scores and s.screened_text.strip()]
    found = occlusions([(s.screened_text, _suspected(s.model_scores)) for s in read])
    for screening, attributed in zip(read, found, strict=True):
        screening.explanation = {**screening.explanation, "phrases": attributed}
    return read


def alerts_attribute(batch: ScreeningBatch) -> int:
    """Attribute the phrases of a batch's alerts that have none yet; how many were attributed."""
    waiting = list(
        Screening.objects.filter(batch=batch, alert__isnull=False, explanation__phrases=[])
        .exclude(model_scores={})
        .select_related("transaction")
    )
    attributed = phrases_attribute(waiting)
    Screening.objects.bulk_update(attributed, ["explanation"])
    return len(attributed)


def passages_of_text(text: str) -> list[tuple[int, int]]:
    """(start, end) of runs of whole sentences, each at most PASSAGE_CHARS long where a sentence allows."""
    spans: list[tuple[int, int]] = []
    for match in SENTENCE.finditer(text):
        if not match.group().strip():
            continue
        if spans and match.end() - spans[-1][0] <= PASSAGE_CHARS:
            spans[-1] = (spans[-1][0], match.end())
        else:
            spans.append((match.start(), match.end()))
    return spans


def document_screen(
    *, customer: Customer, name: str, text: str, system: System | None = None, setup: Setup | None = None
) -> Screening:
    """Screen a customer's document: each passage read by the model, the most suspicious one explains."""
    spans = passages_of_text(text)
    if not spans:
        raise ApplicationError("the document has no text to read", field="text")
    setup = setup or Setup.now()
    passages = [text[start:end].strip() for start, end in spans]
    predictions = typology_predictions(passages)
    start, end = max(spans, key=lambda span: suspicion_of(predictions[text[span[0] : span[1]].strip()]))
    passage = text[start:end]
    offset = start + len(passage) - len(passage.lstrip())
    prediction = predictions[passage.strip()]
    risk, explanation = _scored(setup, [], prediction)
    explanation["passage"] = {"start": offset, "end": offset + len(passage.strip())}
    explanation["phrases"] = [
        {**phrase, "start": phrase["start"] + offset, "end": phrase["end"] + offset}
        for phrase in occlusion(passage.strip(), _suspected(dict(prediction.alternatives)))
    ]
    screening = Screening(
        subject_kind=Screening.SubjectKind.DOCUMENT,
        document_name=name,
        document_text=text,
        customer=customer,
        system=system,
        typology=prediction.label,
        model_scores=dict(prediction.alternatives),
        risk=risk,
        explanation=explanation,
        model_versions=_models(setup),
    )
    return _stored([screening], system)[0]


@transaction.atomic
def _stored(
    screenings: list[Screening], system: System | None, batch: ScreeningBatch | None = None
) -> list[Screening]:
    """Store screenings, their alerts and the alerts' audit events. Of a batch's, only those of
    transactions it has none of yet (a worker that the sweep took for dead may have stored them),
    with the batch's progress."""
    if batch is not None:
        screenings = _unscreened(batch, screenings)
    Screening.objects.bulk_create(screenings)
    alerts = Alert.objects.bulk_create(
        Alert(screening=s, customer_id=s.customer_id, risk=s.risk)
        for s in screenings
        if s.risk is not None and s.risk >= settings.AML_ALERT_THRESHOLD
    )
    actor = system.name if system is not None else "system"
    audit_record_many(
        [
            Entry(
                actor,
                "alert.raised",
                f"alert:{alert.pk}",
                {
                    "screening": alert.screening.pk,
                    "risk": round(alert.risk, 4),
                    "rules": [hit["reason_code"] for hit in alert.screening.rule_hits],
                    "typology": alert.screening.typology,
                    "model_versions": alert.screening.model_versions,
                },
            )
            for alert in alerts
        ]
    )
    if batch is not None:
        ScreeningBatch.objects.filter(pk=batch.pk).update(
            screened=Screening.objects.filter(batch=batch).count(), progressed_at=timezone.now()
        )
    return screenings


def _unscreened(batch: ScreeningBatch, screenings: list[Screening]) -> list[Screening]:
    """The screenings of transactions the batch has none of yet, the batch locked until the caller
    commits so that no other worker stores any of the same meanwhile."""
    ScreeningBatch.objects.select_for_update().only("pk").get(pk=batch.pk)
    done = set(
        Screening.objects.filter(
            batch=batch, transaction_id__in=[s.transaction_id for s in screenings]
        ).values_list("transaction_id", flat=True)
    )
    return [s for s in screenings if s.transaction_id not in done]


@dataclass(frozen=True)
class TransactionInput:
    """A transaction as a core-banking system sends it to be screened, its fields of the right
    types and formats (the API checks those); `transactions_store` checks the rest."""

    account: str  # the account's number
    external_id: str
    amount: Decimal
    currency: str
    direction: str
    counterparty_name: str
    channel: str
    booked_at: datetime
    counterparty_account: str = ""
    counterparty_country: str = ""
    narrative: str = ""


@dataclass(frozen=True)
class DocumentInput:
    """A customer's document to screen: the customer's reference, the document's name and text."""

    customer: str
    name: str
    text: str


def transactions_store(items: Sequence[TransactionInput], *, batch: bool) -> list[Transaction]:
    """Store transactions (all or none) once each is booked, on a known account in its currency,
    with a new external id; refusals by field, a batch's keyed by index (409 for one stored before)."""
    now = timezone.now()
    accounts = Account.objects.select_related("customer").in_bulk(
        [item.account for item in items], field_name="number"
    )
    keys = [(item.account, item.external_id) for item in items]
    taken = _screened(keys)
    errors = ItemErrors("transactions", batch)
    seen: set[tuple[str, str]] = set()
    for index, (item, key) in enumerate(zip(items, keys, strict=True)):
        if item.booked_at > now:
            errors.add(index, "booked_at", "the transaction is booked in the future")
        account = accounts.get(item.account)
        if account is None:
            errors.add(index, "account", f"no account with the number {item.account!r}")
        elif item.currency != account.currency:
            errors.add(
                index,
                "currency",
                f"account {account.number} is held in {account.currency}, not {item.currency}",
            )
        named = f"transaction {key[1]!r} of account {key[0]}"
        if key in taken:
            errors.add(index, "external_id", f"{named} was already screened", conflict=True)
        elif key in seen:
            errors.add(index, "external_id", f"{named} appears twice in this batch")
        seen.add(key)
    errors.raise_any()
    try:
        return Transaction.objects.bulk_create(
            Transaction(
                account=accounts[item.account],
                **{name: value for name, value in asdict(item).items() if name != "account"},
            )
            for item in items
        )
    except IntegrityError as error:
        if violated_constraint(error) != "transaction_external_id_unique":
            raise
        raise Conflict(
            "a transaction with one of these external ids was stored at the same moment", field="external_id"
        ) from None


def _screened(keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (account, external id) pairs stored already."""
    found = Transaction.objects.filter(
        account__number__in={number for number, _ in keys},
        external_id__in={external_id for _, external_id in keys},
    )
    return set(found.values_list("account__number", "external_id"))


def screening_create(*, system: System, subject: TransactionInput | DocumentInput) -> Screening:
    """Screen one transaction (stored first) or one customer's document now, phrases included."""
    if isinstance(subject, TransactionInput):
        (stored,) = transactions_store([subject], batch=False)
        (screening,) = transactions_screen([stored], system=system, phrases="all")
        return screening
    customer = Customer.objects.filter(reference=subject.customer).first()
    if customer is None:
        raise ApplicationError(f"no customer {subject.customer!r}", field="customer")
    return document_screen(customer=customer, name=subject.name, text=subject.text, system=system)


def batch_submit(*, system: System, items: Sequence[TransactionInput]) -> ScreeningBatch:
    """Store the transactions and queue their screening once stored."""
    stored = transactions_store(items, batch=True)
    batch = ScreeningBatch.objects.create(system=system, total=len(stored))
    batch.transactions.set(stored)
    batch_screen_later(batch.pk)
    return batch


def batch_screen(batch_id: int) -> ScreeningBatch:
    """Screen a batch's transactions not screened yet in it (safe to run again), in chunks."""
    batch = ScreeningBatch.objects.select_related("system").filter(pk=batch_id).first()
    if batch is None:
        raise NotFound(f"no batch {batch_id} to screen: deleted since it was queued", field="id")
    with transaction.atomic():
        batch = ScreeningBatch.objects.select_for_update().select_related("system").get(pk=batch_id)
        if batch.status == ScreeningBatch.Status.COMPLETE or _moving(batch):
            return batch  # done, or another worker is on it (the sweep re-sends it if that one dies)
        batch.status, batch.progressed_at = ScreeningBatch.Status.PROCESSING, timezone.now()
        batch.save(update_fields=["status", "progressed_at"])
    done = Screening.objects.filter(batch=batch).values("transaction_id")
    pending = list(
        batch.transactions.exclude(pk__in=done).select_related("account").order_by("booked_at", "pk")
    )
    try:
        setup = Setup.now()
        for start in range(0, len(pending), BATCH_CHUNK):
            transactions_screen(
                pending[start : start + BATCH_CHUNK], system=batch.system, batch=batch, setup=setup
            )
    except ModelNotReady:
        # Its task tries again shortly: leave the batch free for that try.
        ScreeningBatch.objects.filter(pk=batch_id).update(progressed_at=None)
        raise
    except ApplicationError as error:
        batch_fail(batch_id, error.message)
        return ScreeningBatch.objects.get(pk=batch_id)
    with transaction.atomic():
        finished = ScreeningBatch.objects.filter(pk=batch_id).exclude(status=ScreeningBatch.Status.COMPLETE)
        if not finished.update(status=ScreeningBatch.Status.COMPLETE, finished_at=timezone.now()):
            return ScreeningBatch.objects.get(pk=batch_id)  # another worker completed it and said so
        batch.refresh_from_db()
        alerts = Alert.objects.filter(screening__batch=batch).count()
        event_emit(
            system=batch.system,
            event_type="aml.batch.completed",
            data={"id": batch.pk, "screened": batch.screened, "alerts": alerts},
        )
    return batch


def _moving(batch: ScreeningBatch) -> bool:
    """Whether a worker screened a chunk of the batch lately (a chunk takes seconds)."""
    quiet = timedelta(seconds=settings.AML_BATCH_REQUEUE_AFTER_S)
    return (
        batch.status == ScreeningBatch.Status.PROCESSING
        and batch.progressed_at is not None
        and batch.progressed_at > timezone.now() - quiet
    )


def batches_requeue_stale() -> int:
    """Send the screening again of batches waiting or processing without progress for longer than
    AML_BATCH_REQUEUE_AFTER_S (a lost message, a killed worker): it resumes where it stopped."""
    cutoff = timezone.now() - timedelta(seconds=settings.AML_BATCH_REQUEUE_AFTER_S)
    stale = ScreeningBatch.objects.filter(
        status__in=[ScreeningBatch.Status.QUEUED, ScreeningBatch.Status.PROCESSING],
        created_at__lte=cutoff,
    ).exclude(progressed_at__gt=cutoff)
    return resend_stale(
        stale, batch_screen_later, logger=logger, message="re-sent the screening of %d stalled batch(es)"
    )


def batch_fail(batch_id: int, reason: str) -> None:
    """Mark a batch failed (a refusal, or its task gave up), unless it was screened meanwhile."""
    unfinished = ScreeningBatch.objects.filter(pk=batch_id).exclude(status=ScreeningBatch.Status.COMPLETE)
    if unfinished.update(status=ScreeningBatch.Status.ERROR, error=reason[:2000], finished_at=timezone.now()):
        logger.warning("batch %s not screened: %s", batch_id, reason)


def typology_prepare(version: ModelVersion) -> RiskCalibration:
    """What serving a typology version needs: its risk calibration. Then the transactions that came
    in while no version was active are screened with it."""
    calibration = risk_calibration_fit(version)
    waiting_screen()
    return calibration

"""The audit trail: append-only and hash-chained, so that a rewritten history shows.

Each event's hash is SHA-256 over the canonical JSON of its content and the previous event's
hash. Editing, deleting or reordering an event breaks the chain at that point; rewriting the
whole tail consistently changes the last hash, which `verify_audit` prints for keeping elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from aml.models import AUDIT_ACTION, AuditEvent
from assistant.core.errors import ApplicationError

GENESIS_HASH = "0" * 64
# Any constant no other advisory lock in the database uses ("amlaudit" in ASCII).
AUDIT_LOCK = 0x616D6C6175646974


@dataclass(frozen=True)
class Problem:
    sequence: int
    kind: str  # "altered", "missing" or "broken_link"
    detail: str


def audit_event_hash(event: AuditEvent) -> str:
    """SHA-256 of the event's canonical JSON. The format is part of every stored hash: changing it
    breaks the whole trail's verification."""
    content = {
        "sequence": event.sequence,
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": event.actor,
        "action": event.action,
        "subject": event.subject,
        "payload": event.payload,
        "previous_hash": event.previous_hash,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Entry:
    actor: str
    action: str
    subject: str
    payload: dict[str, Any]


def audit_record(*, actor: str, action: str, subject: str, payload: dict[str, Any]) -> AuditEvent:
    """Append one event to the trail (see `audit_record_many`)."""
    return audit_record_many([Entry(actor, action, subject, payload)])[0]


def _checked(entry: Entry) -> None:
    if not entry.actor.strip():
        raise ApplicationError("an audit event needs an actor: a username or 'system'", field="actor")
    if not re.fullmatch(AUDIT_ACTION, entry.action):
        raise ApplicationError(
            f"audit action {entry.action!r} is not a dotted slug like 'alert.taken'", field="action"
        )
    if not entry.subject.strip():
        raise ApplicationError("an audit event needs a subject, e.g. 'alert:12'", field="subject")


def audit_record_many(entries: Sequence[Entry]) -> list[AuditEvent]:
    """Append events to the trail, in order, with one lock and one insert.

    The advisory lock makes appenders take turns until the caller's outermost transaction ends,
    so no two processes get the same sequence or chain onto the same predecessor; a transaction
    that records an event therefore holds up every other recorder until it ends: keep it short.
    """
    for entry in entries:
        _checked(entry)
    if not entries:
        return []
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_LOCK])
            # Hash the payloads as jsonb gives them back (numbers normalised, e.g. 1e+20 as an
            # integer), since verification hashes what it reads back.
            cursor.execute(
                "SELECT p::text FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS u(p, n) ORDER BY n",
                [json.dumps([entry.payload for entry in entries], cls=DjangoJSONEncoder)],
            )
            payloads = [json.loads(row[0]) for row in cursor.fetchall()]
        last = AuditEvent.objects.order_by("-sequence").values_list("sequence", "hash").first()
        sequence, previous_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
        now = timezone.now()
        events = []
        for offset, (entry, payload) in enumerate(zip(entries, payloads, strict=True)):
            event = AuditEvent(
                sequence=sequence + offset,
                occurred_at=now,
                actor=entry.actor,
                action=entry.action,
                subject=entry.subject,
                payload=payload,
                previous_hash=previous_hash,
            )
            event.hash = previous_hash = audit_event_hash(event)
            events.append(event)
        AuditEvent.objects.bulk_create(events)
    return events


def audit_verify(*, through: int | None = None) -> list[Problem]:
    """Every break in the chain, in sequence order (up to `through`, when given); empty when intact.

    After a gap the next event's link is not judged: the event it should link to is gone.
    """
    events = AuditEvent.objects.order_by("sequence")
    if through is not None:
        events = events.filter(sequence__lte=through)
    problems = []
    expected_sequence, expected_link = 1, GENESIS_HASH
    for event in events.iterator(chunk_size=2000):
        if event.sequence > expected_sequence:
            missing = (
                f"event #{expected_sequence} is"
                if event.sequence == expected_sequence + 1
                else f"events #{expected_sequence} to #{event.sequence - 1} are"
            )
            problems.append(
                Problem(expected_sequence, "missing", f"{missing} missing: deleted from the trail")
            )
        elif event.previous_hash != expected_link:
            problems.append(
                Problem(
                    event.sequence,
                    "broken_link",
                    f"event #{event.sequence} links to {event.previous_hash[:12]}…, but the event before it "
                    f"hashes to {expected_link[:12]}…: events were reordered, inserted or replaced",
                )
            )
        if audit_event_hash(event) != event.hash:
            problems.append(
                Problem(
                    event.sequence,
                    "altered",
                    f"event #{event.sequence} ({event.action} {event.subject}) does not match its hash: "
                    "it was edited, or written with a made-up hash",
                )
            )
        expected_sequence, expected_link = event.sequence + 1, event.hash
    return problems

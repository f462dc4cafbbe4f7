"""The audit trail: append-only and hash-chained, so that a rewritten history shows.

Each event's hash is SHA-256 over the canonical JSON of its content and the previous event's
hash. Editing, deleting or reordering an event breaks the chain at that point; rewriting the
whole tail consistently changes the last hash, which `verify_audit` prints for keeping elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import re
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


def audit_record(*, actor: str, action: str, subject: str, payload: dict[str, Any]) -> AuditEvent:
    """Append one event to the trail.

    The advisory lock makes appenders take turns until the caller's outermost transaction ends,
    so no two processes get the same sequence or chain onto the same predecessor; a transaction
    that records an event therefore holds up every other recorder until it ends: keep it short.
    """
    if not actor.strip():
        raise ApplicationError("an audit event needs an actor: a username or 'system'", field="actor")
    if not re.fullmatch(AUDIT_ACTION, action):
        raise ApplicationError(
            f"audit action {action!r} is not a dotted slug like 'alert.taken'", field="action"
        )
    if not subject.strip():
        raise ApplicationError("an audit event needs a subject, e.g. 'alert:12'", field="subject")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_LOCK])
            # Hash the payload as jsonb gives it back (numbers normalised, e.g. 1e+20 as an integer),
            # since verification hashes what it reads back.
            cursor.execute("SELECT %s::jsonb::text", [json.dumps(payload, cls=DjangoJSONEncoder)])
            stored_payload = json.loads(cursor.fetchone()[0])
        last = AuditEvent.objects.order_by("-sequence").values_list("sequence", "hash").first()
        sequence, previous_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
        event = AuditEvent(
            sequence=sequence,
            occurred_at=timezone.now(),
            actor=actor,
            action=action,
            subject=subject,
            payload=stored_payload,
            previous_hash=previous_hash,
        )
        event.hash = audit_event_hash(event)
        event.save()
    return event


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

"""The audit trail: append-only, hash-chained and keyed, so that a rewritten history shows, even
one rewritten by the database's owner.

Each event's hash is SHA-256 over the canonical JSON of its content and the previous event's
hash: editing, deleting or reordering an event breaks the chain at that point. Each event also
carries a MAC of its hash under FINASSIST_AUDIT_KEY, a secret of the application that the
database never holds: whoever rewrites the chain consistently cannot make its MACs. Checkpoints
of the chain's head, MACed too, go to a file outside the database (FINASSIST_AUDIT_CHECKPOINTS):
a trail truncated or rewritten from some event on shows against the last checkpoint it contradicts.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from aml.models import AUDIT_ACTION, AuditEvent
from assistant.core.errors import ApplicationError

logger = logging.getLogger("finassist.aml")

GENESIS_HASH = "0" * 64
# Any constant no other advisory lock in the database uses ("amlaudit" in ASCII).
AUDIT_LOCK = 0x616D6C6175646974


@dataclass(frozen=True)
class Problem:
    sequence: int
    kind: str  # "altered", "missing", "broken_link", "forged" or "checkpoint"
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


def audit_mac(text: str) -> str:
    """HMAC-SHA256 of `text` under the application's audit key."""
    return hmac.new(settings.AUDIT_KEY.encode(), text.encode(), hashlib.sha256).hexdigest()


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
            event.mac = audit_mac(event.hash)
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
        elif not hmac.compare_digest(event.mac, audit_mac(event.hash)):
            problems.append(
                Problem(
                    event.sequence,
                    "forged",
                    f"event #{event.sequence} ({event.action} {event.subject}) matches its hash but not its "
                    "MAC: it was written, or the chain rewritten, without the application's audit key",
                )
            )
        expected_sequence, expected_link = event.sequence + 1, event.hash
    return problems + _against_checkpoints(through)


# Checkpoints -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    sequence: int
    hash: str
    at: str
    mac: str

    def signed(self) -> str:
        return f"{self.sequence}:{self.hash}:{self.at}"


def audit_checkpoint() -> Checkpoint | None:
    """Append the chain's head, MACed, to the checkpoint file (and the log); None when nothing was
    recorded since the last checkpoint."""
    head = AuditEvent.objects.order_by("-sequence").values_list("sequence", "hash").first()
    if head is None:
        return None
    kept = checkpoints()
    if kept and kept[-1].sequence == head[0]:
        return None
    at = timezone.now().astimezone(UTC).isoformat(timespec="seconds")
    point = Checkpoint(head[0], head[1], at, "")
    point = Checkpoint(point.sequence, point.hash, at, audit_mac(point.signed()))
    path = settings.AUDIT_CHECKPOINTS
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(point.__dict__) + "\n")
    logger.info("audit checkpoint: event #%s, hash %s, mac %s", point.sequence, point.hash, point.mac)
    return point


def checkpoints() -> list[Checkpoint]:
    path = settings.AUDIT_CHECKPOINTS
    if not path.is_file():
        return []
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
            found.append(Checkpoint(int(row["sequence"]), str(row["hash"]), str(row["at"]), str(row["mac"])))
        except (ValueError, KeyError, TypeError):
            found.append(Checkpoint(0, "", "", ""))  # unreadable: reported as not MACed by the key
    return found


def _against_checkpoints(through: int | None) -> list[Problem]:
    """Each checkpoint the trail contradicts (an event at its sequence gone or with another hash),
    or that was not made with the key; after the last good one, events cannot be vouched for."""
    problems = []
    kept = checkpoints()
    hashes = dict(
        AuditEvent.objects.filter(sequence__in=[point.sequence for point in kept]).values_list(
            "sequence", "hash"
        )
    )
    for number, point in enumerate(kept, start=1):
        if through is not None and point.sequence > through and point.sequence in hashes:
            continue  # recorded after this verification began
        if not hmac.compare_digest(point.mac, audit_mac(point.signed())):
            detail = f"checkpoint {number} (event #{point.sequence}) is not MACed by the audit key: edited"
        elif point.sequence not in hashes:
            detail = f"event #{point.sequence}, checkpointed at {point.at}, is gone: the trail was cut"
        elif hashes[point.sequence] != point.hash:
            detail = f"event #{point.sequence} no longer has the hash checkpointed at {point.at}: rewritten"
        else:
            continue
        problems.append(Problem(point.sequence, "checkpoint", detail))
    return problems


def last_good_checkpoint() -> Checkpoint | None:
    """The last checkpoint before the first one the trail contradicts (or that the key did not
    make): the events after it are the ones that cannot be vouched for."""
    kept = checkpoints()
    hashes = dict(
        AuditEvent.objects.filter(sequence__in=[point.sequence for point in kept]).values_list(
            "sequence", "hash"
        )
    )
    good = None
    for point in kept:
        if (
            not hmac.compare_digest(point.mac, audit_mac(point.signed()))
            or hashes.get(point.sequence) != point.hash
        ):
            break
        good = point
    return good

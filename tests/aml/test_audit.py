import hashlib
import json
import threading
from datetime import UTC
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from aml.models import AuditEvent, AuditEventImmutable, Rule
from aml.services.audit import (
    GENESIS_HASH,
    audit_checkpoint,
    audit_event_hash,
    audit_mac,
    audit_record,
    audit_verify,
)
from aml.services.rules import rule_update
from assistant.core.errors import ApplicationError, FieldErrors

pytestmark = pytest.mark.django_db


def record(n: int) -> list[AuditEvent]:
    return [
        audit_record(actor="ana", action="alert.taken", subject=f"alert:{i}", payload={"risk": 0.5 + i / 100})
        for i in range(1, n + 1)
    ]


def sql(statement: str, params: list[object] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.fixture
def bypassed_trigger():
    """Tamper as someone who owns the table would: the test's transaction undoes it."""
    sql("ALTER TABLE aml_auditevent DISABLE TRIGGER aml_auditevent_append_only")


def kinds(problems) -> list[tuple[int, str]]:
    return [(p.sequence, p.kind) for p in problems]


def test_a_clean_chain_verifies_and_each_hash_covers_the_content_and_the_previous_hash():
    events = record(3)

    assert audit_verify() == []
    assert [e.sequence for e in events] == [1, 2, 3]
    assert events[0].previous_hash == GENESIS_HASH == "0" * 64
    assert [e.previous_hash for e in events[1:]] == [e.hash for e in events[:2]]
    stored = AuditEvent.objects.get(sequence=2)
    canonical = json.dumps(
        {
            "sequence": 2,
            "occurred_at": stored.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor": "ana",
            "action": "alert.taken",
            "subject": "alert:2",
            "payload": {"risk": 0.52},
            "previous_hash": events[0].hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    assert stored.hash == hashlib.sha256(canonical.encode()).hexdigest()


def test_a_payload_is_hashed_as_the_database_stores_it():
    audit_record(
        actor="jürgen",
        action="case.escalated",
        subject="case:7",
        payload={
            "amount": Decimal("9500.10"),
            "big": 1e20,
            "note": "Überweisung → 北京",
            "z": {"b": 1, "a": 2},
        },
    )

    assert audit_verify() == []
    assert AuditEvent.objects.get().payload["big"] == 100000000000000000000


def test_an_edited_payload_is_detected(bypassed_trigger):
    record(3)
    sql("UPDATE aml_auditevent SET payload = '{\"risk\": 0.01}' WHERE sequence = 2")

    problems = audit_verify()

    assert kinds(problems) == [(2, "altered")]
    assert "event #2 (alert.taken alert:2) does not match its hash" in problems[0].detail


def test_a_deleted_event_is_detected(bypassed_trigger):
    record(4)
    sql("DELETE FROM aml_auditevent WHERE sequence IN (2, 3)")

    problems = audit_verify()

    assert kinds(problems) == [(2, "missing")]
    assert problems[0].detail == "events #2 to #3 are missing: deleted from the trail"


def test_two_swapped_events_are_detected(bypassed_trigger):
    record(4)
    sql("UPDATE aml_auditevent SET sequence = 100 WHERE sequence = 2")
    sql("UPDATE aml_auditevent SET sequence = 2 WHERE sequence = 3")
    sql("UPDATE aml_auditevent SET sequence = 3 WHERE sequence = 100")

    assert kinds(audit_verify()) == [
        (2, "broken_link"),
        (2, "altered"),
        (3, "broken_link"),
        (3, "altered"),
        (4, "broken_link"),
    ]


def test_an_event_forged_with_a_made_up_hash_is_detected():
    events = record(2)
    forged = AuditEvent(
        sequence=3,
        occurred_at=events[-1].occurred_at,
        actor="ana",
        action="case.closed",
        subject="case:1",
        payload={},
        previous_hash=events[-1].hash,
        hash="f" * 64,
    )
    forged.save()

    assert kinds(audit_verify()) == [(3, "altered")]


def test_an_event_forged_onto_the_wrong_predecessor_is_detected():
    events = record(2)
    forged = AuditEvent(
        sequence=3,
        occurred_at=events[-1].occurred_at,
        actor="ana",
        action="case.closed",
        subject="case:1",
        payload={},
        previous_hash=events[0].hash,
    )
    forged.hash = audit_event_hash(forged)
    forged.save()

    problems = audit_verify()

    assert kinds(problems) == [(3, "broken_link"), (3, "forged")]
    assert problems[0].detail.startswith(f"event #3 links to {events[0].hash[:12]}…, but the event before it")


def test_verify_audit_reports_an_intact_trail_with_its_last_hash(capsys):
    last = record(3)[-1]

    call_command("verify_audit")

    assert capsys.readouterr().out == f"audit trail intact: 3 events, last hash {last.hash}\n"


def test_verify_audit_exits_non_zero_and_prints_each_problem(bypassed_trigger, capsys):
    record(3)
    sql("UPDATE aml_auditevent SET actor = 'someone else' WHERE sequence = 1")

    with pytest.raises(CommandError, match=r"audit trail broken: 1 problem\(s\) up to event #3") as raised:
        call_command("verify_audit")

    assert raised.value.returncode == 1
    assert capsys.readouterr().out.startswith("#1 altered: event #1 (alert.taken alert:1) does not match")


def test_an_event_cannot_be_changed_or_deleted_from_python():
    event = record(1)[0]
    event.payload = {"risk": 0.0}

    with pytest.raises(AuditEventImmutable, match="audit event #1 is append-only: it cannot be changed"):
        event.save()
    with pytest.raises(AuditEventImmutable, match="cannot be deleted"):
        event.delete()
    with pytest.raises(AuditEventImmutable, match="cannot be updated"):
        AuditEvent.objects.filter(sequence=1).update(actor="x")
    with pytest.raises(AuditEventImmutable, match="cannot be deleted"):
        AuditEvent.objects.all().delete()


@pytest.mark.parametrize(
    ("statement", "operation"),
    [
        ("UPDATE aml_auditevent SET actor = 'x' WHERE sequence = 1", "UPDATE"),
        ("DELETE FROM aml_auditevent", "DELETE"),
    ],
)
def test_the_database_refuses_raw_updates_and_deletes(statement, operation):
    record(1)

    with (
        pytest.raises(
            DatabaseError, match=f"aml_auditevent is append-only: {operation} of audit event #1 refused"
        ),
        transaction.atomic(),
    ):
        sql(statement)

    assert audit_verify() == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"actor": " "}, "needs an actor"),
        ({"action": "Alert Taken"}, "'Alert Taken' is not a dotted slug"),
        ({"action": "taken"}, "'taken' is not a dotted slug"),
        ({"subject": ""}, "needs a subject"),
    ],
)
def test_a_malformed_event_is_refused(fields, message):
    with pytest.raises(ApplicationError, match=message):
        audit_record(
            **{"actor": "ana", "action": "alert.taken", "subject": "alert:1", "payload": {}, **fields}
        )

    assert not AuditEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_recorders_never_share_a_sequence_or_fork_the_chain():
    threads, per_thread = 6, 5
    errors = []

    def append(worker: int) -> None:
        try:
            for i in range(per_thread):
                audit_record(actor=f"worker-{worker}", action="alert.taken", subject=f"alert:{i}", payload={})
        except Exception as error:  # noqa: BLE001 - reported by the test below
            errors.append(error)
        finally:
            connection.close()

    started = [threading.Thread(target=append, args=(w,)) for w in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join()

    assert errors == []
    assert list(AuditEvent.objects.values_list("sequence", flat=True)) == list(
        range(1, threads * per_thread + 1)
    )
    assert audit_verify() == []


# rule changes


def test_a_rule_change_records_the_old_and_new_settings(rules):
    structuring = rules["structuring"]
    old = dict(structuring.parameters)
    new = {**old, "threshold": 15000}

    rule_update(structuring, actor="compliance", enabled=True, parameters=new, weight=0.7)

    structuring.refresh_from_db()
    assert (structuring.parameters, structuring.weight) == (new, 0.7)
    event = AuditEvent.objects.get()
    assert (event.actor, event.action, event.subject) == ("compliance", "rule.changed", "rule:structuring")
    assert event.payload == {
        "reason_code": "R01",
        "old": {"enabled": True, "parameters": old, "weight": 1.0},
        "new": {"enabled": True, "parameters": new, "weight": 0.7},
    }


def test_saving_a_rule_unchanged_records_nothing(rules):
    velocity = rules["velocity"]

    rule_update(velocity, actor="compliance", enabled=True, parameters=dict(velocity.parameters))

    assert not AuditEvent.objects.exists()


def test_a_rule_change_with_invalid_parameters_is_refused_and_not_recorded(rules):
    with pytest.raises(FieldErrors, match="'share' must be a number above 0 and at most 1"):
        rule_update(
            rules["rapid_movement"],
            actor="compliance",
            enabled=True,
            parameters={"window_hours": 48, "share": 80, "min_amount": 5000},
        )

    assert Rule.objects.get(code="rapid_movement").parameters["share"] == 0.8
    assert not AuditEvent.objects.exists()


def test_a_rule_edited_in_the_admin_is_audited_under_the_editors_name(rules, admin_client):
    rule = rules["round_amount"]
    url = reverse("admin:aml_rule_change", args=[rule.pk])

    refused = admin_client.post(url, {"enabled": "on", "parameters": '{"min_amount": 5000}', "weight": "0.3"})
    saved = admin_client.post(
        url, {"enabled": "on", "parameters": '{"min_amount": 5000, "multiple": 500}', "weight": "0.3"}
    )

    assert refused.status_code == 200
    assert "&#x27;multiple&#x27; is missing" in refused.content.decode()
    assert saved.status_code == 302
    event = AuditEvent.objects.get()
    assert (event.actor, event.subject) == ("admin", "rule:round_amount")
    assert event.payload["new"]["parameters"] == {"min_amount": 5000, "multiple": 500}


def test_audit_events_are_read_only_in_the_admin(admin_client):
    event = record(1)[0]

    assert admin_client.get(reverse("admin:aml_auditevent_add")).status_code == 403
    assert (
        admin_client.post(
            reverse("admin:aml_auditevent_delete", args=[event.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    page = admin_client.get(reverse("admin:aml_auditevent_change", args=[event.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()


def rechained(start: int) -> None:
    """What the database's owner can do: rewrite events from `start` on with a consistent SHA-256
    chain, without the application's key."""
    events = list(AuditEvent.objects.filter(sequence__gte=start - 1).order_by("sequence"))
    previous = events[0].hash if start > 1 else GENESIS_HASH
    for event in events[1:] if start > 1 else events:
        event.payload = {"risk": 0.01}
        event.previous_hash = previous
        event.hash = previous = audit_event_hash(event)
        sql(
            "UPDATE aml_auditevent SET payload = %s, previous_hash = %s, hash = %s WHERE sequence = %s",
            [json.dumps(event.payload), event.previous_hash, event.hash, event.sequence],
        )


def test_a_chain_rewritten_consistently_by_the_databases_owner_is_caught_by_the_macs(bypassed_trigger):
    record(4)
    assert all(event.mac == audit_mac(event.hash) for event in AuditEvent.objects.all())

    rechained(3)

    assert kinds(audit_verify()) == [(3, "forged"), (4, "forged")]


def test_checkpoints_catch_a_cut_trail_and_name_where_to_look(bypassed_trigger, capsys):
    record(2)
    first = audit_checkpoint()
    record(2)
    audit_checkpoint()
    assert audit_checkpoint() is None  # nothing new since

    sql("DELETE FROM aml_auditevent WHERE sequence > 2")  # the tail wiped, MACs and all

    problems = audit_verify()
    assert kinds(problems) == [(4, "checkpoint")]
    assert "the trail was cut" in problems[0].detail
    with pytest.raises(CommandError):
        call_command("verify_audit")
    assert f"last good checkpoint: event #2 at {first.at}; events from #3 on cannot be vouched for" in (
        capsys.readouterr().out
    )


def test_a_checkpoint_edited_without_the_key_is_reported(audit_checkpoints):
    record(2)
    audit_checkpoint()
    line = json.loads(audit_checkpoints.read_text())
    audit_checkpoints.write_text(json.dumps({**line, "hash": "0" * 64}) + "\n")

    problems = audit_verify()

    assert kinds(problems) == [(2, "checkpoint")]
    assert "not MACed by the audit key" in problems[0].detail


def test_verify_audit_says_how_many_checkpoints_agree(capsys):
    record(3)
    audit_checkpoint()

    call_command("verify_audit")

    assert capsys.readouterr().out.endswith(", 1 checkpoint(s) agree\n")

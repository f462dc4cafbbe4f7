"""Screening with rules and the typology model: calibrated risk, alerts, and the explanation."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from aml.models import Alert, AuditEvent, RiskCalibration, Rule, Screening, ScreeningBatch
from aml.services.rules import rule_update
from aml.services.screening import (
    Setup,
    batch_screen,
    batches_requeue_stale,
    document_screen,
    passages_of_text,
    transactions_screen,
    typology_prepare,
)
from aml.tasks import calibrate_task
from aml.typology import TYPOLOGY_LABELS
from assistant.integrations.models import System, WebhookDelivery, WebhookEndpoint
from assistant.integrations.webhooks import secret_new
from assistant.training.inference import ModelNotReady, NoActiveModel

pytestmark = pytest.mark.django_db

ELDER = "URGENT wire to grandson held in jail abroad, caller said keep it secret from family"


def structured(book, narrative: str = "cash deposit") -> list:
    deposits = [book("9400.00", ago=timedelta(days=days), channel="cash", country="") for days in (5, 3, 1)]
    last = book("9800.00", channel="cash", country="")
    last.narrative = narrative
    last.save(update_fields=["narrative"])
    return [*deposits, last]


def test_structured_cash_raises_an_alert_with_the_rule_its_evidence_and_the_risk_parts(book, typology_model):
    typology_model()
    transactions = structured(book)

    screening = transactions_screen([transactions[-1]])[0]

    assert screening.risk >= 0.5
    assert Alert.objects.filter(screening=screening).exists()
    (hit,) = [h for h in screening.rule_hits if h["reason_code"] == "R01"]
    assert set(hit["evidence"]) == {t.pk for t in transactions}
    features = {c["feature"] for c in screening.explanation["risk"]["contributions"]}
    assert "rules" in features
    assert screening.typology in TYPOLOGY_LABELS
    event = AuditEvent.objects.get(action="alert.raised")
    assert event.subject == f"alert:{screening.alert.pk}"
    assert "R01" in event.payload["rules"]


def test_an_ordinary_payment_scores_low_and_raises_nothing(book, typology_model):
    typology_model()
    payment = book("84.20", direction="out", channel="card")
    payment.narrative = "grocery shopping card payment"
    payment.save(update_fields=["narrative"])

    screening = transactions_screen([payment])[0]

    assert screening.risk < 0.5
    assert not Alert.objects.exists()
    assert screening.rule_hits == []


def test_the_phrases_that_drove_the_reading_are_offsets_into_the_narrative(book, typology_model):
    typology_model()
    payment = book("3000.00", direction="out")
    payment.narrative = ELDER
    payment.save(update_fields=["narrative"])

    screening = transactions_screen([payment], phrases="all")[0]

    phrases = screening.explanation["phrases"]
    assert phrases
    for phrase in phrases:
        assert ELDER[phrase["start"] : phrase["end"]] == phrase["text"]
        assert phrase["weight"] > 0
    assert screening.explanation["typology"]["alternatives"]


def test_a_batch_sees_each_customers_history_including_earlier_transactions_of_the_batch(
    book, typology_model
):
    typology_model()
    transactions = structured(book)

    screenings = transactions_screen(transactions)

    reason_codes = [[h["reason_code"] for h in s.rule_hits] for s in screenings]
    assert "R01" not in reason_codes[0]  # one deposit just under the threshold is not structuring
    assert "R01" in reason_codes[2]  # the third within the week is
    assert "R01" in reason_codes[3]
    assert Screening.objects.count() == 4


def test_a_document_is_read_passage_by_passage_and_its_most_suspicious_passage_explains_it(
    account, typology_model
):
    typology_model()
    text = (
        "Account review for the annual file. The customer runs a bakery and banks its takings weekly.\n"
        "Last month she asked us to wire her savings to a man she met online who needs money for "
        "customs fees before he can visit; she was told to keep it secret from her family.\n"
    )

    screening = document_screen(customer=account.customer, name="review.txt", text=text)

    passage = screening.explanation["passage"]
    assert 0 <= passage["start"] < passage["end"] <= len(text)
    for phrase in screening.explanation["phrases"]:
        assert text[phrase["start"] : phrase["end"]] == phrase["text"]
        assert passage["start"] <= phrase["start"] < phrase["end"] <= passage["end"]
    assert screening.subject_kind == Screening.SubjectKind.DOCUMENT


def test_passages_keep_whole_sentences_within_the_passage_length():
    text = "First sentence here. " * 40

    spans = passages_of_text(text)

    assert spans[0][0] == 0
    assert all(text[start:end].strip().endswith(".") for start, end in spans)
    assert all(end - start <= 500 for start, end in spans)


def test_changing_a_rule_in_the_admin_refits_the_combination_for_the_new_settings(
    book, typology_model, rules, django_capture_on_commit_callbacks
):
    version = typology_model()
    payment = book("12000.00")
    transactions_screen([payment])
    assert RiskCalibration.objects.filter(model_version=version).count() == 1

    with django_capture_on_commit_callbacks() as queued:
        rule_update(
            rules["round_amount"],
            actor="compliance",
            enabled=True,
            parameters=rules["round_amount"].parameters,
            weight=2.0,
        )
    assert len(queued) == 1  # the refit, sent to a worker once the change commits

    with pytest.raises(ModelNotReady, match="for the rules as set now is not fitted yet"):
        transactions_screen([book("13000.00", ago=timedelta(hours=1))])  # no request fits it
    assert calibrate_task.run().startswith("calibration ")  # the worker's part
    transactions_screen([book("14000.00", ago=timedelta(hours=2))])

    calibrations = RiskCalibration.objects.filter(model_version=version)
    assert calibrations.count() == 2
    metrics = calibrations.order_by("-pk").first().metrics
    assert metrics["roc_auc"] > 0.5
    assert {"roc_auc_rules_only", "roc_auc_text_only", "brier", "ece"} <= set(metrics)


def test_without_an_active_typology_model_screening_refuses_with_409(book, rules):
    with pytest.raises(NoActiveModel) as refused:
        transactions_screen([book("100.00")])

    assert refused.value.status == 409
    assert not Screening.objects.exists()
    assert Rule.objects.exists()


def test_a_rule_edit_queues_the_refit_so_no_screening_request_waits_for_it(
    typology_model, rules, django_capture_on_commit_callbacks, test_queue, broker
):
    version = typology_model()

    with django_capture_on_commit_callbacks(execute=True):
        rule_update(
            rules["velocity"], actor="compliance", enabled=False, parameters=rules["velocity"].parameters
        )

    queued = [json.loads(message)["headers"]["task"] for message in broker.lrange(test_queue, 0, -1)]
    assert queued == ["aml.calibrate"]
    assert calibrate_task.run().startswith("calibration ")
    assert (
        RiskCalibration.objects.filter(model_version=version).count() == 2
    )  # the shipped rules', then the new


def test_transactions_that_came_in_while_no_model_was_active_are_screened_when_one_is(book, typology_model):
    waiting = structured(book)
    assert not Screening.objects.exists()

    typology_prepare(typology_model())

    assert set(Screening.objects.values_list("transaction_id", flat=True)) == {t.pk for t in waiting}


def test_a_batch_whose_worker_died_is_resumed_by_the_sweep_and_screens_each_transaction_once(
    book, typology_model, settings, monkeypatch
):
    typology_model()
    transactions = structured(book)
    batch = ScreeningBatch.objects.create(system=System.objects.create(name="core"), total=4)
    batch.transactions.set(transactions)
    # A worker screened the first chunk, then died: the batch is left processing, going nowhere.
    transactions_screen(transactions[:2], batch=batch)
    old = timezone.now() - timedelta(seconds=settings.AML_BATCH_REQUEUE_AFTER_S + 1)
    ScreeningBatch.objects.filter(pk=batch.pk).update(
        status=ScreeningBatch.Status.PROCESSING, progressed_at=old, created_at=old
    )
    fresh = ScreeningBatch.objects.create(system=batch.system, total=0)  # just queued: not stale yet
    sent: list[int] = []
    monkeypatch.setattr("aml.services.screening.batch_screen_later", sent.append)

    assert batches_requeue_stale() == 1
    assert sent == [batch.pk]
    assert fresh.pk not in sent
    resumed = batch_screen(batch.pk)

    assert resumed.status == ScreeningBatch.Status.COMPLETE
    assert resumed.screened == 4
    assert sorted(Screening.objects.filter(batch=batch).values_list("transaction_id", flat=True)) == sorted(
        t.pk for t in transactions
    )
    assert batches_requeue_stale() == 0


def test_a_batch_another_worker_is_moving_is_left_to_it(book, typology_model, settings):
    typology_model()
    transactions = structured(book)
    batch = ScreeningBatch.objects.create(system=System.objects.create(name="core"), total=4)
    batch.transactions.set(transactions)
    ScreeningBatch.objects.filter(pk=batch.pk).update(
        status=ScreeningBatch.Status.PROCESSING, progressed_at=timezone.now()
    )

    assert batch_screen(batch.pk).status == ScreeningBatch.Status.PROCESSING
    assert not Screening.objects.exists()


def test_a_worker_taken_for_dead_that_goes_on_screens_nothing_twice_nor_says_twice_it_finished(
    book, typology_model, settings, monkeypatch
):
    typology_model()
    transactions = structured(book)
    system = System.objects.create(name="core")
    WebhookEndpoint.objects.create(system=system, url="http://127.0.0.1:9/hooks", secret=secret_new())
    batch = ScreeningBatch.objects.create(system=system, total=4)
    batch.transactions.set(transactions)
    settings.AML_BATCH_REQUEUE_AFTER_S = 0  # the sweep takes a worker between two chunks for dead
    setup = Setup.now

    def resumed_meanwhile() -> Setup:
        monkeypatch.setattr(Setup, "now", setup)
        batch_screen(batch.pk)  # by the worker the sweep sent, while the slow one has its list
        return setup()

    monkeypatch.setattr(Setup, "now", resumed_meanwhile)
    alerts = Alert.objects.filter(screening__batch=batch)

    finished = batch_screen(batch.pk)  # by the slow one, which goes on with that list

    assert (finished.status, finished.screened) == (ScreeningBatch.Status.COMPLETE, 4)
    assert Screening.objects.filter(batch=batch).count() == 4
    assert alerts.count() >= 1
    raised = AuditEvent.objects.filter(action="alert.raised").values_list("subject", flat=True)
    assert sorted(raised) == sorted(f"alert:{pk}" for pk in alerts.values_list("pk", flat=True))
    assert WebhookDelivery.objects.filter(event_type="aml.batch.completed").count() == 1

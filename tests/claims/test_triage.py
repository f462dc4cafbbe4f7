"""Triage: the policy check, the fraud score and its reasons, routing, decisions as training labels."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from assistant.core.errors import NotFound
from assistant.integrations.models import WebhookDelivery, WebhookEndpoint
from assistant.integrations.webhooks import secret_new
from assistant.training.inference import Prediction
from claims import fraud
from claims.demo import synthetic_claim_input, synthetic_policies_store
from claims.learning import ROUTE, route_examples
from claims.models import Claim, Decision, FraudCalibration, Policy, Route
from claims.policy import policy_check
from claims.selectors import misclassification_report
from claims.services.decisions import decision_accept, decision_override
from claims.services.submission import claims_submit
from claims.services.triage import claim_triage, route_decide
from claims.synthetic import generate
from claims.tasks import triage_task

FIRE, SCRATCH = "A fire scorched the hob.", "Someone scratched the car."
HOME_POLICY = Policy(
    number="HOME-1",
    effective_from=date(2026, 3, 1),
    effective_to=date(2027, 2, 28),
    covered_perils=["fire", "storm", "burst pipe"],
    exclusions=["flood", "gradual leaks"],
    limit=Decimal("10000.00"),
    deductible=Decimal("500.00"),
    currency="USD",
)


def checked(
    description: str, *, loss: date = date(2026, 6, 1), amount: str = "2000.00", currency: str = "USD"
):
    return policy_check(
        policy=HOME_POLICY, loss_date=loss, amount=Decimal(amount), currency=currency, description=description
    )


def test_a_covered_peril_within_the_period_passes_with_its_evidence():
    result = checked("A burst pipe in the kitchen soaked the floor.")

    assert result.passed
    assert result.payable == Decimal("1500.00")
    covered = next(f for f in result.findings if f.name == "peril covered")
    assert [(e.text, e.start) for e in covered.evidence] == [("burst pipe", 2)]


@pytest.mark.parametrize(
    ("description", "options", "failed", "payable"),
    [
        ("A storm took the roof off.", {"loss": date(2026, 2, 27)}, "active", "0.00"),
        ("After the storm the river flooded the basement.", {}, "not excluded", "0.00"),
        (SCRATCH, {}, "peril covered", "0.00"),
        ("A fire gutted the living room.", {"amount": "25000.00"}, "within limit", "10000.00"),
        (FIRE, {"amount": "300.00"}, "above deductible", "0.00"),
        (FIRE, {"currency": "EUR"}, "currency", "0.00"),
    ],
)
def test_each_policy_check_fails_where_it_should(description, options, failed, payable):
    result = checked(description, **options)

    assert not result.passed
    assert [f.name for f in result.findings if not f.passed] == [failed]
    assert result.payable == Decimal(payable)


def facts(**overrides) -> fraud.ClaimFacts:
    base = fraud.ClaimFacts(
        loss_date=date(2026, 5, 1),
        reported_date=date(2026, 5, 3),
        amount=Decimal("1000"),
        policy_from=date(2025, 1, 1),
        policy_limit=Decimal("10000"),
        prior_claims=0,
        stated_dates=(date(2026, 5, 1),),
    )
    return dataclasses.replace(base, **overrides)


@pytest.mark.parametrize(
    ("code", "overrides"),
    [
        ("late_reporting", {"reported_date": date(2026, 6, 15)}),
        ("new_policy", {"policy_from": date(2026, 4, 25)}),
        ("near_limit", {"amount": Decimal("9500")}),
        ("repeated_claims", {"prior_claims": 2}),
        ("inconsistent_dates", {"stated_dates": (date(2026, 4, 20),)}),
    ],
)
def test_each_red_flag_fires_only_on_its_evidence(code, overrides):
    def fired(f):
        return {s.code for s in fraud.signals_of(f) if s.fired}

    assert fired(facts()) == set()
    assert fired(facts(**overrides)) == {code}


def test_the_score_lists_the_reasons_that_raised_it_largest_first():
    weights = fraud.Weights(-3.0, {**dict.fromkeys(fraud.CODES, 1.0), "new_policy": 2.0, fraud.TEXT: 0.5})
    signals = fraud.signals_of(facts(policy_from=date(2026, 4, 25), reported_date=date(2026, 6, 15)))

    score = fraud.fraud_score(weights, signals, suspicious_probability=0.9)

    assert [r["code"] for r in score.reasons] == ["new_policy", "text", "late_reporting"]
    assert score.reasons[0]["detail"] == "the loss came 6 days after the policy began"
    assert 0.5 < score.score < 1


def _submitted(system, generated_claims, policies) -> list[Claim]:
    synthetic_policies_store(policies)
    items = [synthetic_claim_input(c) for c in generated_claims]
    return claims_submit(system=system, items=items, batch=True)


@pytest.mark.django_db
def test_suspicious_generated_claims_score_higher_and_go_to_investigation(claims_models, claims_system):
    claims_models()
    policies, generated = generate(120, seed=99)
    stored = _submitted(claims_system[0], generated, policies)

    triaged = [claim_triage(claim.pk) for claim in stored]

    calibration = FraudCalibration.objects.get()
    assert calibration.metrics["roc_auc_combined"] >= calibration.metrics["roc_auc_signals_only"]
    scores = {c.external_id: c.triage.fraud_score for c in triaged}
    suspicious = [scores[c.external_id] for c in generated if c.suspicious]
    ordinary = [scores[c.external_id] for c in generated if not c.suspicious]
    assert sum(suspicious) / len(suspicious) > 2 * sum(ordinary) / len(ordinary)
    for claim in triaged:
        assert claim.status == Claim.Status.COMPLETE
        if claim.triage.fraud_score >= 0.5:
            assert claim.triage.route == Route.SPECIAL_INVESTIGATION
            assert claim.triage.fraud_reasons


@pytest.mark.django_db
def test_triage_twice_changes_nothing(claims_models, claims_system):
    claims_models()
    policies, generated = generate(1, seed=5)
    claim = _submitted(claims_system[0], generated, policies)[0]

    first = claim_triage(claim.pk)
    again = claim_triage(claim.pk)

    assert again.triage.pk == first.triage.pk
    assert again.attempts == 1


def prediction(label: str, confidence: float = 0.9, *, abstained: bool = False) -> Prediction:
    return Prediction(label, confidence, abstained, model_version=1, alternatives=((label, confidence),))


@pytest.mark.parametrize(
    ("route", "score", "check", "line", "expected", "reason"),
    [
        (prediction("fast_track"), 0.1, FIRE, None, "fast_track", None),
        (
            prediction("fast_track"),
            0.7,
            FIRE,
            None,
            "special_investigation",
            "fraud-risk",
        ),
        (prediction("specialist"), 0.2, FIRE, None, "specialist", None),
        (
            prediction("fast_track"),
            0.1,
            SCRATCH,
            None,
            "standard",
            "policy check failed",
        ),
        (
            prediction("fast_track", 0.4, abstained=True),
            0.1,
            FIRE,
            None,
            "standard",
            "unsure",
        ),
        (
            prediction("fast_track"),
            0.1,
            FIRE,
            prediction("life"),
            "standard",
            "reads as",
        ),
        (None, 0.1, FIRE, None, "standard", "no route model"),
    ],
)
def test_the_route_is_the_models_raised_where_the_evidence_says(route, score, check, line, expected, reason):
    policy = Policy(number="HOME-1", line_of_business="home")
    claim = Claim(policy=policy)

    chosen, reasons = route_decide(claim, route, fraud.FraudScore(score, []), checked(check), line)

    assert chosen == expected
    assert (reason is None and not reasons) or (reason is not None and reason in reasons[0])


@pytest.mark.django_db
def test_an_override_is_recorded_sent_and_becomes_a_training_label(
    claims_models, claims_system, django_user_model
):
    claims_models()
    WebhookEndpoint.objects.create(
        system=claims_system[0], url="http://127.0.0.1:9/hook", secret=secret_new()
    )
    policies, generated = generate(1, seed=5)
    claim = claim_triage(_submitted(claims_system[0], generated, policies)[0].pk)
    adjuster = django_user_model.objects.create_user("cal")
    other_route = next(r for r in Route.values if r != claim.triage.route)

    decision = decision_override(
        claim=claim, adjuster=adjuster, line_of_business=claim.triage.line_of_business or "auto",
        route=other_route, fraud_suspected=False, note="the photos show a write-off",
    )  # fmt: skip

    assert "route" in decision.overridden
    assert list(WebhookDelivery.objects.values_list("event_type", flat=True).order_by("created_at")) == [
        "claim.triaged",
        "claim.decided",
    ]
    assert route_examples()[-1] == (claim.description, other_route)
    report = {g["task"]: g for g in misclassification_report()}
    assert report[ROUTE]["decided"] == 1
    assert report[ROUTE]["wrong"][0]["decided"] == other_route


@pytest.mark.django_db
def test_a_claim_still_in_triage_cannot_be_decided(policies, claims_system, django_user_model):
    policies_, generated = generate(1, seed=5)
    claim = _submitted(claims_system[0], generated, policies_)[0]

    with pytest.raises(Exception, match="can be decided once triaged"):
        decision_accept(claim=claim, adjuster=django_user_model.objects.create_user("cal"))
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_a_claim_deleted_before_its_triage_is_reported_missing_not_failed():
    with pytest.raises(NotFound):
        claim_triage(987654)
    assert triage_task.run(987654) == "missing"


def _triage_insert_fails(sqlstate: str, *, times: int | None) -> None:
    """The server refuses to store a triage (`times` times, or always) with an error of `sqlstate`."""
    refuse = "true" if times is None else f"nextval('pg_temp.triage_attempts') <= {times}"
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY SEQUENCE triage_attempts")
        cursor.execute(
            "CREATE FUNCTION pg_temp.refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF {refuse} THEN RAISE EXCEPTION 'the server went away' USING ERRCODE = '{sqlstate}'; "
            "END IF; RETURN NEW; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON claims_triage "
            "FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse()"
        )


@pytest.fixture
def failures_caught():
    """Run tasks in-process as a worker does: a failure is the task's outcome, not raised here."""
    conf = triage_task.app.conf
    propagates = conf.task_eager_propagates
    conf.task_eager_propagates = False
    yield
    conf.task_eager_propagates = propagates


def _one_claim(system) -> Claim:
    policies, generated = generate(1, seed=5)
    return _submitted(system, generated, policies)[0]


def test_a_database_that_goes_away_for_a_moment_is_retried(claims_models, claims_system, failures_caught):
    claims_models()
    claim = _one_claim(claims_system[0])
    _triage_insert_fails("08006", times=2)  # connection_failure: transient

    outcome = triage_task.apply((claim.pk,))

    assert outcome.successful()
    claim.refresh_from_db()
    assert (claim.status, claim.attempts) == (Claim.Status.COMPLETE, 3)


def test_a_triage_that_fails_for_good_marks_the_claim_failed_with_the_reason(
    claims_models, claims_system, failures_caught
):
    claims_models()
    claim = _one_claim(claims_system[0])
    _triage_insert_fails("P0001", times=None)  # raise_exception: not worth another try

    outcome = triage_task.apply((claim.pk,))

    assert outcome.failed()
    claim.refresh_from_db()
    assert (claim.status, claim.attempts) == (Claim.Status.ERROR, 1)
    assert "the server went away" in claim.error


def test_triage_never_fits_the_fraud_combination_it_waits_for_a_worker_to(claims_models, claims_system):
    from assistant.training.inference import ModelNotReady
    from assistant.training.services import version_prepare
    from claims.learning import FRAUD

    versions = claims_models()
    FraudCalibration.objects.all().delete()  # activated, its combination not fitted yet
    claim = _one_claim(claims_system[0])

    with pytest.raises(ModelNotReady):
        claim_triage(claim.pk)

    claim.refresh_from_db()
    assert not FraudCalibration.objects.exists()
    assert claim.status == Claim.Status.QUEUED  # waiting, with the reason, while its task retries
    assert f"the fraud combination of claims-fraud version {versions[FRAUD].pk} is not fitted" in claim.error
    assert ModelNotReady in triage_task.autoretry_for

    assert version_prepare(versions[FRAUD].pk) == "prepared"  # what the inference worker does
    claim = claim_triage(claim.pk)
    assert (claim.status, claim.error) == (Claim.Status.COMPLETE, "")
    assert claim.triage.fraud_score is not None

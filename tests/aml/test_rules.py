import logging
from datetime import timedelta

import pytest

from aml import demo
from aml.models import Account, Channel, Direction, Rule, Transaction
from aml.rules import RuleHit, RuleMisconfigured, rule_parameters_errors, rules_evaluate
from aml.services.rules import rule_update
from assistant.core.errors import ApplicationError
from tests.aml.conftest import NOW, account_open

pytestmark = pytest.mark.django_db

CASH, OUT = Channel.CASH, Direction.OUT


def days(n: float) -> timedelta:
    return timedelta(days=n)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def hit(transaction: Transaction, code: str) -> RuleHit | None:
    return next((h for h in rules_evaluate(transaction) if h.code == code), None)


def ids(*transactions: Transaction) -> tuple[int, ...]:
    return tuple(t.pk for t in transactions)


# structuring (R01): threshold 10,000, margin 0.1, at least 3 within 7 days


def test_structuring_fires_on_the_third_cash_deposit_just_under_the_threshold_in_a_week(rules, book):
    first = book("9500.00", ago=days(6), channel=CASH)
    second = book("9999.99", ago=days(3), channel=CASH)
    third = book("9000.00", channel=CASH)

    found = hit(third, "structuring")

    assert found is not None
    assert found.reason_code == "R01"
    assert found.evidence == ids(first, second, third)
    assert found.detail == (
        "3 cash deposits within 7 days, each between 9,000.00 EUR and just under the 10,000.00 EUR "
        "reporting threshold: 28,499.99 EUR in all"
    )


def test_structuring_does_not_fire_on_the_second_deposit(rules, book):
    book("9500.00", ago=days(1), channel=CASH)

    assert hit(book("9500.00", channel=CASH), "structuring") is None


@pytest.mark.parametrize("amount", ["10000.00", "8999.99"])
def test_structuring_ignores_deposits_at_the_threshold_or_below_the_margin(rules, book, amount):
    book("9500.00", ago=days(2), channel=CASH)
    book(amount, ago=days(1), channel=CASH)

    assert hit(book("9500.00", channel=CASH), "structuring") is None
    assert hit(book(amount, channel=CASH), "structuring") is None


@pytest.mark.parametrize(("first_ago", "fires"), [(days(7), True), (days(7) + timedelta(seconds=1), False)])
def test_structuring_counts_deposits_up_to_exactly_the_window(rules, book, first_ago, fires):
    book("9500.00", ago=first_ago, channel=CASH)
    book("9500.00", ago=days(1), channel=CASH)

    assert (hit(book("9500.00", channel=CASH), "structuring") is not None) is fires


def test_structuring_counts_only_cash_coming_in(rules, book):
    book("9500.00", ago=days(2), channel=Channel.WIRE)
    book("9500.00", ago=days(1), channel=CASH, direction=OUT)

    assert hit(book("9500.00", channel=CASH), "structuring") is None


def test_structuring_counts_deposits_on_all_the_customers_accounts_and_no_one_elses(rules, book, account):
    savings = Account.objects.create(
        customer=account.customer, number="ACC-T1-SAV", currency="EUR", opened_on=NOW.date(), kind="savings"
    )
    on_savings = book("9500.00", ago=days(2), channel=CASH, on=savings)
    on_current = book("9500.00", ago=days(1), channel=CASH)
    book("9500.00", ago=hours(12), channel=CASH, on=account_open("CUS-T2", "ACC-T2"))
    latest = book("9500.00", channel=CASH)

    found = hit(latest, "structuring")

    assert found is not None
    assert found.evidence == ids(on_savings, on_current, latest)


# rapid movement (R02): out within 48 hours, at least 80 % of at least 5,000 that came in


def test_rapid_movement_fires_when_most_of_what_came_in_goes_straight_out(rules, book):
    first = book("6000.00", ago=hours(30))
    second = book("4000.00", ago=hours(10))
    out = book("8000.00", direction=OUT)

    found = hit(out, "rapid_movement")

    assert found is not None
    assert found.reason_code == "R02"
    assert found.evidence == ids(first, second, out)
    assert found.detail == (
        "8,000.00 EUR went out within 48 hours of 10,000.00 EUR coming in (2 incoming): "
        "80% of it passed straight through"
    )


def test_rapid_movement_does_not_fire_below_the_share(rules, book):
    book("10000.00", ago=hours(10))

    assert hit(book("7999.99", direction=OUT), "rapid_movement") is None


def test_rapid_movement_ignores_money_that_came_in_before_the_window(rules, book):
    book("6000.00", ago=hours(48) + timedelta(minutes=1))
    book("4000.00", ago=hours(10))

    assert hit(book("3900.00", direction=OUT), "rapid_movement") is None


def test_rapid_movement_does_not_fire_when_too_little_came_in(rules, book):
    book("4999.99", ago=hours(2))

    assert hit(book("4999.99", direction=OUT), "rapid_movement") is None


def test_rapid_movement_does_not_fire_on_money_coming_in(rules, book):
    book("9000.00", ago=hours(2))

    assert hit(book("9000.00"), "rapid_movement") is None


# high-risk jurisdiction (R03)


def test_high_risk_jurisdiction_fires_on_a_listed_counterparty_country(rules, book):
    payment = book("1200.00", direction=OUT, country="IR")

    found = hit(payment, "high_risk_jurisdiction")

    assert found == RuleHit(
        "high_risk_jurisdiction",
        "R03",
        "outgoing 1,200.00 EUR with Counterparty GmbH, in IR: a jurisdiction on the high-risk list",
        ids(payment),
    )


@pytest.mark.parametrize("country", ["GB", ""])
def test_high_risk_jurisdiction_does_not_fire_elsewhere_or_when_the_country_is_unknown(rules, book, country):
    assert hit(book("1200.00", country=country), "high_risk_jurisdiction") is None


# round amount (R04): at least 5,000, a multiple of 1,000


@pytest.mark.parametrize("amount", ["5000.00", "25000.00"])
def test_round_amount_fires_on_large_multiples_of_a_thousand(rules, book, amount):
    transaction = book(amount)

    found = hit(transaction, "round_amount")

    assert found is not None
    assert found.evidence == ids(transaction)


@pytest.mark.parametrize("amount", ["4000.00", "5500.00", "5000.01"])
def test_round_amount_does_not_fire_below_the_minimum_or_off_the_multiple(rules, book, amount):
    assert hit(book(amount), "round_amount") is None


# velocity (R05): in 24 hours at least 5 and 3 times the daily average of the 30 days before


def book_daily(book, per_day: int) -> None:
    """Book `per_day` card payments a day from 30.5 to 1.5 days ago: all in the baseline."""
    for day in range(1, 31):
        for _ in range(per_day):
            book("20.00", ago=days(day) + hours(12), channel=Channel.CARD, direction=OUT)


def test_velocity_fires_on_a_burst_against_the_usual_pace(rules, book):
    book_daily(book, per_day=1)
    burst = [book("20.00", ago=hours(h), channel=Channel.CARD, direction=OUT) for h in (20, 15, 9, 3)]
    latest = book("20.00", channel=Channel.CARD, direction=OUT)

    found = hit(latest, "velocity")

    assert found is not None
    assert found.evidence == ids(*burst, latest)
    assert found.detail == (
        "5 transactions in the last 24 hours, 5.0 times the usual 1.0 (the average over the previous 30 days)"
    )


def test_velocity_does_not_fire_under_the_minimum_count(rules, book):
    book_daily(book, per_day=1)
    for h in (20, 15, 9):
        book("20.00", ago=hours(h))

    assert hit(book("20.00"), "velocity") is None


def test_velocity_does_not_fire_under_the_factor(rules, book):
    book_daily(book, per_day=2)
    for h in (20, 15, 9, 3):
        book("20.00", ago=hours(h))

    assert hit(book("20.00"), "velocity") is None


def test_velocity_does_not_fire_without_baseline_history(rules, book):
    for h in range(1, 12):
        book("20.00", ago=hours(h))

    assert hit(book("20.00"), "velocity") is None


# all rules


def test_a_disabled_rule_never_fires(rules, book):
    payment = book("1200.00", direction=OUT, country="IR")
    high_risk = rules["high_risk_jurisdiction"]
    rule_update(high_risk, actor="tester", enabled=False, parameters=high_risk.parameters)

    assert hit(payment, "high_risk_jurisdiction") is None
    assert rules_evaluate(payment, rules=[high_risk]) == []


def test_an_edited_threshold_applies_on_the_next_evaluation(rules, book):
    book("9500.00", ago=days(2), channel=CASH)
    book("9500.00", ago=days(1), channel=CASH)
    latest = book("9500.00", channel=CASH)
    assert hit(latest, "structuring") is not None

    structuring = rules["structuring"]
    rule_update(
        structuring, actor="tester", enabled=True, parameters={**structuring.parameters, "min_count": 4}
    )

    assert hit(latest, "structuring") is None


def test_evaluation_reads_the_rules_and_the_history_in_one_query_each(rules, book, django_assert_num_queries):
    transaction = book("9500.00", channel=CASH)

    with django_assert_num_queries(2):
        rules_evaluate(transaction)


def test_a_rule_without_a_function_is_ignored_with_a_warning(rules, book, caplog):
    Rule.objects.create(code="sanctions_list", name="Sanctions", description="-", reason_code="R99")
    payment = book("1200.00", direction=OUT, country="IR")

    with caplog.at_level(logging.WARNING, logger="finassist.aml"):
        hits = rules_evaluate(payment)

    assert [h.code for h in hits] == ["high_risk_jurisdiction"]
    assert "rule sanctions_list (R99) has no function in aml.rules: ignored" in caplog.messages


def test_a_rule_with_broken_parameters_stops_the_evaluation(rules, book):
    Rule.objects.filter(code="round_amount").update(parameters={"min_amount": 5000})

    with pytest.raises(RuleMisconfigured, match=r"rule round_amount \(R04\): 'multiple' is missing"):
        rules_evaluate(book("5000.00"))


def test_parameter_errors_name_each_missing_unknown_or_invalid_threshold():
    errors = rule_parameters_errors(
        "structuring", {"threshold": -1, "margin": 1.5, "min_count": 2.5, "window": 7}
    )

    assert errors == [
        "'window_days' is missing",
        "'window' is not a parameter of this rule (threshold, margin, min_count, window_days)",
        "'threshold' must be a number above 0",
        "'margin' must be a number above 0 and at most 1",
        "'min_count' must be a whole number of at least 1",
    ]
    assert rule_parameters_errors("high_risk_jurisdiction", {"countries": ["ir"]}) == [
        '\'countries\' must be a list of ISO 3166-1 alpha-2 codes, e.g. ["KP", "IR"]'
    ]
    assert rule_parameters_errors("nonsense", {}) == [
        "no rule function is registered for the code 'nonsense'"
    ]


def test_an_unsaved_transaction_is_refused(rules, account):
    with pytest.raises(ApplicationError, match="only a stored transaction can be screened"):
        rules_evaluate(Transaction(account=account))


@pytest.mark.slow
def test_the_demo_transactions_make_structuring_and_high_risk_jurisdiction_fire(rules):
    demo.load()
    summary = demo.load()

    assert summary.startswith("3 customers, 2 accounts, 12 transactions; ")
    assert "not screened (train aml-typology first)" in summary
    fired = {
        external_id: {h.reason_code for h in rules_evaluate(Transaction.objects.get(external_id=external_id))}
        for external_id in ("HX-2002", "HX-2003", "NW-1004", "HX-2005", "NW-1002")
    }
    assert fired == {
        "HX-2002": set(),
        "HX-2003": {"R01"},
        "NW-1004": {"R03", "R04"},
        "HX-2005": {"R02", "R03", "R04"},
        "NW-1002": set(),
    }

"""AML fixtures: the shipped rules with their migration defaults, a customer's account, a booking helper,
analysts, and alerts raised straight in the database with an explanation as screening writes it."""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Group

from aml.models import (
    Account,
    AccountKind,
    Alert,
    Channel,
    Customer,
    CustomerKind,
    Direction,
    Rule,
    Screening,
    Transaction,
)
from aml.typology import DESCRIPTIONS
from assistant.core import roles

SHIPPED_RULES = importlib.import_module("aml.migrations.0003_rules").RULES
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def rules(db) -> dict[str, Rule]:
    """The rules as the data migration creates them (restored: another test's flush may have emptied
    the table)."""
    return {
        row["code"]: Rule.objects.update_or_create(code=row["code"], defaults=row)[0] for row in SHIPPED_RULES
    }


def account_open(reference: str, number: str) -> Account:
    customer = Customer.objects.create(
        reference=reference,
        name=f"Customer {reference}",
        kind=CustomerKind.INDIVIDUAL,
        country="GB",
        onboarded_on=date(2024, 1, 1),
    )
    return Account.objects.create(
        customer=customer, number=number, currency="EUR", opened_on=date(2024, 1, 2), kind=AccountKind.CURRENT
    )


@pytest.fixture
def account(db) -> Account:
    return account_open("CUS-T1", "ACC-T1")


Book = Callable[..., Transaction]


@pytest.fixture
def book(account: Account) -> Book:
    """Book a transaction `ago` before NOW (a wire in from Germany unless told otherwise)."""
    numbers = itertools.count(1)

    def book(
        amount: str,
        *,
        ago: timedelta = timedelta(0),
        direction: str = Direction.IN,
        channel: str = Channel.WIRE,
        country: str = "DE",
        on: Account = account,
    ) -> Transaction:
        return Transaction.objects.create(
            account=on,
            external_id=f"T-{next(numbers)}",
            amount=Decimal(amount),
            currency=on.currency,
            direction=direction,
            counterparty_name="Counterparty GmbH",
            counterparty_country=country,
            channel=channel,
            booked_at=NOW - ago,
        )

    return book


def analyst_create(django_user_model: Any, username: str) -> Any:
    user = django_user_model.objects.create_user(username, password="pw")
    user.groups.add(Group.objects.get(name=roles.AML_ANALYST))
    return user


@pytest.fixture
def analyst(django_user_model: Any) -> Any:
    return analyst_create(django_user_model, "ana")


@pytest.fixture
def other_analyst(django_user_model: Any) -> Any:
    return analyst_create(django_user_model, "ben")


NARRATIVE = "Cash <b>deposit</b> split to stay below the reporting limit"
PHRASE = "split to stay below"
DOCUMENT = (
    "Invoice for consulting services. Payment terms are thirty days. "
    "Please pay in cash in several amounts under ten thousand so the bank does not report it. "
    "Thank you for your business."
)
DOCUMENT_PASSAGE = "Please pay in cash in several amounts under ten thousand so the bank does not report it."
DOCUMENT_PHRASE = "several amounts under ten thousand"
RaiseAlert = Callable[..., Alert]


def _span(text: str, phrase: str) -> dict[str, int]:
    start = text.index(phrase)
    return {"start": start, "end": start + len(phrase)}


@pytest.fixture
def raise_alert(rules: dict[str, Rule], book: Book) -> RaiseAlert:
    """An open alert on a freshly booked cash deposit (or, given `document`, on a document of the
    account's customer) whose structuring hit cites an earlier deposit; explanation as screening
    writes it."""
    structuring = rules["structuring"]

    def raise_alert(
        risk: float = 0.8, *, ago: timedelta = timedelta(0), document: str | None = None
    ) -> Alert:
        earlier = book("9400.00", ago=ago + timedelta(days=2), channel=Channel.CASH)
        if document is None:
            screened = book("9500.00", ago=ago, channel=Channel.CASH)
            Transaction.objects.filter(pk=screened.pk).update(narrative=NARRATIVE)
            subject = {"subject_kind": Screening.SubjectKind.TRANSACTION, "transaction": screened}
            text, phrase, evidence = NARRATIVE, PHRASE, [earlier.pk, screened.pk]
        else:
            subject = {
                "subject_kind": Screening.SubjectKind.DOCUMENT,
                "document_name": document,
                "document_text": DOCUMENT,
            }
            text, phrase, evidence = DOCUMENT, DOCUMENT_PHRASE, [earlier.pk]
        hit = {
            "code": structuring.code,
            "reason_code": structuring.reason_code,
            "detail": "2 cash deposits of 18,900.00 EUR, each just under 10,000.00, within 7 days",
            "evidence": evidence,
        }
        explanation: dict[str, Any] = {
            "risk": {
                "score": risk,
                "bias": -2.5,
                "contributions": [
                    {
                        "feature": "rule:R01",
                        "value": 1.0,
                        "contribution": 1.9,
                        "detail": "1 rule(s) fired: R01",
                    },
                    {
                        "feature": "suspicion",
                        "value": 0.9,
                        "contribution": 2.2,
                        "detail": "the text reads 90% as some typology",
                    },
                ],
            },
            "typology": {
                "label": "structuring",
                "description": DESCRIPTIONS["structuring"],
                "probability": 0.83,
                "suspicion": 0.9,
                "alternatives": [
                    {"label": "structuring", "probability": 0.83},
                    {"label": "fraud", "probability": 0.07},
                ],
            },
            "phrases": [{"text": phrase, **_span(text, phrase), "weight": 0.41}],
        }
        if document is not None:
            explanation["passage"] = _span(text, DOCUMENT_PASSAGE)
        screening = Screening.objects.create(
            **subject,
            customer=earlier.account.customer,
            typology="structuring",
            rule_hits=[{**hit, "name": structuring.name, "weight": structuring.weight}],
            model_scores={"structuring": 0.83, "fraud": 0.07},
            risk=risk,
            explanation=explanation,
        )
        return Alert.objects.create(screening=screening, customer=screening.customer, risk=risk)

    return raise_alert


from tests.aml.models import typology_artefacts, typology_model  # noqa: E402, F401 - the trained model's fixtures

"""AML fixtures: the shipped rules with their migration defaults, a customer's account, a booking helper."""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from aml.models import Account, AccountKind, Channel, Customer, CustomerKind, Direction, Rule, Transaction

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

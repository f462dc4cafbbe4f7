"""Deterministic screening rules with reason codes, each read in the light of the customer's history.

What a rule does is code, registered here by its code; its thresholds are `Rule.parameters`, which
compliance edits in the admin, so the rules are read afresh on every evaluation. Amounts are
compared as booked: the thresholds assume one currency area, without conversion.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple, Protocol, TypeGuard

from django.db.models import Subquery

from aml.models import Account, Channel, Direction, Rule, Transaction
from assistant.core.errors import ApplicationError

logger = logging.getLogger("finassist.aml")

Parameters = Mapping[str, Any]


class RuleMisconfigured(ApplicationError):
    """A rule's stored parameters do not fit its function: screening must stop, not skip the rule."""


@dataclass(frozen=True)
class RuleHit:
    code: str
    reason_code: str
    detail: str  # for the analyst, with the numbers
    evidence: tuple[int, ...]  # the ids of the transactions that made the rule fire


class Booked(Protocol):
    """What the rules read of a customer's earlier transactions (a Transaction has all of it)."""

    @property
    def pk(self) -> int: ...
    @property
    def booked_at(self) -> datetime: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def direction(self) -> str: ...
    @property
    def channel(self) -> str: ...


class Finding(NamedTuple):
    detail: str
    evidence: Sequence[Booked]


Check = Callable[[Transaction, Sequence[Booked], Parameters], Finding | None]
Validator = Callable[[object], str | None]


@dataclass(frozen=True)
class RuleSpec:
    check: Check
    parameters: Mapping[str, Validator]
    lookback: Callable[[Parameters], timedelta]  # how much history before the transaction it reads


RULES: dict[str, RuleSpec] = {}


def _is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _count(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return "must be a whole number of at least 1"
    return None


def _positive(value: object) -> str | None:
    if not _is_number(value) or value <= 0:
        return "must be a number above 0"
    return None


def _fraction(value: object) -> str | None:
    if not _is_number(value) or not 0 < value <= 1:
        return "must be a number above 0 and at most 1"
    return None


def _countries(value: object) -> str | None:
    if not isinstance(value, list) or not all(
        isinstance(code, str) and len(code) == 2 and code.isascii() and code.isupper() for code in value
    ):
        return 'must be a list of ISO 3166-1 alpha-2 codes, e.g. ["KP", "IR"]'
    return None


def _no_history(parameters: Parameters) -> timedelta:
    return timedelta(0)


def _rule(
    code: str,
    *,
    parameters: Mapping[str, Validator],
    lookback: Callable[[Parameters], timedelta] = _no_history,
) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        RULES[code] = RuleSpec(check, parameters, lookback)
        return check

    return register


def rule_parameters_errors(code: str, parameters: object) -> list[str]:
    """What is wrong with a rule's parameters, in words for the person editing them; empty when fine."""
    spec = RULES.get(code)
    if spec is None:
        return [f"no rule function is registered for the code {code!r}"]
    if not isinstance(parameters, dict):
        return ["the parameters must be a JSON object of name: value"]
    errors = [f"{name!r} is missing" for name in spec.parameters if name not in parameters]
    errors += [
        f"{name!r} is not a parameter of this rule ({', '.join(spec.parameters)})"
        for name in parameters
        if name not in spec.parameters
    ]
    for name, validate in spec.parameters.items():
        if name in parameters and (problem := validate(parameters[name])):
            errors.append(f"{name!r} {problem}")
    return errors


def _decimal(value: float) -> Decimal:
    return Decimal(str(value))


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount:,.2f} {currency}"


def _within(history: Sequence[Booked], transaction: Transaction, span: timedelta) -> list[Booked]:
    """The other transactions booked in the `span` up to and including the transaction's time."""
    start = transaction.booked_at - span
    return [t for t in history if start <= t.booked_at <= transaction.booked_at and t.pk != transaction.pk]


@_rule(
    "structuring",
    parameters={"threshold": _positive, "margin": _fraction, "min_count": _count, "window_days": _positive},
    lookback=lambda p: timedelta(days=p["window_days"]),
)
def _structuring(transaction: Transaction, history: Sequence[Booked], p: Parameters) -> Finding | None:
    threshold = _decimal(p["threshold"])
    floor = threshold * (1 - _decimal(p["margin"]))

    def just_under(t: Booked) -> bool:
        return t.channel == Channel.CASH and t.direction == Direction.IN and floor <= t.amount < threshold

    if not just_under(transaction):
        return None
    deposits = [
        *(t for t in _within(history, transaction, timedelta(days=p["window_days"])) if just_under(t)),
        transaction,
    ]
    if len(deposits) < p["min_count"]:
        return None
    total = sum((t.amount for t in deposits), Decimal(0))
    currency = transaction.currency
    return Finding(
        f"{len(deposits)} cash deposits within {p['window_days']:g} days, each between "
        f"{_money(floor, currency)} and just under the {_money(threshold, currency)} reporting threshold: "
        f"{_money(total, currency)} in all",
        deposits,
    )


@_rule(
    "rapid_movement",
    parameters={"window_hours": _positive, "share": _fraction, "min_amount": _positive},
    lookback=lambda p: timedelta(hours=p["window_hours"]),
)
def _rapid_movement(transaction: Transaction, history: Sequence[Booked], p: Parameters) -> Finding | None:
    if transaction.direction != Direction.OUT:
        return None
    incoming = [
        t
        for t in _within(history, transaction, timedelta(hours=p["window_hours"]))
        if t.direction == Direction.IN
    ]
    received = sum((t.amount for t in incoming), Decimal(0))
    if received < _decimal(p["min_amount"]) or transaction.amount < _decimal(p["share"]) * received:
        return None
    currency = transaction.currency
    return Finding(
        f"{_money(transaction.amount, currency)} went out within {p['window_hours']:g} hours of "
        f"{_money(received, currency)} coming in ({len(incoming)} incoming): "
        f"{transaction.amount / received:.0%} of it passed straight through",
        [*incoming, transaction],
    )


@_rule("high_risk_jurisdiction", parameters={"countries": _countries})
def _high_risk_jurisdiction(
    transaction: Transaction, history: Sequence[Booked], p: Parameters
) -> Finding | None:
    country = transaction.counterparty_country
    if country not in p["countries"]:
        return None
    return Finding(
        f"{transaction.get_direction_display()} {_money(transaction.amount, transaction.currency)} "
        f"with {transaction.counterparty_name}, in {country}: a jurisdiction on the high-risk list",
        [transaction],
    )


@_rule("round_amount", parameters={"min_amount": _positive, "multiple": _positive})
def _round_amount(transaction: Transaction, history: Sequence[Booked], p: Parameters) -> Finding | None:
    multiple = _decimal(p["multiple"])
    if transaction.amount < _decimal(p["min_amount"]) or transaction.amount % multiple:
        return None
    return Finding(
        f"{_money(transaction.amount, transaction.currency)} is a round amount, "
        f"a multiple of {multiple:,.2f}",
        [transaction],
    )


@_rule(
    "velocity",
    parameters={
        "window_hours": _positive,
        "factor": _positive,
        "min_count": _count,
        "baseline_days": _positive,
    },
    lookback=lambda p: timedelta(hours=p["window_hours"], days=p["baseline_days"]),
)
def _velocity(transaction: Transaction, history: Sequence[Booked], p: Parameters) -> Finding | None:
    """The usual count is the baseline's daily average scaled to the window's length; a customer
    without any baseline history has no usual to compare with, so the rule stays silent."""
    window = timedelta(hours=p["window_hours"])
    start = transaction.booked_at - window
    baseline_start = start - timedelta(days=p["baseline_days"])
    before = sum(1 for t in history if baseline_start <= t.booked_at < start and t.pk != transaction.pk)
    if not before:
        return None
    recent = [*_within(history, transaction, window), transaction]
    usual = before / p["baseline_days"] * p["window_hours"] / 24
    if len(recent) < p["min_count"] or len(recent) < p["factor"] * usual:
        return None
    return Finding(
        f"{len(recent)} transactions in the last {p['window_hours']:g} hours, "
        f"{len(recent) / usual:.1f} times the usual {usual:.1f} "
        f"(the average over the previous {p['baseline_days']:g} days)",
        recent,
    )


def _history(transaction: Transaction, lookback: timedelta) -> list[Transaction]:
    """The customer's other transactions, on all their accounts, in the `lookback` up to this one."""
    customer = Account.objects.filter(pk=transaction.account_id).values("customer_id")
    return list(
        Transaction.objects.filter(
            account__customer_id=Subquery(customer),
            booked_at__gte=transaction.booked_at - lookback,
            booked_at__lte=transaction.booked_at,
        )
        .exclude(pk=transaction.pk)
        .order_by("booked_at", "pk")
    )


def _runnable(rules: Sequence[Rule]) -> list[tuple[Rule, RuleSpec]]:
    runnable = []
    for rule in rules:
        if not rule.enabled:
            continue
        spec = RULES.get(rule.code)
        if spec is None:
            logger.warning("rule %s (%s) has no function in aml.rules: ignored", rule.code, rule.reason_code)
            continue
        errors = rule_parameters_errors(rule.code, rule.parameters)
        if errors:
            raise RuleMisconfigured(f"rule {rule.code} ({rule.reason_code}): {'; '.join(errors)}")
        runnable.append((rule, spec))
    return runnable


def _lookback(runnable: Sequence[tuple[Rule, RuleSpec]]) -> timedelta:
    return max((spec.lookback(rule.parameters) for rule, spec in runnable), default=timedelta(0))


def rules_lookback(rules: Sequence[Rule]) -> timedelta:
    """How far before a transaction the enabled rules read the customer's history."""
    return _lookback(_runnable(rules))


def rules_evaluate(
    transaction: Transaction,
    *,
    history: Sequence[Booked] | None = None,
    rules: Sequence[Rule] | None = None,
) -> list[RuleHit]:
    """The enabled rules that fire on a stored transaction, with what made each fire.

    `rules` defaults to the enabled rules as stored now, so an edit in the admin applies to the
    next evaluation; `history` to the customer's transactions as far back as those rules look.
    """
    if transaction.pk is None:
        raise ApplicationError("only a stored transaction can be screened: rule evidence cites its id")
    runnable = _runnable(list(Rule.objects.filter(enabled=True)) if rules is None else rules)
    if history is None:
        history = _history(transaction, _lookback(runnable))
    hits = []
    for rule, spec in runnable:
        finding = spec.check(transaction, history, rule.parameters)
        if finding is not None:
            hits.append(
                RuleHit(rule.code, rule.reason_code, finding.detail, tuple(t.pk for t in finding.evidence))
            )
    return hits

"""Fraud risk: the text model's judgement combined with structured red flags, with the reasons.

The structured signals are the red flags the synthetic claims carry (see `claims.synthetic`):
late reporting, a policy that began days before the loss, an amount just under the limit,
repeated claims on one policy, dates in the description that contradict the loss date. The text
model (`claims-fraud`) reads what the structured data cannot: cash without receipts, pressure to
settle, vague accounts.

The two are combined by a logistic regression, fitted per text-model version on generated claims
the text model never saw (`fraud_calibration`), so the weights are measured, not assumed. The
score is sigmoid(bias + sum of contributions); each contribution (weight x signal) is a reason,
and the reasons that raised the score are the explanation.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from assistant.training.evaluation import log_odds
from claims.extraction import Span

LATE_REPORTING_DAYS = 30
NEW_POLICY_DAYS = 14
NEAR_LIMIT_SHARE = Decimal("0.9")
REPEATED_CLAIMS_WINDOW = timedelta(days=365)
REPEATED_CLAIMS_PRIOR = 2  # earlier claims on the policy within the window
TEXT = "text"
# The labels of `claims-fraud`, the text model.
SUSPICIOUS, ORDINARY = "suspicious", "ordinary"
CALIBRATION_SEED = 11
CALIBRATION_CLAIMS = 2000
CALIBRATION_HELD_OUT = 0.3
LOGIT_CLIP = 6.0


@dataclass(frozen=True)
class ClaimFacts:
    loss_date: date
    reported_date: date
    amount: Decimal
    policy_from: date
    policy_limit: Decimal
    prior_claims: int  # on the same policy, with a loss within a year before this one
    stated_dates: tuple[date, ...]  # dates the description gives


@dataclass(frozen=True)
class Signal:
    code: str
    fired: bool
    detail: str


def _late(facts: ClaimFacts) -> Signal:
    days = (facts.reported_date - facts.loss_date).days
    return Signal("late_reporting", days > LATE_REPORTING_DAYS, f"reported {days} days after the loss")


def _new_policy(facts: ClaimFacts) -> Signal:
    days = (facts.loss_date - facts.policy_from).days
    return Signal(
        "new_policy", 0 <= days <= NEW_POLICY_DAYS, f"the loss came {days} days after the policy began"
    )


def _near_limit(facts: ClaimFacts) -> Signal:
    share = facts.amount / facts.policy_limit
    fired = NEAR_LIMIT_SHARE * facts.policy_limit <= facts.amount < facts.policy_limit
    return Signal("near_limit", fired, f"the amount is {share:.0%} of the policy limit")


def _repeated(facts: ClaimFacts) -> Signal:
    return Signal(
        "repeated_claims",
        facts.prior_claims >= REPEATED_CLAIMS_PRIOR,
        f"{facts.prior_claims} earlier claim(s) on this policy within a year",
    )


def _inconsistent(facts: ClaimFacts) -> Signal:
    others = sorted({d for d in facts.stated_dates if d not in (facts.loss_date, facts.reported_date)})
    detail = (
        f"the description gives {', '.join(d.isoformat() for d in others)}; "
        f"the loss date is {facts.loss_date.isoformat()}"
        if others
        else "the dates in the description agree with the loss date"
    )
    return Signal("inconsistent_dates", bool(others), detail)


SIGNALS: tuple[Callable[[ClaimFacts], Signal], ...] = (
    _late,
    _new_policy,
    _near_limit,
    _repeated,
    _inconsistent,
)
CODES = ("late_reporting", "new_policy", "near_limit", "repeated_claims", "inconsistent_dates")
FEATURES = (*CODES, TEXT)


def dates_stated(spans: Iterable[Span]) -> tuple[date, ...]:
    """The dates extraction read in a description (ISO values), for the inconsistent-dates signal."""
    return tuple(date.fromisoformat(span.value) for span in spans if span.kind == "date")


def signals_of(facts: ClaimFacts) -> list[Signal]:
    return [signal(facts) for signal in SIGNALS]


def features_of(signals: Sequence[Signal], suspicious_probability: float) -> list[float]:
    return [float(s.fired) for s in signals] + [log_odds(suspicious_probability, clip=LOGIT_CLIP)]


@dataclass(frozen=True)
class Weights:
    bias: float
    weights: dict[str, float]


@dataclass(frozen=True)
class FraudScore:
    score: float
    reasons: list[dict[str, Any]]  # code, detail, contribution: those that raised the score, largest first


def fraud_score(weights: Weights, signals: Sequence[Signal], suspicious_probability: float) -> FraudScore:
    values = dict(zip(FEATURES, features_of(signals, suspicious_probability), strict=True))
    contributions = {code: weights.weights[code] * value for code, value in values.items()}
    z = weights.bias + sum(contributions.values())
    details = {s.code: s.detail for s in signals}
    details[TEXT] = f"the text model reads the description as {suspicious_probability:.0%} suspicious"
    reasons = [
        {"code": code, "detail": details[code], "contribution": round(value, 3)}
        for code, value in sorted(contributions.items(), key=lambda item: -item[1])
        if value > 0
    ]
    return FraudScore(1 / (1 + math.exp(-z)), reasons)


def prior_claims_of(policy_numbers_and_dates: Sequence[tuple[str, date]]) -> list[int]:
    """For each (policy, loss date): how many of the others on that policy fell within the year before."""
    by_policy: dict[str, list[date]] = defaultdict(list)
    for number, loss in policy_numbers_and_dates:
        by_policy[number].append(loss)
    return [
        sum(1 for other in by_policy[number] if loss - REPEATED_CLAIMS_WINDOW <= other < loss)
        for number, loss in policy_numbers_and_dates
    ]


def weights_fit(features: Sequence[Sequence[float]], labels: Sequence[int]) -> tuple[Weights, Any]:
    """Logistic regression of the fraud label on the features: the weights and the fitted model."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1.0, max_iter=1000).fit(features, labels)
    weights = Weights(
        float(model.intercept_[0]), {code: float(w) for code, w in zip(FEATURES, model.coef_[0], strict=True)}
    )
    return weights, model

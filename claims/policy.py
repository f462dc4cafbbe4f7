"""The policy check: is the policy active on the loss date, is the peril covered and not excluded,
and what is payable against the limit and the deductible. Each finding carries its evidence.

Perils are read from the description with a lexicon of trigger words per peril name; a peril the
lexicon does not know is matched by its own name. A description that names no peril the policy
lists is not refused: the finding says so and an adjuster decides.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from claims.models import Policy

# Trigger words per peril name (matched case-insensitively at the start of a word), kept as data
# so that claims staff can extend them; a peril not listed is matched by its own name.
PERIL_WORDS: dict[str, list[str]] = json.loads((Path(__file__).parent / "data" / "perils.json").read_text())


# The findings that decide whether the policy pays at all; the others decide how much.
COVERAGE = ("active", "peril covered", "not excluded", "currency")


@dataclass(frozen=True)
class Evidence:
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Finding:
    name: str
    passed: bool
    reason: str
    evidence: tuple[Evidence, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "passed": self.passed,
            "reason": self.reason,
            "evidence": [{"text": e.text, "start": e.start, "end": e.end} for e in self.evidence],
        }


@dataclass(frozen=True)
class CheckResult:
    passed: bool
    perils: tuple[str, ...]
    findings: tuple[Finding, ...]
    payable: Decimal


@cache
def _pattern(peril: str) -> re.Pattern[str]:
    words = PERIL_WORDS.get(peril.lower(), [peril.lower()])
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")", re.IGNORECASE)


def perils_found(description: str, perils: Sequence[str]) -> dict[str, tuple[Evidence, ...]]:
    """The perils of `perils` that the description names, with where it names them."""
    found = {}
    for peril in perils:
        matches = tuple(
            Evidence(m.group(0), m.start(), m.end()) for m in _pattern(peril).finditer(description)
        )
        if matches:
            found[peril] = matches
    return found


def policy_check(
    *, policy: Policy, loss_date: date, amount: Decimal, currency: str, description: str
) -> CheckResult:
    """Check a claim against the policy's policy (an unsaved Policy will do: nothing is read or written)."""
    covered = perils_found(description, policy.covered_perils)
    excluded = perils_found(description, policy.exclusions)
    findings = [
        _active(policy, loss_date),
        _covered(policy, covered),
        _not_excluded(excluded),
        _currency(policy, currency),
        _within_limit(policy, amount),
        _above_deductible(policy, amount),
    ]
    payable = min(max(amount - policy.deductible, Decimal(0)), policy.limit)
    if not all(f.passed for f in findings if f.name in COVERAGE):
        payable = Decimal(0)
    return CheckResult(
        passed=all(f.passed for f in findings),
        perils=tuple(covered) + tuple(excluded),
        findings=tuple(findings),
        payable=payable.quantize(Decimal("0.01")),
    )


def _active(policy: Policy, loss_date: date) -> Finding:
    period = f"{policy.effective_from.isoformat()} to {policy.effective_to.isoformat()}"
    if policy.effective_from <= loss_date <= policy.effective_to:
        return Finding(
            "active", True, f"the loss date {loss_date.isoformat()} is within the policy period {period}"
        )
    return Finding(
        "active", False, f"the loss date {loss_date.isoformat()} is outside the policy period {period}"
    )


def _covered(policy: Policy, covered: dict[str, tuple[Evidence, ...]]) -> Finding:
    if covered:
        evidence = tuple(e for matches in covered.values() for e in matches)
        return Finding("peril covered", True, f"covered peril: {', '.join(covered)}", evidence)
    return Finding(
        "peril covered",
        False,
        "the description names none of the covered perils "
        f"({', '.join(policy.covered_perils) or 'none listed'})",
    )


def _not_excluded(excluded: dict[str, tuple[Evidence, ...]]) -> Finding:
    if not excluded:
        return Finding("not excluded", True, "no exclusion of the policy is named in the description")
    evidence = tuple(e for matches in excluded.values() for e in matches)
    return Finding("not excluded", False, f"excluded by the policy: {', '.join(excluded)}", evidence)


def _currency(policy: Policy, currency: str) -> Finding:
    if currency == policy.currency:
        return Finding("currency", True, f"claimed in the policy's currency, {currency}")
    return Finding("currency", False, f"claimed in {currency}; the policy pays in {policy.currency}")


def _within_limit(policy: Policy, amount: Decimal) -> Finding:
    if amount <= policy.limit:
        return Finding("within limit", True, f"{amount} claimed is within the limit of {policy.limit}")
    return Finding(
        "within limit",
        False,
        f"{amount} claimed exceeds the limit of {policy.limit}; at most the limit is payable",
    )


def _above_deductible(policy: Policy, amount: Decimal) -> Finding:
    if amount > policy.deductible:
        return Finding(
            "above deductible", True, f"{amount} claimed exceeds the deductible of {policy.deductible}"
        )
    return Finding(
        "above deductible",
        False,
        f"{amount} claimed is not above the deductible of {policy.deductible}: nothing is payable",
    )

"""The claims classifiers, trained through the fine-tuning platform, and where their labels come from.

- `claims-line-of-business`: InsuranceQA V2's customer questions (12 insurance domains, research
  use only, read from the datasets folder, never copied here). Without that folder it trains on
  the synthetic claims of `claims.synthetic`, which cover nine of the twelve lines.
- `claims-route` and `claims-fraud`: no public labelled claims text exists, so both learn from the
  synthetic claims of `claims.synthetic` (seeded; see its docstring for the planted red flags).

All three also learn from adjusters: each decision is a labelled example (its description, the
line of business, route and fraud judgement the adjuster settled on), overrides included.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from django.conf import settings

from assistant.core.errors import ApplicationError
from assistant.training.registry import Example, TaskSpec
from claims.fraud import ORDINARY, SUSPICIOUS
from claims.models import Decision, LineOfBusiness, Route
from claims.services.calibration import fraud_calibrate, fraud_calibrated

if TYPE_CHECKING:
    from claims.synthetic import SyntheticClaim

logger = logging.getLogger("finassist.claims")

LINE_OF_BUSINESS = "claims-line-of-business"
ROUTE = "claims-route"
FRAUD = "claims-fraud"

# InsuranceQA's domain names -> the project's lines of business.
INSURANCEQA_DOMAINS = {
    "auto-insurance": LineOfBusiness.AUTO,
    "home-insurance": LineOfBusiness.HOME,
    "renters-insurance": LineOfBusiness.RENTERS,
    "life-insurance": LineOfBusiness.LIFE,
    "health-insurance": LineOfBusiness.HEALTH,
    "medicare-insurance": LineOfBusiness.MEDICARE,
    "disability-insurance": LineOfBusiness.DISABILITY,
    "long-term-care-insurance": LineOfBusiness.LONG_TERM_CARE,
    "critical-illness-insurance": LineOfBusiness.CRITICAL_ILLNESS,
    "annuities": LineOfBusiness.ANNUITIES,
    "retirement-plans": LineOfBusiness.RETIREMENT,
    "other-insurance": LineOfBusiness.OTHER,
}
GENERATED_CLAIMS = 2000
GENERATOR_SEED = 7


def insuranceqa_examples(split: str) -> list[Example]:
    """InsuranceQA V2 questions of one official split (`train` or `valid`), labelled by line."""
    path = settings.DATASETS_DIR / "insuranceqa_v2_questions" / f"{split}.jsonl"
    if not path.is_file():
        raise ApplicationError(f"no InsuranceQA questions at {path}", field="data")
    examples = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            row = json.loads(line)
            if row["domain"] not in INSURANCEQA_DOMAINS:
                raise ApplicationError(f"{path.name} line {number}: unknown domain {row['domain']!r}")
            examples.append(Example(" ".join(row["question"].split()), INSURANCEQA_DOMAINS[row["domain"]]))
    return examples


def _generated() -> list[SyntheticClaim]:
    from claims.synthetic import generate

    return generate(GENERATED_CLAIMS, seed=GENERATOR_SEED)[1]


def _decisions() -> list[Decision]:
    return list(Decision.objects.select_related("claim").only("claim__description", *LABELLED))


LABELLED = ("line_of_business", "route", "fraud_suspected")


def line_of_business_examples() -> list[Example]:
    try:
        examples = insuranceqa_examples("train")
    except ApplicationError as error:
        logger.warning("%s: claims-line-of-business trains on generated claims", error.message)
        examples = [Example(claim.description, claim.line_of_business) for claim in _generated()]
    return examples + [Example(d.claim.description, d.line_of_business) for d in _decisions()]


def route_examples() -> list[Example]:
    generated = [Example(claim.description, claim.route) for claim in _generated()]
    return generated + [Example(d.claim.description, d.route) for d in _decisions()]


def fraud_label(suspicious: bool) -> str:
    return SUSPICIOUS if suspicious else ORDINARY


def fraud_examples() -> list[Example]:
    generated = [Example(claim.description, fraud_label(claim.suspicious)) for claim in _generated()]
    return generated + [Example(d.claim.description, fraud_label(d.fraud_suspected)) for d in _decisions()]


TASKS = (
    TaskSpec(
        name=LINE_OF_BUSINESS,
        labels=tuple(LineOfBusiness.values),
        examples=line_of_business_examples,
        description="Line of business of an insurance text (InsuranceQA V2's 12 domains).",
        text_column="question",
        label_column="line_of_business",
        label_aliases={domain: str(line) for domain, line in INSURANCEQA_DOMAINS.items()},
        # Chosen on the platform's validation split (held out of InsuranceQA's train split), where
        # it beat the default rate and epochs (docs/claims.md, The models).
        defaults={"learning_rate": 5e-4, "epochs": 4},
    ),
    TaskSpec(
        name=ROUTE,
        labels=tuple(Route.values),
        examples=route_examples,
        description="Where a claim goes: fast track, standard, specialist or special investigation.",
        text_column="description",
        label_column="route",
        defaults={"max_tokens": 160},
    ),
    TaskSpec(
        name=FRAUD,
        labels=(ORDINARY, SUSPICIOUS),
        examples=fraud_examples,
        description="Whether a claim's description reads as suspicious (the text part of the fraud score).",
        text_column="description",
        label_column="label",
        defaults={"max_tokens": 160},
        prepare=fraud_calibrate,
        prepared=fraud_calibrated,
    ),
)

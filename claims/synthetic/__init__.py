"""Synthetic insurance claims with policies, routing labels and planted red flags.

The claims made here are SYNTHETIC. No public data set of labelled insurance-claims text exists,
so the claims triage models are trained and evaluated on text written from templates. Nothing
here describes a real person, policy or event. ``generate`` is seeded and reproducible: the same
``count``, ``seed`` and ``start`` give the same policies and claims, in the same order.

Training, calibration, the demo and the benchmarks import this package when they build examples;
serving code never does. The scenarios' templates and the words and sentences that fill them are
data, in ``templates.json``; the rates and rules below are code.

Each description reads as a claimant or a call-centre agent writes it (2 to 6 sentences), with
varied names, garages, hospitals, vehicles and plates, addresses, injuries, amounts and dates in
several formats. Dates written without a year or relative to the day ("yesterday", "last
Tuesday") are relative to the claim's ``reported_date``; numeric dates are month/day/year.

Lines of business with claims: auto, home, renters, health, life, disability, critical illness,
long-term care and other (pet, travel and business liability). About 4% of claims are for a
peril the policy excludes.

Red flags (``RED_FLAGS``):

- structured, they hold in the data: ``late_reporting`` (reported more than 30 days after the
  loss; otherwise within 21 days), ``new_policy`` (the policy began 14 days or fewer before the
  loss; otherwise more), ``near_limit`` (0.9 x limit <= amount < limit; otherwise below 0.9 x
  limit, or exactly the limit for life and critical-illness benefits, which pay the sum assured),
  ``repeated_claims`` (the generator emits two earlier claims on the same policy within 365 days;
  no other policy has more than two claims), ``inconsistent_dates`` (the description states a
  loss date different from ``loss_date``, sometimes beside the right one; every other description
  states no date but the loss date);
- in the description only: ``cash_only``, ``no_witnesses``, ``pressure_to_settle``,
  ``recently_increased_cover``, ``vague_details``. A structured flag is also hinted at in the text
  half of the time ("Sorry this is late, ...").

Rates: 15% of claims are drawn suspicious and get 1 to 3 red flags, structured and textual mixed
(the two earlier claims behind ``repeated_claims`` are ordinary, so the share in the output is a
little lower). 3% of ordinary claims get one red flag, most often late reporting: flags are
evidence, not proof.

The label, ``route``, follows these rules, first match wins:

1. ``special_investigation``: the claim is suspicious.
2. ``specialist``: injury, liability dispute, total loss or death, or amount > 25,000.
3. ``fast_track``: a simple claim (glass, minor theft, small water damage, ...) under 2,500
   with no red flag, for a covered peril.
4. ``standard``: everything else.

Amounts are compared in the claim's currency, without conversion. The description carries the
cue ("the other driver disputes", "whiplash", "written off", "windscreen chip"). Then 5% of labels
are moved to a neighbouring route in the order fast_track, standard, specialist,
special_investigation, as human triage is noisy; so suspicious claims mostly, not always, route
to special investigation.
"""

import json
import math
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from itertools import accumulate
from pathlib import Path
from typing import Any, TypeVar

from claims.models import LineOfBusiness, Route

T = TypeVar("T")


@dataclass(frozen=True)
class SyntheticPolicy:
    number: str
    holder_name: str
    line_of_business: str
    effective_from: date
    effective_to: date
    covered_perils: tuple[str, ...]
    exclusions: tuple[str, ...]
    limit: Decimal
    deductible: Decimal
    currency: str = "USD"


@dataclass(frozen=True)
class SyntheticClaim:
    external_id: str
    policy_number: str
    loss_date: date
    reported_date: date
    amount_claimed: Decimal
    currency: str
    description: str
    line_of_business: str
    peril: str
    route: str
    suspicious: bool
    red_flags: tuple[str, ...]


RED_FLAGS: dict[str, str] = {
    "late_reporting": "reported more than 30 days after the loss",
    "new_policy": "the policy began 14 days or fewer before the loss",
    "near_limit": "the amount claimed is within 10% under the policy limit",
    "repeated_claims": "the policy has 3 or more claims within 365 days",
    "inconsistent_dates": "the description states a loss date different from the one on the claim",
    "cash_only": "paid in cash, no receipts or invoices",
    "no_witnesses": "nobody saw the loss happen, no CCTV",
    "pressure_to_settle": "the claimant presses for fast payment or to skip the inspection",
    "recently_increased_cover": "cover or the sum insured was raised shortly before the loss",
    "vague_details": "the claimant cannot say what happened, where, or what was lost",
}
STRUCTURED_FLAGS = ("late_reporting", "new_policy", "near_limit", "repeated_claims", "inconsistent_dates")
TEXT_FLAGS = ("cash_only", "no_witnesses", "pressure_to_settle", "recently_increased_cover", "vague_details")

SUSPICIOUS_RATE = 0.15
INNOCENT_FLAG_RATE = 0.03
LABEL_NOISE = 0.05
EXCLUDED_PERIL_RATE = 0.04
REUSE_POLICY_RATE = 0.1
LARGE_LOSS = Decimal(25_000)
SMALL_CLAIM = Decimal(2_500)
LATE_REPORTING_DAYS = 30
NEW_POLICY_DAYS = 14
# Amounts not flagged near_limit stay under this share of the limit, clear of the 90% threshold.
ORDINARY_LIMIT_SHARE = Decimal("0.85")
CLAIM_PERIOD_DAYS = 730
MAX_SENTENCES = 6

SUSPICIOUS_FLAG_WEIGHTS = {
    "late_reporting": 1.2,
    "new_policy": 1.0,
    "near_limit": 1.0,
    "repeated_claims": 0.6,
    "inconsistent_dates": 0.8,
    "cash_only": 1.0,
    "no_witnesses": 1.0,
    "pressure_to_settle": 1.0,
    "recently_increased_cover": 0.8,
    "vague_details": 1.0,
}
# Innocent flags are the ones that happen to honest claimants: a late report, a new policy.
INNOCENT_FLAG_WEIGHTS = {
    "late_reporting": 5.0,
    "new_policy": 2.0,
    "near_limit": 1.0,
    "repeated_claims": 0.5,
    "inconsistent_dates": 1.0,
    "no_witnesses": 1.0,
    "cash_only": 0.5,
}
FLAG_COUNT_WEIGHTS = {1: 0.45, 2: 0.35, 3: 0.2}
# Both would need the same policy to be both weeks old and host a year of earlier claims.
INCOMPATIBLE_FLAGS = frozenset({frozenset({"new_policy", "repeated_claims"})})

ROUTE_ORDER = (
    Route.FAST_TRACK.value,
    Route.STANDARD.value,
    Route.SPECIALIST.value,
    Route.SPECIAL_INVESTIGATION.value,
)
NEIGHBOUR_ROUTES = {
    route: tuple(ROUTE_ORDER[j] for j in (i - 1, i + 1) if 0 <= j < len(ROUTE_ORDER))
    for i, route in enumerate(ROUTE_ORDER)
}
SPECIALIST_CUES = frozenset({"injury", "dispute", "total_loss", "death"})
REPAIRED_PRODUCTS = frozenset({"auto", "home", "renters", "business"})
STOLEN_PERILS = frozenset({"theft", "burglary"})


@dataclass(frozen=True)
class Product:
    line: str
    prefix: str
    perils: tuple[str, ...]
    exclusions: tuple[str, ...]
    limits: tuple[int, ...]
    deductibles: tuple[int, ...]
    weight: float
    # Life and critical-illness cover pays once; disability and care benefits are paid as a series
    # of claims, so repeated claims there are no red flag.
    repeatable: bool = True


PRODUCTS = {
    "auto": Product(
        LineOfBusiness.AUTO.value,
        "AUTO",
        ("collision", "theft", "glass", "fire", "vandalism", "storm", "third-party liability"),
        ("racing", "wear and tear", "driving under the influence"),
        (15_000, 25_000, 50_000, 100_000),
        (250, 500, 1_000),
        0.30,
    ),
    "home": Product(
        LineOfBusiness.HOME.value,
        "HOME",
        ("fire", "storm", "burst pipe", "burglary", "accidental damage", "occupier's liability"),
        ("flood", "gradual leaks", "earthquake"),
        (150_000, 250_000, 400_000, 600_000),
        (250, 500, 1_000),
        0.20,
    ),
    "renters": Product(
        LineOfBusiness.RENTERS.value,
        "RENT",
        ("theft", "fire", "water damage", "accidental damage"),
        ("flood", "pets"),
        (15_000, 25_000, 40_000, 60_000),
        (100, 250, 500),
        0.08,
    ),
    "health": Product(
        LineOfBusiness.HEALTH.value,
        "HLTH",
        ("outpatient treatment", "prescriptions", "surgery", "hospitalisation", "emergency treatment"),
        ("cosmetic treatment", "pre-existing condition"),
        (50_000, 100_000, 250_000, 1_000_000),
        (0, 250, 500),
        0.14,
    ),
    "life": Product(
        LineOfBusiness.LIFE.value,
        "LIFE",
        ("death by natural causes", "accidental death", "terminal illness"),
        ("undisclosed pre-existing condition", "hazardous activities"),
        (50_000, 100_000, 250_000, 500_000),
        (0,),
        0.04,
        repeatable=False,
    ),
    "disability": Product(
        LineOfBusiness.DISABILITY.value,
        "DISB",
        ("injury", "illness"),
        ("self-inflicted injury", "pre-existing condition"),
        (24_000, 36_000, 60_000, 90_000),
        (0,),
        0.05,
        repeatable=False,
    ),
    "critical_illness": Product(
        LineOfBusiness.CRITICAL_ILLNESS.value,
        "CRIT",
        ("cancer", "heart attack", "stroke", "multiple sclerosis"),
        ("pre-existing condition",),
        (20_000, 50_000, 100_000, 150_000),
        (0,),
        0.04,
        repeatable=False,
    ),
    "long_term_care": Product(
        LineOfBusiness.LONG_TERM_CARE.value,
        "LTC",
        ("nursing home care", "home care"),
        ("care needed within the waiting period",),
        (50_000, 100_000, 200_000),
        (0, 500),
        0.03,
        repeatable=False,
    ),
    "pet": Product(
        LineOfBusiness.OTHER.value,
        "PET",
        ("veterinary treatment",),
        ("pre-existing condition", "routine care"),
        (4_000, 7_500, 10_000, 15_000),
        (100, 150),
        0.05,
    ),
    "travel": Product(
        LineOfBusiness.OTHER.value,
        "TRVL",
        ("lost luggage", "trip cancellation", "medical treatment abroad"),
        ("known events", "pre-existing condition"),
        (25_000, 100_000, 250_000),
        (0, 100),
        0.04,
    ),
    "business": Product(
        LineOfBusiness.OTHER.value,
        "BUSL",
        ("public liability", "third-party property damage"),
        ("contractual liability", "professional advice"),
        (100_000, 250_000, 500_000),
        (250, 1_000),
        0.03,
    ),
}


# Text flags that only make sense for some products: nobody witnesses a diagnosis.
FLAG_PRODUCTS = {
    "no_witnesses": frozenset({"auto", "home", "renters", "travel", "business"}),
    "cash_only": frozenset({"auto", "home", "renters", "health", "pet", "travel", "business"}),
}


@dataclass(frozen=True)
class Scenario:
    product: str
    peril: str
    # "simple", "ordinary", or one of SPECIALIST_CUES: what the text shows a triage handler.
    cue: str
    # None for a benefit that pays the sum assured: the amount is the policy limit.
    amounts: tuple[int, int] | None
    templates: tuple[str, ...]
    witnessed: bool = False

    @property
    def excluded(self) -> bool:
        return self.peril in PRODUCTS[self.product].exclusions


_TEMPLATES: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parent / "templates.json").read_text(encoding="utf-8")
)
SCENARIOS = tuple(
    Scenario(
        **{**s, "amounts": tuple(s["amounts"]) if s["amounts"] else None, "templates": tuple(s["templates"])}
    )
    for s in _TEMPLATES["scenarios"]
)
WORDS: dict[str, tuple[str, ...]] = {
    name: tuple(words) for name, words in _TEMPLATES["words"].items() if name != "cars"
}
CARS: tuple[tuple[str, str], ...] = tuple((make, model) for make, model in _TEMPLATES["words"]["cars"])

MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

SENTENCES: dict[str, tuple[str, ...]] = {
    name: tuple(sentences) for name, sentences in _TEMPLATES["sentences"].items() if name != "flags"
}
FLAG_SENTENCES: dict[str, tuple[str, ...]] = {
    flag: tuple(sentences) for flag, sentences in _TEMPLATES["sentences"]["flags"].items()
}
CURRENCY_SIGNS = {"USD": "$", "GBP": "£", "EUR": "€"}
CURRENCY_WORDS = {"USD": "dollars", "GBP": "pounds", "EUR": "euros"}
CURRENCY_WEIGHTS = {"USD": 0.6, "GBP": 0.2, "EUR": 0.2}

_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")
_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


def perils_of(line_of_business: str) -> tuple[str, ...]:
    """The covered perils the generator knows for a line of business; () for lines without claims."""
    line = LineOfBusiness(line_of_business).value
    perils = (peril for product in PRODUCTS.values() if product.line == line for peril in product.perils)
    return tuple(dict.fromkeys(perils))


def generate(
    count: int, *, seed: int = 0, start: date = date(2024, 1, 1)
) -> tuple[list[SyntheticPolicy], list[SyntheticClaim]]:
    """``count`` synthetic claims with losses from ``start`` on, and every policy they are made on."""
    if count < 0:
        raise ValueError("count must not be negative")
    run = _Run(random.Random(seed), start)
    while len(run.drafts) < count:
        run.add_claim(count - len(run.drafts))
    drafts = sorted(run.drafts, key=lambda d: (d.reported_date, d.loss_date, d.order))
    claims = [draft.claim(f"SYN-{seed}-{n}") for n, draft in enumerate(drafts, start=1)]
    return sorted(run.policies, key=lambda p: p.number), claims


@dataclass
class _Draft:
    """A claim before it is numbered: ids follow reporting order, known only at the end."""

    order: int
    policy: SyntheticPolicy
    scenario: Scenario
    loss_date: date
    reported_date: date
    amount: Decimal
    description: str
    route: str
    suspicious: bool
    red_flags: tuple[str, ...]

    def claim(self, external_id: str) -> SyntheticClaim:
        return SyntheticClaim(
            external_id=external_id,
            policy_number=self.policy.number,
            loss_date=self.loss_date,
            reported_date=self.reported_date,
            amount_claimed=self.amount,
            currency=self.policy.currency,
            description=self.description,
            line_of_business=self.policy.line_of_business,
            peril=self.scenario.peril,
            route=self.route,
            suspicious=self.suspicious,
            red_flags=self.red_flags,
        )


@dataclass
class _Run:
    rng: random.Random
    start: date
    drafts: list[_Draft] = field(default_factory=list)
    policies: list[SyntheticPolicy] = field(default_factory=list)
    # Policies with exactly one claim, by product: a second claim on them is ordinary.
    reusable: dict[str, list[tuple[SyntheticPolicy, date]]] = field(default_factory=dict)
    pools: dict[tuple[bool, frozenset[str], str | None], tuple[list[Scenario], list[float]]] = field(
        default_factory=dict
    )
    serial: int = 0

    def __post_init__(self) -> None:
        self.serial = self.rng.randint(1_000, 400_000)

    def add_claim(self, room: int) -> None:
        """One claim, and the two earlier claims behind it when ``repeated_claims`` is planted."""
        rng = self.rng
        suspicious = rng.random() < SUSPICIOUS_RATE
        flags = self.draw_flags(suspicious, room)
        scenario = self.draw_scenario(flags, product=None, excluded=rng.random() < EXCLUDED_PERIL_RATE)
        if "repeated_claims" in flags:
            # 150 days into the policy and the claim period leave room for the two earlier claims.
            loss_date = self.start + timedelta(days=rng.randint(150, CLAIM_PERIOD_DAYS - 1))
            policy, amount = self.new_policy(scenario, flags, loss_date, rng.randint(150, 364))
            self.add_earlier_claims(scenario.product, policy, loss_date)
        else:
            found = None if flags else self.reuse_policy(scenario)
            if found is None:
                loss_date = self.start + timedelta(days=rng.randint(0, CLAIM_PERIOD_DAYS - 1))
                days_in = rng.randint(0, NEW_POLICY_DAYS) if "new_policy" in flags else rng.randint(15, 364)
                policy, amount = self.new_policy(scenario, flags, loss_date, days_in)
            else:
                policy, loss_date, amount = found
        self.add_draft(policy, scenario, loss_date, amount, flags, suspicious)

    def draw_flags(self, suspicious: bool, room: int) -> tuple[str, ...]:
        rng = self.rng
        if suspicious:
            weights, wanted = SUSPICIOUS_FLAG_WEIGHTS, _weighted(rng, FLAG_COUNT_WEIGHTS)
        elif rng.random() < INNOCENT_FLAG_RATE:
            weights, wanted = INNOCENT_FLAG_WEIGHTS, 1
        else:
            return ()
        flags: list[str] = []
        candidates = dict(weights)
        if room < 3:
            candidates.pop("repeated_claims", None)
        while len(flags) < wanted and candidates:
            flag = _weighted(rng, candidates)
            del candidates[flag]
            if not any(frozenset({flag, other}) in INCOMPATIBLE_FLAGS for other in flags):
                flags.append(flag)
        return tuple(sorted(flags, key=list(RED_FLAGS).index))

    def draw_scenario(self, flags: Sequence[str], *, product: str | None, excluded: bool) -> Scenario:
        key = (excluded, frozenset(flags), product)
        if key not in self.pools:
            pool = [s for s in SCENARIOS if s.excluded == excluded and _fits(s, flags, product)]
            self.pools[key] = (pool, list(accumulate(SCENARIO_WEIGHTS[s] for s in pool)))
        pool, cumulative = self.pools[key]
        return self.rng.choices(pool, cum_weights=cumulative)[0]

    def new_policy(
        self, scenario: Scenario, flags: Sequence[str], loss_date: date, days_in: int
    ) -> tuple[SyntheticPolicy, Decimal]:
        rng = self.rng
        product = PRODUCTS[scenario.product]
        limit, amount = _limit_and_amount(rng, product, scenario, "near_limit" in flags)
        effective_from = loss_date - timedelta(days=days_in)
        self.serial += rng.randint(1, 97)
        policy = SyntheticPolicy(
            number=f"{product.prefix}-{effective_from.year}-{self.serial:06d}",
            holder_name=_person(rng),
            line_of_business=product.line,
            effective_from=effective_from,
            effective_to=effective_from + timedelta(days=364),
            covered_perils=product.perils,
            exclusions=product.exclusions,
            limit=limit,
            deductible=Decimal(rng.choice(product.deductibles)).quantize(Decimal("0.01")),
            currency=_weighted(rng, CURRENCY_WEIGHTS),
        )
        self.policies.append(policy)
        if product.repeatable and "repeated_claims" not in flags:
            self.reusable.setdefault(scenario.product, []).append((policy, loss_date))
        return policy, amount

    def reuse_policy(self, scenario: Scenario) -> tuple[SyntheticPolicy, date, Decimal] | None:
        """A second claim on a policy with one claim, some weeks after the first, if the amount fits."""
        rng = self.rng
        candidates = self.reusable.get(scenario.product)
        if not candidates or scenario.amounts is None or rng.random() >= REUSE_POLICY_RATE:
            return None
        index = rng.randrange(len(candidates))
        policy, first_loss = candidates[index]
        second_loss = first_loss + timedelta(days=rng.randint(20, 300))
        amount = _draw_amount(rng, scenario.amounts)
        if second_loss > policy.effective_to or amount >= ORDINARY_LIMIT_SHARE * policy.limit:
            return None
        candidates.pop(index)
        return policy, second_loss, amount

    def add_earlier_claims(self, product: str, policy: SyntheticPolicy, loss_date: date) -> None:
        """Two ordinary claims on the policy, after its first two weeks and a week or more before."""
        earliest = max(policy.effective_from + timedelta(days=NEW_POLICY_DAYS + 1), self.start)
        span = (loss_date - timedelta(days=7) - earliest).days
        for offset in sorted(self.rng.sample(range(span + 1), 2)):
            scenario = self.draw_scenario((), product=product, excluded=False)
            assert scenario.amounts is not None, "a product's pool holds no benefit that pays the limit"
            amount = _draw_amount(self.rng, scenario.amounts)
            amount = min(amount, (policy.limit * ORDINARY_LIMIT_SHARE).quantize(Decimal("0.01")))
            self.add_draft(policy, scenario, earliest + timedelta(days=offset), amount, (), suspicious=False)

    def add_draft(
        self,
        policy: SyntheticPolicy,
        scenario: Scenario,
        loss_date: date,
        amount: Decimal,
        flags: tuple[str, ...],
        suspicious: bool,
    ) -> None:
        rng = self.rng
        delay = rng.randint(LATE_REPORTING_DAYS + 1, 150) if "late_reporting" in flags else _report_delay(rng)
        reported_date = loss_date + timedelta(days=delay)
        description = _describe(rng, policy, scenario, loss_date, reported_date, amount, flags)
        route = _noisy(rng, _rule_route(scenario, amount, flags, suspicious))
        self.drafts.append(
            _Draft(
                order=len(self.drafts),
                policy=policy,
                scenario=scenario,
                loss_date=loss_date,
                reported_date=reported_date,
                amount=amount,
                description=description,
                route=route,
                suspicious=suspicious,
                red_flags=flags,
            )
        )


def _scenario_weights() -> dict[Scenario, float]:
    """Each product's weight shared equally among its scenarios, covered and excluded alike."""
    per_product: dict[str, int] = {}
    for scenario in SCENARIOS:
        per_product[scenario.product] = per_product.get(scenario.product, 0) + 1
    return {s: PRODUCTS[s.product].weight / per_product[s.product] for s in SCENARIOS}


SCENARIO_WEIGHTS = _scenario_weights()


def _fits(scenario: Scenario, flags: Sequence[str], product: str | None) -> bool:
    if product is not None and (scenario.product != product or scenario.amounts is None):
        return False
    if "near_limit" in flags and (scenario.cue == "simple" or scenario.amounts is None):
        return False
    if "repeated_claims" in flags and not PRODUCTS[scenario.product].repeatable:
        return False
    return all(scenario.product in FLAG_PRODUCTS.get(flag, (scenario.product,)) for flag in flags)


def _rule_route(scenario: Scenario, amount: Decimal, flags: Sequence[str], suspicious: bool) -> str:
    if suspicious:
        return Route.SPECIAL_INVESTIGATION.value
    if scenario.cue in SPECIALIST_CUES or amount > LARGE_LOSS:
        return Route.SPECIALIST.value
    if scenario.cue == "simple" and amount < SMALL_CLAIM and not flags and not scenario.excluded:
        return Route.FAST_TRACK.value
    return Route.STANDARD.value


def _noisy(rng: random.Random, route: str) -> str:
    return rng.choice(NEIGHBOUR_ROUTES[route]) if rng.random() < LABEL_NOISE else route


def _limit_and_amount(
    rng: random.Random, product: Product, scenario: Scenario, near_limit: bool
) -> tuple[Decimal, Decimal]:
    """A limit and an amount that hold the near-limit rule: planted, or clearly not met."""
    if scenario.amounts is None:
        limit = Decimal(rng.choice(product.limits))
        return limit, limit
    if near_limit:
        limit = Decimal(rng.choice(product.limits))
        share = Decimal(str(round(rng.uniform(0.905, 0.995), 4)))
        return limit, (limit * share).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    amount = _draw_amount(rng, scenario.amounts)
    roomy = [limit for limit in product.limits if amount < ORDINARY_LIMIT_SHARE * limit]
    if roomy:
        return Decimal(rng.choice(roomy)), amount
    limit = Decimal(max(product.limits))
    share = Decimal(str(round(rng.uniform(0.5, float(ORDINARY_LIMIT_SHARE)), 4)))
    return limit, (limit * share).quantize(Decimal("0.01"))


def _draw_amount(rng: random.Random, bounds: tuple[int, int]) -> Decimal:
    """Log-uniform between the bounds: many small claims, a long tail of large ones."""
    low, high = bounds
    value = math.exp(rng.uniform(math.log(low), math.log(high)))
    if rng.random() < 0.5:
        return Decimal(round(value, -1)).quantize(Decimal("0.01"))
    return Decimal(str(round(value, 2))).quantize(Decimal("0.01"))


def _report_delay(rng: random.Random) -> int:
    return rng.choice((0, 0, 1, 1, 1, 2, 2, 3, 4, 5, 7, 10, 14, 21))


def _weighted(rng: random.Random, weights: dict[T, float]) -> T:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _describe(
    rng: random.Random,
    policy: SyntheticPolicy,
    scenario: Scenario,
    loss_date: date,
    reported_date: date,
    amount: Decimal,
    flags: Sequence[str],
) -> str:
    """Core story and loss date first, then text flags, then optional extras while under 6 sentences."""
    details = _Details(rng, holder=policy.holder_name, currency=policy.currency)
    core = rng.choice(scenario.templates).format_map(details)
    core, date_sentence = _with_loss_date(rng, core, loss_date, reported_date, "inconsistent_dates" in flags)
    lead = [core] if date_sentence is None else [core, date_sentence]
    if date_sentence is not None and rng.random() < 0.3:
        lead.reverse()
    required = [rng.choice(FLAG_SENTENCES[flag]) for flag in flags if flag in TEXT_FLAGS]
    optional = _optional_sentences(rng, details, policy, scenario, amount, flags)
    budget = MAX_SENTENCES - sum(_sentences(text) for text in lead)
    extras = (required + optional)[:budget]
    rng.shuffle(extras)
    text = " ".join([*lead, *extras])
    if _sentences(text) < 2:
        text += " " + rng.choice(SENTENCES["closing"])
    return text


def _optional_sentences(
    rng: random.Random,
    details: "_Details",
    policy: SyntheticPolicy,
    scenario: Scenario,
    amount: Decimal,
    flags: Sequence[str],
) -> list[str]:
    """Hints at structured flags, a witness, the amount, the policy number: each only sometimes."""
    optional = [
        rng.choice(FLAG_SENTENCES[flag])
        for flag in flags
        if flag in FLAG_SENTENCES and flag not in TEXT_FLAGS and rng.random() < 0.5
    ]
    if scenario.witnessed and "no_witnesses" not in flags and rng.random() < 0.3:
        optional.append(rng.choice(SENTENCES["witness"]).format_map(details))
    if rng.random() < 0.45:
        sentences = SENTENCES["benefit"] if scenario.amounts is None else _amount_sentences(scenario, flags)
        optional.append(rng.choice(sentences).format(amount=_amount_text(rng, amount, policy.currency)))
    if rng.random() < 0.35:
        optional.append(rng.choice(SENTENCES["policy"]).format(policy=policy.number))
    rng.shuffle(optional)
    return optional


def _amount_sentences(scenario: Scenario, flags: Sequence[str]) -> tuple[str, ...]:
    """A repair estimate only where something is repaired (not for a diagnosis, an injury or a car
    never found), an invoice only where one was paid by invoice. The lists are as long, so the
    draw, and every claim after it, is unchanged."""
    if "cash_only" in flags:
        return SENTENCES["amount_paid_in_cash"]
    repaired = (
        scenario.product in REPAIRED_PRODUCTS
        and scenario.cue not in SPECIALIST_CUES - {"dispute"}
        and scenario.peril not in STOLEN_PERILS
    )
    return SENTENCES["amount"] if repaired else SENTENCES["amount_not_repaired"]


def _sentences(text: str) -> int:
    return len(_SENTENCE_END.findall(text))


def _with_loss_date(
    rng: random.Random, core: str, loss_date: date, reported_date: date, inconsistent: bool
) -> tuple[str, str | None]:
    """The core text, with the loss date put in front of it, beside it as a sentence, or left out."""
    if inconsistent:
        wrong = loss_date + timedelta(days=rng.choice((-1, 1)) * rng.randint(2, 25))
        if rng.random() < 0.4:
            first, second = rng.sample([loss_date, wrong], 2)
            sentence = rng.choice(SENTENCES["conflicting_date"])
            return core, sentence.format(first=_dated(rng, first), second=_dated(rng, second))
        phrase, relative = _dated(rng, wrong), False
    elif rng.random() < 0.15:
        return core, None
    else:
        phrase, relative = _date_phrase(rng, loss_date, reported_date)
    if core.startswith(("I ", "My ", "We ", "Our ", "The ", "A ", "Someone ")) and rng.random() < 0.5:
        opening = phrase[0].upper() + phrase[1:] if relative else f"On {phrase}"
        return f"{opening}, {_lower_first(core)}", None
    sentence = rng.choice(SENTENCES["date"]).format(on="" if relative else "on ", date=phrase)
    return core, sentence


def _lower_first(text: str) -> str:
    return text if text.startswith(("I ", "I'")) else text[0].lower() + text[1:]


def _date_phrase(rng: random.Random, day: date, reported_date: date) -> tuple[str, bool]:
    """The loss date as people write it; relative phrases count back from the reported date."""
    delay = (reported_date - day).days
    if delay == 1 and rng.random() < 0.3:
        return "yesterday", True
    if delay == 2 and rng.random() < 0.1:
        return "the day before yesterday", True
    if 1 <= delay <= 7 and rng.random() < 0.06:
        return f"last {WEEKDAY_NAMES[day.weekday()]}", True
    month = MONTH_NAMES[day.month - 1]
    ordinal = f"{day.day}{_ordinal_suffix(day.day)}"
    formats = (
        f"{day.day} {month} {day.year}",
        f"{month} {day.day}, {day.year}",
        day.isoformat(),
        f"{day.month:02d}/{day.day:02d}/{day.year}",
        f"{month} {ordinal}",
        f"the {ordinal} of {month}",
        f"{day.day} {month[:3]} {day.year}",
    )
    return rng.choice(formats), False


def _dated(rng: random.Random, day: date) -> str:
    """A date with its year, for statements that must not depend on the reported date."""
    month = MONTH_NAMES[day.month - 1]
    formats = (
        f"{day.day} {month} {day.year}",
        f"{month} {day.day}, {day.year}",
        day.isoformat(),
        f"{day.month:02d}/{day.day:02d}/{day.year}",
    )
    return rng.choice(formats)


def _ordinal_suffix(day: int) -> str:
    if 10 <= day % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def _amount_text(rng: random.Random, amount: Decimal, currency: str) -> str:
    sign, word = CURRENCY_SIGNS[currency], CURRENCY_WORDS[currency]
    rounded = amount.quantize(Decimal("1E2") if amount >= 1_000 else Decimal("1E1"))
    styles = [
        f"{sign}{amount:,.2f}",
        f"about {sign}{rounded:,.0f}",
        f"{currency} {amount:,.2f}",
        f"{amount:,.2f} {currency}",
        f"around {rounded:,.0f} {word}",
    ]
    if amount >= 10_000:
        styles.append(f"about {round(amount / 1000)}k {word}")
    return rng.choice(styles)


def _person(rng: random.Random) -> str:
    return f"{rng.choice(WORDS['first_names'])} {rng.choice(WORDS['surnames'])}"


def _plate(rng: random.Random, currency: str) -> str:
    if currency == "GBP":
        letters = "".join(rng.choices(_LETTERS, k=5))
        return f"{letters[:2]}{rng.randint(10, 74)} {letters[2:]}"
    return f"{rng.randint(1, 9)}{''.join(rng.choices(_LETTERS, k=3))}{rng.randint(100, 999)}"


class _Details(dict[str, str]):
    """Template fillers drawn on first use, so a template pays only for the details it names."""

    def __init__(self, rng: random.Random, **fixed: str) -> None:
        super().__init__(fixed)
        self.rng = rng

    def __missing__(self, key: str) -> str:
        value = FILLERS[key](self)
        self[key] = value
        return value

    def car(self, key: str) -> str:
        """The claimant's car: "car" and "vehicle" name the same one, without and with its year."""
        make, model = self.rng.choice(CARS)
        self["car"] = f"{make} {model}"
        self["vehicle"] = f"{self.rng.randint(2008, 2024)} {make} {model}"
        return self[key]


def _choice(options: Sequence[str]) -> Callable[[_Details], str]:
    return lambda details: details.rng.choice(options)


FILLERS: dict[str, Callable[[_Details], str]] = {
    "car": lambda d: d.car("car"),
    "vehicle": lambda d: d.car("vehicle"),
    "car2": lambda d: " ".join(d.rng.choice(CARS)),
    "plate": lambda d: _plate(d.rng, d["currency"]),
    "road": _choice(WORDS["roads"]),
    "town": _choice(WORDS["towns"]),
    "address": lambda d: _address(d.rng),
    "room": _choice(WORDS["rooms"]),
    "other_driver": lambda d: _person(d.rng),
    "witness": lambda d: _person(d.rng),
    "neighbour": lambda d: d.rng.choice((f"Mrs {d.rng.choice(WORDS['surnames'])}", _person(d.rng))),
    "landlord": lambda d: d.rng.choice((f"Mr {d.rng.choice(WORDS['surnames'])}", _person(d.rng))),
    "garage": lambda d: d.rng.choice(
        (
            f"{d.rng.choice(WORDS['surnames'])} Motors",
            f"{d.rng.choice(WORDS['towns'])} Garage",
            f"{d.rng.choice(WORDS['surnames'])} & Sons Garage",
        )
    ),
    "hospital": lambda d: d.rng.choice(
        (
            f"St {d.rng.choice(WORDS['saints'])}'s Hospital",
            f"{d.rng.choice(WORDS['towns'])} General Hospital",
            "Mercy Hospital",
        )
    ),
    "clinic": lambda d: d.rng.choice(
        (f"{d.rng.choice(WORDS['towns'])} Clinic", "Riverside Clinic", "Parkview Clinic")
    ),
    "doctor": lambda d: f"Dr {d.rng.choice(WORDS['surnames'])}",
    "injury": _choice(WORDS["injuries"]),
    "injury2": _choice(WORDS["injuries"]),
    "items": _choice(WORDS["items"]),
    "procedure": _choice(WORDS["procedures"]),
    "illness": _choice(WORDS["illnesses"]),
    "relation": _choice(WORDS["relations"]),
    "destination": _choice(WORDS["destinations"]),
    "pet": _choice(WORDS["pet_names"]),
    "vet": lambda d: d.rng.choice(
        (f"{d.rng.choice(WORDS['towns'])} Veterinary Clinic", f"{d.rng.choice(WORDS['surnames'])} Vets")
    ),
    "care_home": _choice(WORDS["care_homes"]),
    "track": _choice(WORDS["tracks"]),
    "business": _choice(WORDS["businesses"]),
}


def _address(rng: random.Random) -> str:
    street = f"{rng.randint(1, 180)} {rng.choice(WORDS['street_names'])} {rng.choice(WORDS['street_types'])}"
    if rng.random() < 0.3:
        return f"Flat {rng.randint(1, 24)}, {street}"
    return street

"""Synthetic AML data: typology-labelled payment narratives, and transactions to screen with histories.

Everything made here is SYNTHETIC. No public data set of labelled bank narratives or of labelled
transactions exists, so the typology model's narratives and the combined risk score's fit are
written from templates; nothing here describes a real person, account or payment. Both functions
are seeded (`random.Random(seed)`, never the global random): the same count and seed give the same
output, in the same order; another seed gives mostly different texts.

Training, calibration and the benchmarks import this package when they build examples; serving
code never does. The narratives' templates, by typology and by ordinary topic, and the words that
fill their slots are data, in ``templates.json``; the rates, shapes and patterns below are code.

``narratives(count, seed)`` returns ``Example(text, label)`` pairs. Labels are
``aml.typology.TYPOLOGY_LABELS``: the 11 FinCEN-derived typologies and ``none``. The labels come in
a cycle of 13, each typology once and ``none`` twice (most real activity is ordinary), shuffled:
``none`` is 2/13 (about 15%) and each typology 1/13 (about 7.7%), exact to one example. A text is
what a payment reference, a SWIFT field 70, a transaction description or a teller's note looks like:
a template (mostly 4 to 25 words) whose slots are filled from vocabularies (names, companies,
places, goods, vessels, wallets, amounts, dates, invoice and reference numbers), then styled: 35%
abbreviated (INV, REF, PMT, ACCT, TRF...), 15% in capitals, 10% in lower case, 5% with a typo, and
5% of those longer than 35 characters cut at 35, the length of a SWIFT narrative line.

Each typology's templates carry the red-flag themes of FinCEN's advisories on it (elder: a
caregiver or new "friend", a grandchild's emergency, a dormant senior's account waking up, a power
of attorney; drug trafficking: bulk cash, funnel accounts, out-of-state deposits, precursor
chemicals; and so on). The sentences are written fresh: none is copied from an advisory. To make
the task hard, ordinary narratives share the suspicious ones' vocabulary (a consulting fee, rent, a
birthday gift, a bitcoin purchase on a regulated exchange, a shop's takings, a charity's appeal, a
trade invoice naming a listed country), and every typology has terse templates ("safe account",
"INV 2231") that hardly differ from ordinary ones.

``scenarios(count, seed)`` returns ``Scenario`` objects for fitting and measuring the combined risk
score: an unsaved ``Transaction`` to screen (ids set, on an unsaved ``Account`` of an unsaved
``Customer``), the customer's earlier transactions, whether it is suspicious, its typology and the
rule patterns planted. Every customer has 90 days of routine history ending 3 days before the
screened transaction: on about half the days a booking like an ordinary screened one (salary, rent,
card spend, savings, cash machines; or invoices in and out and shop takings for a business). It is
a quiet baseline that by itself crosses none of the shipped rules (``aml/migrations/0003_rules.py``,
whose thresholds the patterns below are drawn from).

Half the scenarios (rounded) are suspicious, their typologies taking turns, shuffled. Of those,
40% plant rule patterns and carry a narrative of their typology, 30% plant patterns behind a bland
ordinary narrative, and 30% show it only in the narrative. A planting scenario plants 1 (60%), 2
(30%) or 3 (10%) patterns from its typology's list, its usual one first 70% of the time:

- ``structuring``: 2 to 4 earlier cash deposits and the screened one, each within 10% under the
  threshold, in the last 7 days;
- ``rapid_movement``: 1 to 3 incoming wires of 6,000 or more in the last 46 hours, and the screened
  transaction sends 82% to 99% of what came in back out;
- ``high_risk_jurisdiction``: the counterparty is in a listed country that fits the typology;
- ``round_amount``: the screened amount is an exact multiple of 1,000, 5,000 or more;
- ``velocity``: 4 to 8 transactions in the 23 hours before the screened one.

Of the ordinary half, 35% have an innocent trigger, with an ordinary narrative: a round amount
(35%: a car, a flat's deposit, a car sold for cash), a listed country (20%: a trade invoice from
Vietnam, money home to Nepal), money passed on within two days (20%: a bonus to savings, a house
deposit to the solicitor), a busy day of card spend (15%), or a shop's takings banked just under
the threshold three times a week (10%). So neither the rules nor the text separate the classes by
themselves. Amounts are ``Decimal`` with 2 places in the account's currency (EUR, GBP or USD, by
the customer's country); times are UTC, the screened transaction between April and December 2026.
3% of the screened narratives that carry no typology are empty, as card and cash bookings often are.
"""

from __future__ import annotations

import importlib
import itertools
import json
import math
import random
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import NamedTuple, TypeVar

from aml.models import (
    Account,
    AccountKind,
    Channel,
    Customer,
    CustomerKind,
    Direction,
    RiskRating,
    Transaction,
)
from aml.typology import LABELS, NONE
from assistant.training.registry import Example

T = TypeVar("T")

IN, OUT = Direction.IN.value, Direction.OUT.value
CASH, WIRE, CARD, ACH, CRYPTO, CHEQUE = (c.value for c in Channel)
PERSON, BUSINESS = CustomerKind.INDIVIDUAL.value, CustomerKind.BUSINESS.value

SHIPPED = {
    row["code"]: row["parameters"] for row in importlib.import_module("aml.migrations.0003_rules").RULES
}
THRESHOLD = Decimal(SHIPPED["structuring"]["threshold"])
FLOOR = THRESHOLD * (1 - Decimal(str(SHIPPED["structuring"]["margin"])))
STRUCTURING_DAYS = SHIPPED["structuring"]["window_days"]
RAPID_HOURS = SHIPPED["rapid_movement"]["window_hours"]
RAPID_SHARE = Decimal(str(SHIPPED["rapid_movement"]["share"]))
RAPID_MIN = Decimal(SHIPPED["rapid_movement"]["min_amount"])
ROUND_MIN = Decimal(SHIPPED["round_amount"]["min_amount"])
ROUND_MULTIPLE = Decimal(SHIPPED["round_amount"]["multiple"])
VELOCITY_HOURS = SHIPPED["velocity"]["window_hours"]
HIGH_RISK = tuple(SHIPPED["high_risk_jurisdiction"]["countries"])

NONE_WEIGHT = 2
LABEL_CYCLE = (*LABELS, *(NONE,) * NONE_WEIGHT)
ABBREVIATE_RATE, CAPS_RATE, LOWER_RATE, TYPO_RATE, TRUNCATE_RATE = 0.35, 0.15, 0.10, 0.05, 0.05
SWIFT_LINE = 35
WHOLE_SHARE = 0.25  # amounts keyed in as whole tens or hundreds

SUSPICIOUS_SHARE = 0.5
SUSPICIOUS_MODES = {"both": 0.4, "pattern": 0.3, "narrative": 0.3}
PATTERN_COUNTS = {1: 0.6, 2: 0.3, 3: 0.1}
USUAL_PATTERN_SHARE = 0.7
INNOCENT_SHARE = 0.35
INNOCENT_TRIGGERS = {
    "round_amount": 0.35,
    "high_risk_jurisdiction": 0.2,
    "rapid_movement": 0.2,
    "velocity": 0.15,
    "structuring": 0.1,
}
EMPTY_NARRATIVE_SHARE = 0.03
HISTORY_DAYS = 90
ROUTINE_DAILY = 0.5  # a day's chance of a routine booking: a baseline the velocity rule finds quiet
COMPANY_SHARE = 0.5  # of wire, ACH and cheque counterparties
# Drawn apart from the label, so that a customer's rating is no shortcut to the answer.
RISK_RATINGS = {RiskRating.LOW.value: 0.7, RiskRating.MEDIUM.value: 0.25, RiskRating.HIGH.value: 0.05}
QUIET = timedelta(days=3)
EPOCH = datetime(2026, 4, 1, tzinfo=UTC)
PERIOD_DAYS = 260
CENT = Decimal("0.01")

# The typology's usual pattern first. Structuring plants a cash deposit: of the others, only velocity
# goes with it (the rest want money out, a counterparty abroad or a round sum).
PATTERNS: dict[str, tuple[str, ...]] = {
    "elder_exploitation": ("rapid_movement", "round_amount", "velocity"),
    "human_trafficking": ("velocity", "round_amount", "rapid_movement", "high_risk_jurisdiction"),
    "high_risk_jurisdiction": ("high_risk_jurisdiction", "round_amount", "rapid_movement"),
    "terrorist_financing": ("high_risk_jurisdiction", "velocity", "round_amount", "rapid_movement"),
    "cybercrime": ("rapid_movement", "velocity", "round_amount"),
    "drug_trafficking": ("structuring", "rapid_movement", "velocity", "high_risk_jurisdiction"),
    "trade_based_laundering": ("high_risk_jurisdiction", "round_amount", "rapid_movement"),
    "sanctions_evasion": ("high_risk_jurisdiction", "round_amount", "rapid_movement"),
    "corruption": ("round_amount", "high_risk_jurisdiction", "rapid_movement"),
    "fraud": ("rapid_movement", "velocity", "round_amount", "high_risk_jurisdiction"),
    "structuring": ("structuring", "velocity"),
}
ALWAYS_USUAL = frozenset({"structuring", "high_risk_jurisdiction"})
NOT_WITH_STRUCTURING = frozenset({"rapid_movement", "high_risk_jurisdiction", "round_amount"})


def _listed(*codes: str) -> tuple[str, ...]:
    return tuple(code for code in codes if code in HIGH_RISK) or HIGH_RISK


LISTED: dict[str, tuple[str, ...]] = {
    "sanctions_evasion": _listed("IR", "KP", "SY", "MM"),
    "terrorist_financing": _listed("SY", "YE", "LB", "SS"),
    "corruption": _listed("VE", "AO", "CD", "VG"),
    "trade_based_laundering": _listed("VN", "LA", "VG", "HT"),
    "drug_trafficking": _listed("VE", "BO", "HT"),
    "human_trafficking": _listed("LA", "NP", "VN", "MM"),
    "fraud": _listed("CI", "CM", "KE"),
    NONE: _listed("VN", "KE", "BG", "MC", "NA", "NP"),
}

# Velocity bursts: direction, channel, amount range. Incoming ones are capped so that a whole burst
# stays under the rapid-movement minimum: a burst alone never makes money out look passed through.
BURSTS: dict[str, tuple[str, str, float, float]] = {
    NONE: (OUT, CARD, 5, 250),
    "human_trafficking": (OUT, CARD, 15, 180),
    "terrorist_financing": (IN, WIRE, 20, 500),
    "fraud": (IN, WIRE, 50, 600),
    "drug_trafficking": (IN, CASH, 100, 600),
    "structuring": (IN, CASH, 100, 600),
}
DEFAULT_BURST = (OUT, WIRE, 100, 1500)
BURST_SIZE = (4, 8)
MAX_BURST_IN = float(RAPID_MIN) / (BURST_SIZE[1] + 1)


_TEMPLATES: dict[str, dict[str, list[str]]] = json.loads(
    (Path(__file__).resolve().parent / "templates.json").read_text(encoding="utf-8")
)
SUSPICIOUS: dict[str, tuple[str, ...]] = {label: tuple(t) for label, t in _TEMPLATES["suspicious"].items()}
ORDINARY: dict[str, tuple[str, ...]] = {topic: tuple(t) for topic, t in _TEMPLATES["ordinary"].items()}
ALL_ORDINARY = tuple(itertools.chain.from_iterable(ORDINARY.values()))
WORDS: dict[str, tuple[str, ...]] = {slot: tuple(words) for slot, words in _TEMPLATES["words"].items()}
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")  # fmt: skip
BASE32 = "abcdefghjkmnpqrstuvwxyz023456789"

Slot = Callable[[random.Random], str]


def _person(rng: random.Random) -> str:
    first, last = rng.choice(WORDS["first"]), rng.choice(WORDS["last"])
    return rng.choice(
        (f"{first} {last}", f"{last} {first}", f"{first[0]}. {last}", f"{last.upper()} {first}")
    )


def _company(rng: random.Random) -> str:
    return f"{rng.choice(WORDS['stem'])} {rng.choice(WORDS['suffix'])}"


def _amount_text(rng: random.Random, amount: Decimal, currency: str | None = None) -> str:
    whole, currency = int(amount), currency or rng.choice(("EUR", "USD", "GBP"))
    return rng.choice((
        f"{whole:,}", f"{amount:,.2f}", f"{whole}", f"{currency} {whole:,}", f"{currency} {amount:,.2f}",
        f"{whole / 1000:.1f}k" if whole >= 1000 else f"{whole}", f"{currency}{whole}",
    ))  # fmt: skip


def _month(rng: random.Random) -> str:
    number = rng.randrange(12)
    name = MONTHS[number]
    return rng.choice((name, name[:3].upper(), name[:3], f"{number + 1:02d}/26", f"{name} 2026"))


def _date(rng: random.Random) -> str:
    day = date(2026, 1, 1) + timedelta(days=rng.randrange(365))
    return rng.choice((
        f"{day:%d/%m}", f"{day:%d%b}".upper(), f"{day:%d.%m.%y}", day.isoformat(), f"{day:%d %b}",
    ))  # fmt: skip


def _reference(rng: random.Random) -> str:
    digits = str(rng.randrange(10**4, 10**8))
    return rng.choice((digits, f"RF{rng.randint(10, 99)}{digits}", f"{rng.choice('ABKXZ')}{digits[:5]}"))


def _invoice(rng: random.Random) -> str:
    number = rng.randint(100, 9999)
    return rng.choice((str(number), f"INV-2026-{number:04d}", f"A-{number}", f"26/{number % 1000:03d}"))


def _wallet(rng: random.Random) -> str:
    return rng.choice((
        "bc1q" + "".join(rng.choices(BASE32, k=10)),
        "0x" + "".join(rng.choices("0123456789abcdef", k=10)),
        "T" + "".join(rng.choices(BASE32.upper(), k=10)),
    ))  # fmt: skip


def _unit(rng: random.Random) -> str:
    return rng.choice((f"flat {rng.randint(1, 40)}{rng.choice('ABCD')}", f"unit {rng.randint(1, 60)}"))


def _choice(options: Sequence[str]) -> Slot:
    return lambda rng: rng.choice(options)


def _container(rng: random.Random) -> str:
    return "".join(rng.choices("ABCDEFGHMNOSTUXZ", k=3)) + "U" + str(rng.randrange(10**6, 10**7))


SLOTS: dict[str, Slot] = {
    **{key: _choice(options) for key, options in WORDS.items()},
    "name": _person,
    "company": _company,
    "amt": lambda rng: _amount_text(rng, Decimal(rng.randint(200, 25_000))),
    "under": lambda rng: _amount_text(rng, _just_under(rng)),
    "month": _month,
    "date": _date,
    "ref": _reference,
    "inv": _invoice,
    "wallet": _wallet,
    "unit": _unit,
    "container": _container,
    "n": lambda rng: str(rng.randint(2, 9)),
    "q": lambda rng: str(rng.randint(1, 4)),
}
SLOT = re.compile(r"\{([a-z]+)\d*\}")
ABBREVIATIONS = {
    "invoice": "INV", "reference": "REF", "payment": "PMT", "account": "ACCT", "transfer": "TRF",
    "deposit": "DEP", "international": "INTL", "customer": "CUST", "limited": "LTD", "number": "NO",
}  # fmt: skip
ABBREVIATION = re.compile(rf"\b({'|'.join(ABBREVIATIONS)})\b", re.IGNORECASE)


def _fill(rng: random.Random, template: str, preset: dict[str, str] | None = None) -> str:
    values = dict(preset or {})

    def value(match: re.Match[str]) -> str:
        key = match.group(0)[1:-1]
        if key not in values:
            values[key] = SLOTS[match.group(1)](rng)
        return values[key]

    return SLOT.sub(value, template)


def _typo(rng: random.Random, text: str) -> str:
    words = text.split(" ")
    long_words = [i for i, word in enumerate(words) if len(word) >= 5 and word.isalpha()]
    if not long_words:
        return text
    i = rng.choice(long_words)
    word, at = words[i], rng.randrange(1, len(words[i]) - 2)
    words[i] = rng.choice((word[:at] + word[at + 1] + word[at] + word[at + 2 :], word[:at] + word[at + 1 :]))
    return " ".join(words)


def _styled(rng: random.Random, text: str) -> str:
    """As keyed into a core banking system: abbreviated, capitalised, mistyped or cut at a line."""
    if rng.random() < ABBREVIATE_RATE:
        text = ABBREVIATION.sub(lambda match: ABBREVIATIONS[match.group(0).lower()], text)
    if rng.random() < TYPO_RATE:
        text = _typo(rng, text)
    case = rng.random()
    if case < CAPS_RATE:
        text = text.upper()
    elif case < CAPS_RATE + LOWER_RATE:
        text = text.lower()
    if len(text) > SWIFT_LINE and rng.random() < TRUNCATE_RATE:
        text = text[:SWIFT_LINE].rstrip(" ,")
    return text


def _narrative(
    rng: random.Random, label: str, topic: str | None = None, booking: _Booking | None = None
) -> str:
    """A narrative of the label; for a booking, one whose amount, if it names one, is the booking's."""
    templates = SUSPICIOUS[label] if label != NONE else ORDINARY[topic] if topic else ALL_ORDINARY
    template, preset = rng.choice(templates), None
    if booking is not None:
        template = template.replace("{under}", "{amt}")
        preset = {"amt": _amount_text(rng, booking.amount, booking.currency)}
    return _styled(rng, _fill(rng, template, preset))


def narratives(count: int, seed: int) -> list[Example]:
    """``count`` synthetic payment narratives labelled with a typology or ``none``, balanced."""
    if count < 0:
        raise ValueError("count must not be negative")
    rng = random.Random(seed)
    labels = [LABEL_CYCLE[i % len(LABEL_CYCLE)] for i in range(count)]
    rng.shuffle(labels)
    return [Example(_narrative(rng, label), label) for label in labels]


@dataclass(frozen=True)
class Scenario:
    transaction: Transaction  # unsaved, ids set, on an unsaved account of an unsaved customer
    history: list[Transaction]  # the customer's earlier transactions, by booked_at
    suspicious: bool
    typology: str  # a TYPOLOGY_LABELS value; NONE when ordinary
    planted: tuple[str, ...]  # rule codes the generator meant to fire (innocent ones when ordinary)


class _Shape(NamedTuple):
    """What a transaction looks like before rule patterns are planted on it."""

    direction: str
    channel: str
    low: float
    high: float
    countries: tuple[str, ...]  # HOME: the customer's country; ignored for cash
    topic: str  # of the ordinary narrative it gets when its narrative is bland or routine
    kind: str  # the customer's


@dataclass
class _Booking:
    booked_at: datetime
    amount: Decimal
    direction: str
    channel: str
    country: str
    narrative: str
    currency: str = ""


HOME = "home"
CURRENCIES = {"GB": "GBP", "IE": "EUR", "DE": "EUR", "FR": "EUR", "NL": "EUR", "ES": "EUR", "US": "USD"}
NEARBY = (HOME, "DE", "FR", "NL", "GB", "ES", "IT", "US", "PL", "CH")
OFFSHORE = ("AE", "TR", "HK", "CY", "SG", "PA")
S = _Shape
SHAPES: dict[str, tuple[_Shape, ...]] = {
    "elder_exploitation": (
        S(OUT, WIRE, 900, 4900, (HOME, "ES", "GB", "US"), "household", PERSON),
        S(OUT, CASH, 300, 4800, (), "cash", PERSON),
        S(OUT, CHEQUE, 500, 4900, (HOME,), "household", PERSON),
    ),
    "human_trafficking": (
        S(OUT, CARD, 15, 400, (HOME,), "card", PERSON),
        S(IN, CASH, 600, 4800, (), "cash", BUSINESS),
        S(OUT, WIRE, 700, 3900, (HOME,), "household", PERSON),
    ),
    "high_risk_jurisdiction": (
        S(OUT, WIRE, 2000, 45000, OFFSHORE, "trade", BUSINESS),
        S(IN, WIRE, 2000, 45000, OFFSHORE, "trade", BUSINESS),
        S(OUT, WIRE, 500, 4900, OFFSHORE, "household", PERSON),
    ),
    "terrorist_financing": (
        S(OUT, WIRE, 100, 3000, ("TR", "JO", HOME), "household", PERSON),
        S(IN, WIRE, 50, 900, (HOME, "GB", "DE"), "household", PERSON),
        S(OUT, CRYPTO, 100, 2500, ("",), "savings", PERSON),
    ),
    "cybercrime": (
        S(OUT, CRYPTO, 500, 20000, ("",), "savings", PERSON),
        S(OUT, WIRE, 800, 15000, (HOME, "HK", "LT"), "savings", PERSON),
        S(OUT, CRYPTO, 2000, 60000, ("",), "trade", BUSINESS),
    ),
    "drug_trafficking": (
        S(IN, CASH, 2000, 8900, (), "cash", PERSON),
        S(IN, CASH, 3000, 8900, (), "cash", BUSINESS),
        S(OUT, WIRE, 1500, 25000, ("CN", "HK", "MX"), "trade", BUSINESS),
    ),
    "trade_based_laundering": (
        S(OUT, WIRE, 8000, 120000, ("CN", "HK", "AE", "TR", "PA"), "trade", BUSINESS),
        S(IN, WIRE, 8000, 120000, ("AE", "HK", "PA", "CO"), "trade", BUSINESS),
    ),
    "sanctions_evasion": (
        S(OUT, WIRE, 5000, 150000, ("AE", "TR", "HK", "AM", "KG", "CN"), "trade", BUSINESS),
        S(IN, WIRE, 5000, 90000, ("AE", "TR", "HK"), "trade", BUSINESS),
    ),
    "corruption": (
        S(IN, WIRE, 10000, 250000, ("CY", "CH", "AE", "PA", "GB"), "trade", BUSINESS),
        S(OUT, WIRE, 10000, 250000, ("CY", "AE", "PA", "CH"), "trade", PERSON),
        S(OUT, WIRE, 20000, 200000, (HOME, "ES", "FR"), "purchase", PERSON),
    ),
    "fraud": (
        S(OUT, WIRE, 1000, 30000, (HOME, "GB", "HK", "LT", "PL"), "trade", PERSON),
        S(OUT, WIRE, 500, 9000, (HOME, "GH", "NG", "TR"), "household", PERSON),
        S(OUT, CRYPTO, 500, 15000, ("",), "savings", PERSON),
        S(IN, WIRE, 800, 4800, (HOME,), "household", PERSON),
    ),
    "structuring": (
        S(IN, CASH, 9000, 9940, (), "cash", PERSON),
        S(IN, CASH, 9000, 9940, (), "cash", BUSINESS),
    ),
}

ORDINARY_SHAPES = (
    S(OUT, CARD, 4, 250, (HOME,), "card", PERSON),
    S(OUT, CARD, 4, 250, NEARBY, "card", PERSON),
    S(OUT, WIRE, 300, 2400, (HOME,), "household", PERSON),
    S(IN, ACH, 1800, 4900, (HOME,), "household", PERSON),
    S(OUT, WIRE, 50, 4900, (HOME,), "savings", PERSON),
    S(OUT, CRYPTO, 50, 3000, ("",), "savings", PERSON),
    S(OUT, WIRE, 200, 4900, (HOME,), "purchase", PERSON),
    S(IN, WIRE, 500, 40000, NEARBY, "trade", BUSINESS),
    S(OUT, WIRE, 500, 40000, NEARBY, "trade", BUSINESS),
    S(IN, CASH, 200, 4800, (), "cash", BUSINESS),
    S(OUT, CASH, 20, 400, (), "household", PERSON),
)
# Where a planted pattern sets the amount (round, rapid), the shape's range is unused: 0 to 0.
INNOCENT_SHAPES: dict[str, tuple[_Shape, ...]] = {
    "round_amount": (
        S(OUT, WIRE, 0, 0, (HOME,), "purchase", PERSON),
        S(IN, CASH, 0, 0, (), "cash", PERSON),
        S(OUT, WIRE, 0, 0, NEARBY, "trade", BUSINESS),
    ),
    "high_risk_jurisdiction": (
        S(OUT, WIRE, 800, 30000, (), "trade", BUSINESS),
        S(IN, WIRE, 800, 30000, (), "trade", BUSINESS),
        S(OUT, WIRE, 100, 900, (), "household", PERSON),
    ),
    "rapid_movement": (
        S(OUT, WIRE, 0, 0, (HOME,), "savings", PERSON),
        S(OUT, WIRE, 0, 0, (HOME,), "purchase", PERSON),
    ),
    "velocity": (S(OUT, CARD, 5, 250, (HOME,), "card", PERSON), S(OUT, CARD, 5, 250, NEARBY, "card", PERSON)),
    "structuring": (S(IN, CASH, 9000, 9940, (), "cash", BUSINESS),),
}


def _country(rng: random.Random, shape: _Shape) -> str:
    """A counterparty country of the shape's that is not on the high-risk list; none for cash."""
    if shape.channel == CASH:
        return ""
    return rng.choice([c for c in shape.countries if c not in HIGH_RISK] or [HOME])


def _weighted(rng: random.Random, weights: dict[T, float]) -> T:
    return rng.choices(list(weights), list(weights.values()))[0]


def _draw(rng: random.Random, low: float, high: float) -> Decimal:
    value = rng.uniform(low, high)
    if rng.random() < WHOLE_SHARE:
        step = 10 if value < 1000 else 100
        value = max(step, round(value / step) * step)
    return Decimal(f"{value:.2f}")


def _not_round(amount: Decimal) -> Decimal:
    return amount + 50 if amount >= ROUND_MIN and amount % ROUND_MULTIPLE == 0 else amount


def _just_under(rng: random.Random) -> Decimal:
    """A cash deposit within the structuring margin under the threshold, never a round thousand."""
    if rng.random() < WHOLE_SHARE:
        return Decimal(rng.randrange(int(FLOOR) + 100, int(THRESHOLD), 100)).quantize(CENT)
    return (Decimal(rng.randint(int(FLOOR * 100) + 1, int(THRESHOLD * 100) - 1)) / 100).quantize(CENT)


def _round(rng: random.Random, kind: str) -> Decimal:
    least = math.ceil(ROUND_MIN / ROUND_MULTIPLE)
    return (ROUND_MULTIPLE * rng.randint(least, least * (30 if kind == BUSINESS else 8))).quantize(CENT)


def _patterns(rng: random.Random, typology: str) -> tuple[str, ...]:
    usual, *others = PATTERNS[typology]
    first = usual if typology in ALWAYS_USUAL or rng.random() < USUAL_PATTERN_SHARE else rng.choice(others)
    chosen = [first]
    wanted = _weighted(rng, PATTERN_COUNTS)
    for code in rng.sample(PATTERNS[typology], len(PATTERNS[typology])):
        clash = "structuring" in (code, *chosen) and bool(NOT_WITH_STRUCTURING & {code, *chosen})
        if len(chosen) < wanted and code not in chosen and not clash:
            chosen.append(code)
    return tuple(sorted(chosen))


def _routine(rng: random.Random, kind: str, now: datetime) -> list[_Booking]:
    """A quiet baseline: ordinary bookings on about half of HISTORY_DAYS days, ending QUIET before `now`."""
    shapes = [shape for shape in ORDINARY_SHAPES if shape.kind == kind]
    bookings = []
    for back in range(HISTORY_DAYS, 0, -1):
        at = now - timedelta(days=back, hours=rng.uniform(-6, 6))
        if at < now - QUIET and rng.random() < ROUTINE_DAILY:
            shape = rng.choice(shapes)
            amount, narrative = _draw(rng, shape.low, shape.high), _narrative(rng, NONE, shape.topic)
            bookings.append(
                _Booking(at, amount, shape.direction, shape.channel, _country(rng, shape), narrative)
            )
    return bookings


def _extras(
    rng: random.Random, typology: str, planted: Sequence[str], now: datetime, kind: str
) -> list[_Booking]:
    """The earlier transactions a planted pattern needs, with ordinary narratives."""
    extras = []

    def before(hours: float, least: float = 0.1) -> datetime:
        return now - timedelta(hours=rng.uniform(least, hours))

    if "structuring" in planted:
        for _ in range(rng.randint(2, 3 if typology == NONE else 4)):
            at = before(STRUCTURING_DAYS * 24 - 5, 1)
            extras.append(_Booking(at, _just_under(rng), IN, CASH, "", _narrative(rng, NONE, "cash")))
    if "rapid_movement" in planted:
        received = _draw(rng, float(RAPID_MIN) * 1.2, 150_000 if kind == BUSINESS else 45_000)
        parts = rng.randint(1, 3) if typology != NONE else 1
        shares = sorted(rng.uniform(0.2, 1) for _ in range(parts))
        for share in shares:
            amount = (received * Decimal(f"{share / sum(shares):.4f}")).quantize(CENT)
            topic = "trade" if kind == BUSINESS else "household"
            extras.append(
                _Booking(before(RAPID_HOURS - 2, 0.5), amount, IN, WIRE, HOME, _narrative(rng, NONE, topic))
            )
    if "velocity" in planted:
        direction, channel, low, high = BURSTS.get(typology, DEFAULT_BURST)
        for _ in range(rng.randint(*BURST_SIZE)):
            amount = _draw(rng, low, min(high, MAX_BURST_IN) if direction == IN else high)
            topic = {CARD: "card", CASH: "cash"}.get(channel, "household")
            country = "" if channel == CASH else HOME
            at = before(VELOCITY_HOURS - 1)
            extras.append(_Booking(at, amount, direction, channel, country, _narrative(rng, NONE, topic)))
    return extras


def _screened(
    rng: random.Random,
    typology: str,
    shape: _Shape,
    planted: Sequence[str],
    history: Sequence[_Booking],
    now: datetime,
) -> _Booking:
    direction, channel = shape.direction, shape.channel
    if "structuring" in planted:
        direction, channel = IN, CASH
    if "rapid_movement" in planted:
        direction, channel = OUT, (WIRE if channel in (CASH, CARD) else channel)
    if "high_risk_jurisdiction" in planted and channel == CASH:
        channel = WIRE
    if "rapid_movement" in planted:
        window = now - timedelta(hours=RAPID_HOURS)
        received = sum((b.amount for b in history if b.direction == IN and b.booked_at >= window), Decimal(0))
        share = RAPID_SHARE + Decimal("0.02")
        if "round_amount" in planted:
            amount = (math.ceil(received * share / ROUND_MULTIPLE) * ROUND_MULTIPLE).quantize(CENT)
        else:
            share += Decimal(f"{rng.uniform(0, 0.17):.3f}")
            amount = _not_round((received * share).quantize(CENT, ROUND_DOWN))
    elif "round_amount" in planted:
        amount = _round(rng, shape.kind)
    elif "structuring" in planted:
        amount = _just_under(rng)
    else:
        amount = _not_round(_draw(rng, shape.low, shape.high))
    if "high_risk_jurisdiction" in planted:
        country = rng.choice(LISTED.get(typology, HIGH_RISK))
    else:
        country = _country(rng, shape._replace(channel=channel))
    return _Booking(now, amount, direction, channel, country, "")


def _counterparty(rng: random.Random, channel: str, country: str) -> tuple[str, str]:
    """The counterparty's name and account: none for cash or a card merchant, a wallet for crypto."""
    if channel == CASH:
        return f"CASH {rng.choice(WORDS['branch']).upper()} BRANCH", ""
    if channel == CARD:
        return rng.choice(WORDS["merchant"]), ""
    if channel == CRYPTO:
        return rng.choice((*WORDS["exchange"], "self-hosted wallet")), _wallet(rng)
    name = _company(rng) if rng.random() < COMPANY_SHARE else _person(rng)
    return name, f"{country}{rng.randint(10, 99)}{rng.randrange(10**13, 10**14)}"


def _transaction(rng: random.Random, booking: _Booking, account: Account, pk: int, seed: int) -> Transaction:
    country = account.customer.country if booking.country == HOME else booking.country
    name, number = _counterparty(rng, booking.channel, country or account.customer.country)
    return Transaction(
        id=pk,
        account=account,
        external_id=f"SYN-{seed}-{pk}",
        amount=booking.amount,
        currency=account.currency,
        direction=booking.direction,
        counterparty_name=name,
        counterparty_account=number,
        counterparty_country=country,
        channel=booking.channel,
        booked_at=booking.booked_at,
        narrative=booking.narrative,
    )


def _account(rng: random.Random, kind: str, ids: Iterator[int], seed: int) -> Account:
    country = rng.choice(tuple(CURRENCIES))
    customer_id, account_id = next(ids), next(ids)
    onboarded = date(2015, 1, 1) + timedelta(days=rng.randrange(3900))
    customer = Customer(
        id=customer_id,
        reference=f"SYN-{seed}-C{customer_id}",
        name=_company(rng) if kind == BUSINESS else _person(rng),
        kind=kind,
        country=country,
        risk_rating=_weighted(rng, RISK_RATINGS),
        onboarded_on=onboarded,
    )
    return Account(
        id=account_id,
        customer=customer,
        number=f"{country}{rng.randint(10, 99)}SYNT{account_id:014d}",
        currency=CURRENCIES[country],
        opened_on=onboarded + timedelta(days=rng.randrange(30)),
        kind=AccountKind.BUSINESS if kind == BUSINESS else AccountKind.CURRENT,
    )


def _scenario(rng: random.Random, typology: str, ids: Iterator[int], seed: int) -> Scenario:
    mode = "ordinary"
    if typology != NONE:
        mode = _weighted(rng, SUSPICIOUS_MODES)
        planted = _patterns(rng, typology) if mode != "narrative" else ()
        shape = rng.choice(SHAPES[typology])
    elif rng.random() < INNOCENT_SHARE:
        trigger = _weighted(rng, INNOCENT_TRIGGERS)
        planted, shape = (trigger,), rng.choice(INNOCENT_SHAPES[trigger])
    else:
        planted, shape = (), rng.choice(ORDINARY_SHAPES)
    account = _account(rng, shape.kind, ids, seed)
    now = EPOCH + timedelta(days=rng.randrange(PERIOD_DAYS), hours=rng.uniform(7, 21))
    bookings = _routine(rng, shape.kind, now) + _extras(rng, typology, planted, now, shape.kind)
    bookings.sort(key=lambda b: b.booked_at)
    screened = _screened(rng, typology, shape, planted, bookings, now)
    topic = shape.topic
    if screened.channel != shape.channel:
        topic = "cash" if screened.channel == CASH else ("trade" if shape.kind == BUSINESS else "household")
    screened.currency = account.currency
    if mode in ("both", "narrative"):
        screened.narrative = _narrative(rng, typology, booking=screened)
    elif rng.random() >= EMPTY_NARRATIVE_SHARE:
        screened.narrative = _narrative(rng, NONE, topic, screened)
    history = [_transaction(rng, b, account, next(ids), seed) for b in bookings]
    transaction = _transaction(rng, screened, account, next(ids), seed)
    return Scenario(transaction, history, typology != NONE, typology, planted)


def scenarios(count: int, seed: int) -> list[Scenario]:
    """``count`` synthetic transactions to screen with their histories, about half suspicious."""
    if count < 0:
        raise ValueError("count must not be negative")
    rng = random.Random(seed)
    suspicious = round(count * SUSPICIOUS_SHARE)
    typologies = [LABELS[i % len(LABELS)] for i in range(suspicious)] + [NONE] * (count - suspicious)
    rng.shuffle(typologies)
    ids = itertools.count(1)
    return [_scenario(rng, typology, ids, seed) for typology in typologies]

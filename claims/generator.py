"""Synthetic insurance claims with policies, routing labels and planted red flags.

The claims made here are SYNTHETIC. No public data set of labelled insurance-claims text exists,
so the claims triage models are trained and evaluated on text written from templates. Nothing
here describes a real person, policy or event. ``generate`` is seeded and reproducible: the same
``count``, ``seed`` and ``start`` give the same policies and claims, in the same order.

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

import math
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from itertools import accumulate
from typing import TypeVar

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


SCENARIOS = (
    # auto
    Scenario(
        "auto",
        "glass",
        "simple",
        (90, 1_100),
        (
            "I noticed a windscreen chip after a stone flew up from a lorry on {road}. "
            "It's about the size of a coin and I'd like it repaired before it spreads.",
            "There's a crack spreading across the windscreen of my {car}; it started as a "
            "small chip on {road}.",
            "PH reports a windscreen chip on the {vehicle}, reg {plate}. Wants a repair booked at {garage}.",
            "Someone smashed the side window of my {car} while it was parked outside my work. "
            "Nothing was taken, just the glass needs replacing.",
        ),
    ),
    Scenario(
        "auto",
        "theft",
        "simple",
        (120, 2_300),
        (
            "Someone broke into my {car} overnight and took my satnav and a gym bag. "
            "The lock on the driver's door is damaged.",
            "My {car} was left unlocked for a few minutes at a petrol station and my handbag was taken "
            "from the passenger seat. I reported it to the police.",
            "PH states a laptop bag and sunglasses were stolen from the boot of the {vehicle} while "
            "parked in {town}.",
        ),
    ),
    Scenario(
        "auto",
        "theft",
        "total_loss",
        (6_000, 42_000),
        (
            "My {vehicle} was stolen from outside my house overnight. The police have not found it "
            "and the garage says to treat it as a total loss.",
            "PH reports the {car}, registration {plate}, was stolen from a car park in {town} and has "
            "not been recovered. Police crime reference given; likely total loss.",
            "The car was taken from our driveway while we slept and has not been recovered. "
            "The police say it has probably been broken up for parts, so it's a total loss.",
        ),
    ),
    Scenario(
        "auto",
        "collision",
        "ordinary",
        (700, 12_000),
        (
            "I was stopped at the lights on {road} when {other_driver} drove into the back of my {car}. "
            "The rear bumper and boot lid are damaged and the other driver admitted it was their fault.",
            "While parking at the supermarket I scraped the side of my {vehicle} against a concrete "
            "pillar. {garage} quoted for a new door panel.",
            "PH was rear-ended at low speed on {road}; TP accepted liability at the scene. "
            "No one hurt, vehicle {plate} driveable.",
            "I reversed into a bollard and cracked the rear bumper and a parking sensor on my {car}.",
        ),
        witnessed=True,
    ),
    Scenario(
        "auto",
        "collision",
        "injury",
        (2_500, 60_000),
        (
            "A van pulled out in front of me on {road} and I couldn't stop in time. "
            "I was taken to {hospital} with {injury} and my {car} is badly damaged.",
            "PH's {vehicle} was hit side-on at a junction by {other_driver}. PH suffered {injury} "
            "and has been off work since.",
            "I was driving home when {other_driver} went through a red light and hit my car. "
            "My passenger has {injury} and I have {injury2}.",
            "My {car} was shunted into the car in front on {road}. I was treated at {hospital} for {injury}.",
        ),
        witnessed=True,
    ),
    Scenario(
        "auto",
        "collision",
        "dispute",
        (1_500, 30_000),
        (
            "I was hit by {other_driver} at the roundabout on {road}, but the other driver disputes "
            "what happened and says I pulled out in front of him.",
            "PH collided with a {car2} at a junction in {town}. TP denies liability and claims PH was "
            "speeding; no dashcam footage.",
            "The other driver is now saying it was my fault, even though he admitted it at the scene. "
            "Both cars are damaged and his insurer is refusing to pay.",
            "There is a dispute over who had right of way: {other_driver} says I changed lanes into "
            "him on {road}. My {car} needs a new wing and door.",
        ),
        witnessed=True,
    ),
    Scenario(
        "auto",
        "collision",
        "total_loss",
        (3_500, 45_000),
        (
            "My {vehicle} aquaplaned on {road} and hit the barrier. The garage says it's a total loss "
            "and not worth repairing.",
            "PH's {car} hit a deer near {town} at night. Assessor has declared it beyond economic repair.",
            "The car was written off after I skidded on ice and went into a ditch. "
            "I walked away without a scratch, thankfully.",
        ),
    ),
    Scenario(
        "auto",
        "vandalism",
        "ordinary",
        (250, 4_000),
        (
            "Someone keyed both sides of my {car} overnight and slashed two tyres. I've "
            "reported it to the police.",
            "PH's {vehicle} was vandalised in a car park in {town}: wing mirrors kicked off "
            "and paint scratched.",
        ),
        witnessed=True,
    ),
    Scenario(
        "auto",
        "storm",
        "ordinary",
        (400, 9_000),
        (
            "A heavy hailstorm left dents all over the bonnet and roof of my {car}.",
            "During the storm a branch fell onto my {vehicle} parked on the street. "
            "It smashed the windscreen and dented the roof.",
        ),
    ),
    Scenario(
        "auto",
        "fire",
        "total_loss",
        (3_000, 38_000),
        (
            "My {car} caught fire on the hard shoulder of {road}. Smoke came out of the engine and within "
            "minutes it was burnt out; the fire brigade attended.",
            "PH reports the {vehicle} was set alight while parked outside their home. Vehicle is a total "
            "loss; police informed.",
        ),
    ),
    Scenario(
        "auto",
        "third-party liability",
        "injury",
        (3_000, 70_000),
        (
            "I knocked a cyclist off his bike when I opened my car door on {road}. He has {injury} and "
            "has asked for my insurance details.",
            "PH's {car} hit a pedestrian on a zebra crossing in {town}; the pedestrian was taken to "
            "{hospital} with {injury}.",
        ),
        witnessed=True,
    ),
    Scenario(
        "auto",
        "racing",
        "ordinary",
        (2_000, 20_000),
        (
            "I damaged the front of my {car} during a track day at {track}. The splitter and "
            "radiator need replacing.",
            "PH spun the {vehicle} during a timed hill-climb event and hit a tyre wall.",
        ),
    ),
    Scenario(
        "auto",
        "wear and tear",
        "ordinary",
        (300, 3_500),
        (
            "The clutch on my {car} has worn out and the garage says it needs replacing. Can I claim for it?",
            "Gearbox failure on the {vehicle} at high mileage; {garage} says the parts are simply worn.",
        ),
    ),
    # home
    Scenario(
        "home",
        "burst pipe",
        "simple",
        (150, 2_400),
        (
            "A small leak under the kitchen sink has damaged the cupboard base and some flooring. "
            "A plumber fixed the pipe the same day.",
            "Water dripped through the hallway ceiling from a loose fitting in the bathroom above. "
            "There's just a small stain and some plaster to repair.",
            "PH reports minor water damage in the utility room at {address} from a split "
            "washing machine hose.",
        ),
    ),
    Scenario(
        "home",
        "burst pipe",
        "ordinary",
        (2_500, 24_000),
        (
            "A pipe burst in the loft while we were away and water came through the bedroom ceiling. "
            "The carpets and a wardrobe are ruined.",
            "PH's {room} flooded after a pipe burst behind the wall at {address}. Floor needs lifting "
            "and drying out, plaster damaged.",
            "We came home to water pouring through the kitchen ceiling from a burst pipe in the bathroom. "
            "Part of the ceiling has come down.",
        ),
    ),
    Scenario(
        "home",
        "storm",
        "simple",
        (150, 2_300),
        (
            "High winds blew a few tiles off the roof and knocked down a fence panel. No water got inside.",
            "The storm damaged the roof of our garden shed and broke a pane in the greenhouse.",
        ),
    ),
    Scenario(
        "home",
        "storm",
        "ordinary",
        (2_500, 30_000),
        (
            "A tree came down in the storm and went through the conservatory roof at {address}. "
            "There's glass everywhere and rain got into the living room.",
            "PH reports storm damage: a large section of the roof was stripped and water "
            "came into two bedrooms.",
        ),
    ),
    Scenario(
        "home",
        "fire",
        "ordinary",
        (1_200, 24_000),
        (
            "A pan of oil caught fire in the kitchen. We put it out, but the cooker, the extractor and "
            "the cabinets are smoke damaged.",
            "An electrical fault in the {room} started a small fire. The fire brigade came and the walls "
            "and ceiling are blackened.",
        ),
    ),
    Scenario(
        "home",
        "fire",
        "total_loss",
        (60_000, 380_000),
        (
            "Our house at {address} was destroyed by fire overnight. The fire service says it started in "
            "the roof space; the house is a total loss and we are staying with family.",
            "PH reports a major fire at the property: the ground floor is gutted and the building is "
            "uninhabitable. Structural engineer says it may be a total loss.",
        ),
    ),
    Scenario(
        "home",
        "burglary",
        "ordinary",
        (800, 16_000),
        (
            "Our house was burgled while we were at work: the back door was forced and they took {items}. "
            "The police have given us a crime reference.",
            "PH returned home to find a window smashed at {address} and {items} missing.",
        ),
    ),
    Scenario(
        "home",
        "burglary",
        "simple",
        (100, 2_200),
        (
            "Someone broke into our garden shed and stole a lawnmower and a bike. The padlock was cut.",
            "A parcel and a pair of boots were taken from our porch after the porch lock was broken.",
        ),
    ),
    Scenario(
        "home",
        "accidental damage",
        "simple",
        (80, 1_800),
        (
            "My son knocked the TV off its stand while playing and the screen is cracked.",
            "I spilled a tin of paint on the living room carpet while decorating.",
        ),
    ),
    Scenario(
        "home",
        "occupier's liability",
        "injury",
        (3_000, 60_000),
        (
            "A delivery driver slipped on our icy front steps and says he has {injury}. "
            "We have received a letter from his solicitor.",
            "PH's neighbour, {neighbour}, fell through a rotten decking board in PH's garden "
            "and suffered {injury}.",
        ),
        witnessed=True,
    ),
    Scenario(
        "home",
        "occupier's liability",
        "dispute",
        (2_000, 30_000),
        (
            "Our neighbour {neighbour} says roots from our oak tree have cracked her garage wall and wants "
            "us to pay. We dispute that it was our tree.",
            "Boundary dispute: neighbour claims PH's builder damaged their fence and driveway; PH denies "
            "liability.",
        ),
    ),
    Scenario(
        "home",
        "flood",
        "ordinary",
        (3_000, 60_000),
        (
            "The river burst its banks and the whole ground floor flooded to knee height. "
            "Floors, kitchen units and furniture are ruined.",
            "PH reports flood water from the street came into the basement at {address}.",
        ),
    ),
    Scenario(
        "home",
        "gradual leaks",
        "ordinary",
        (800, 12_000),
        (
            "We found the bathroom floor has rotted from a slow leak around the shower tray. "
            "It has probably been going on for months.",
        ),
    ),
    # renters
    Scenario(
        "renters",
        "theft",
        "simple",
        (80, 2_300),
        (
            "My bike was stolen from the communal hallway of my building. It was locked to the railing.",
            "My phone was taken from my bag on the train home, and I've reported it to the police.",
        ),
    ),
    Scenario(
        "renters",
        "theft",
        "ordinary",
        (1_500, 15_000),
        (
            "Someone got into my apartment at {address} while I was away for the weekend and took {items}. "
            "The landlord has changed the locks.",
            "PH reports a burglary at the rented flat: front door forced, {items} taken.",
        ),
    ),
    Scenario(
        "renters",
        "water damage",
        "simple",
        (100, 2_300),
        (
            "Water leaked from the flat upstairs and ruined my rug and a bookcase.",
            "My washing machine leaked overnight and damaged some clothes and a shoe rack.",
        ),
    ),
    Scenario(
        "renters",
        "water damage",
        "dispute",
        (1_500, 14_000),
        (
            "The bathroom upstairs leaked into my flat and damaged my sofa and laptop. My landlord, "
            "{landlord}, says it's not his responsibility and disputes the claim.",
            "Dispute between PH and the landlord over liability for water damage to PH's belongings; "
            "the landlord says PH left a tap running.",
        ),
    ),
    Scenario(
        "renters",
        "fire",
        "ordinary",
        (1_000, 20_000),
        (
            "A fire started in the kitchen of my apartment when the toaster shorted. "
            "My clothes and furniture smell of smoke and some are burnt.",
        ),
    ),
    Scenario(
        "renters",
        "accidental damage",
        "simple",
        (80, 2_000),
        (
            "I dropped my laptop down the stairs and the screen is smashed.",
            "I knocked a glass of red wine over my laptop keyboard and now it won't turn on.",
        ),
    ),
    Scenario(
        "renters",
        "pets",
        "ordinary",
        (300, 3_000),
        ("My dog chewed through the sofa and a door frame in the apartment while I was at work.",),
    ),
    Scenario(
        "renters",
        "flood",
        "ordinary",
        (2_000, 20_000),
        (
            "Flood water came into my basement apartment after heavy rain and everything on "
            "the floor is ruined.",
        ),
    ),
    # health
    Scenario(
        "health",
        "outpatient treatment",
        "simple",
        (60, 1_800),
        (
            "I had a consultation with {doctor} at {clinic} about ongoing migraines, followed by blood "
            "tests. I'm claiming for the consultation and the lab fees.",
            "Claim for six physiotherapy sessions at {clinic} after a GP referral for a stiff shoulder.",
            "PH submitted an invoice for an MRI scan at {clinic}.",
        ),
    ),
    Scenario(
        "health",
        "prescriptions",
        "simple",
        (20, 600),
        ("I'm claiming for three months of asthma inhalers; the pharmacy receipts are attached.",),
    ),
    Scenario(
        "health",
        "surgery",
        "ordinary",
        (3_000, 85_000),
        (
            "I had {procedure} at {hospital} under {doctor}. I stayed in for two nights and the invoice "
            "has now come through.",
            "PH underwent {procedure} at {hospital}; claiming surgeon, anaesthetist and ward fees.",
        ),
    ),
    Scenario(
        "health",
        "hospitalisation",
        "ordinary",
        (2_000, 45_000),
        (
            "I was admitted to {hospital} with {illness} and stayed five nights. I'm "
            "claiming for the hospital bill.",
            "PH was admitted to {hospital} for {illness}; three nights as an inpatient.",
        ),
    ),
    Scenario(
        "health",
        "emergency treatment",
        "injury",
        (600, 32_000),
        (
            "I fell off a ladder while clearing the gutters and was rushed to {hospital} with {injury}. "
            "I needed surgery and a cast.",
            "PH attended A&E at {hospital} after a fall on ice and was diagnosed with {injury}.",
            "I was tackled badly playing football and ended up with {injury}; I was treated at {hospital}.",
        ),
    ),
    Scenario(
        "health",
        "cosmetic treatment",
        "ordinary",
        (1_500, 12_000),
        ("I would like to claim for the rhinoplasty I had at {clinic}. The surgeon's invoice is attached.",),
    ),
    Scenario(
        "health",
        "pre-existing condition",
        "ordinary",
        (1_000, 15_000),
        (
            "Claim for treatment of my knee, which has been a problem since before I took out the policy. "
            "{doctor} recommended an arthroscopy.",
        ),
    ),
    # life
    Scenario(
        "life",
        "death by natural causes",
        "death",
        None,
        (
            "My {relation}, {holder}, passed away at {hospital} after a heart attack. "
            "I am the named beneficiary on the policy.",
            "Caller reports the death of the policyholder, {holder}, from cancer at home. "
            "Death certificate to follow.",
            "I'm calling to let you know that my {relation} {holder} died peacefully in a care home. "
            "What do I need to send you?",
        ),
    ),
    Scenario(
        "life",
        "accidental death",
        "death",
        None,
        (
            "My {relation}, {holder}, was killed in a road accident on {road}. The police are investigating.",
            "PH died following a fall at work and the employer has reported it to the safety regulator. "
            "Claim made by the spouse.",
        ),
    ),
    Scenario(
        "life",
        "terminal illness",
        "ordinary",
        None,
        (
            "I have been diagnosed with terminal pancreatic cancer and my consultant, {doctor}, has given "
            "me less than twelve months. I want to claim the terminal illness benefit.",
        ),
    ),
    # disability
    Scenario(
        "disability",
        "injury",
        "injury",
        (2_000, 45_000),
        (
            "I fell from scaffolding at work and suffered {injury}. I have been unable to work for eight "
            "weeks and I'm claiming my monthly benefit.",
            "PH signed off work after a car accident left them with {injury}; consultant letter from "
            "{hospital} attached.",
        ),
    ),
    Scenario(
        "disability",
        "illness",
        "ordinary",
        (1_500, 36_000),
        (
            "I've been signed off work with severe depression and my employer has stopped paying me. "
            "My GP, {doctor}, has written a report.",
            "PH unable to work due to long COVID: fatigue and breathlessness, four months off so far.",
            "I'm having chemotherapy for breast cancer and can't work during the treatment.",
        ),
    ),
    Scenario(
        "disability",
        "pre-existing condition",
        "ordinary",
        (1_500, 20_000),
        ("I'm off work again with the back problem I had before the policy started.",),
    ),
    # critical illness
    Scenario(
        "critical_illness",
        "cancer",
        "ordinary",
        None,
        (
            "I was diagnosed with bowel cancer after a colonoscopy at {hospital}. I'm starting treatment "
            "soon and want to make a claim.",
            "PH diagnosed with stage 2 breast cancer by {doctor}; histology report available.",
        ),
    ),
    Scenario(
        "critical_illness",
        "heart attack",
        "ordinary",
        None,
        (
            "I had a heart attack and was treated at {hospital} with two stents. I'd like to "
            "claim on my cover.",
        ),
    ),
    Scenario(
        "critical_illness",
        "stroke",
        "ordinary",
        None,
        (
            "My {relation} {holder} had a stroke and has lost movement on one side. They are still in "
            "{hospital} and I'm claiming on their behalf.",
        ),
    ),
    Scenario(
        "critical_illness",
        "multiple sclerosis",
        "ordinary",
        None,
        ("A neurologist at {hospital} has confirmed a diagnosis of multiple sclerosis.",),
    ),
    # long-term care
    Scenario(
        "long_term_care",
        "nursing home care",
        "ordinary",
        (3_000, 30_000),
        (
            "My {relation}, {holder}, moved into {care_home} after the dementia got worse. "
            "I'm sending the first three months of invoices.",
            "PH admitted to {care_home} following a stroke; needs help with all daily activities.",
        ),
    ),
    Scenario(
        "long_term_care",
        "home care",
        "simple",
        (300, 2_400),
        (
            "Claim for this month's home care visits for my {relation}. "
            "A carer comes in twice a day to help with washing and dressing.",
        ),
    ),
    Scenario(
        "long_term_care",
        "home care",
        "ordinary",
        (2_500, 12_000),
        ("PH receiving daily home care after hip surgery; invoices from the care agency for eight weeks.",),
    ),
    # pet
    Scenario(
        "pet",
        "veterinary treatment",
        "simple",
        (80, 2_200),
        (
            "Our cat {pet} had an ear infection and needed two vet visits and antibiotics.",
            "My dog {pet} ate a sock and needed an emergency vet visit at {vet}.",
        ),
    ),
    Scenario(
        "pet",
        "veterinary treatment",
        "ordinary",
        (2_500, 9_000),
        (
            "Our labrador {pet} needed surgery at {vet} to remove a blockage after swallowing a toy. "
            "The bill is much bigger than we expected.",
        ),
    ),
    Scenario(
        "pet",
        "pre-existing condition",
        "ordinary",
        (300, 4_000),
        (
            "Our dog's skin allergy has flared up again. It was first treated before we took out the "
            "policy, but it needs new medication.",
        ),
    ),
    Scenario(
        "pet",
        "routine care",
        "simple",
        (50, 400),
        ("Claim for {pet}'s annual vaccinations and a flea treatment at {vet}.",),
    ),
    # travel
    Scenario(
        "travel",
        "lost luggage",
        "simple",
        (100, 2_300),
        (
            "The airline lost my suitcase on the flight to {destination} and it never turned up. "
            "I had to buy clothes and toiletries.",
            "PH's bag was lost in transit on the way back from {destination}; airline report "
            "number provided.",
        ),
    ),
    Scenario(
        "travel",
        "trip cancellation",
        "ordinary",
        (600, 9_000),
        (
            "We had to cancel our holiday to {destination} because my {relation} was taken into hospital. "
            "The tour operator won't refund the deposit.",
        ),
    ),
    Scenario(
        "travel",
        "medical treatment abroad",
        "injury",
        (1_500, 60_000),
        (
            "I broke my leg skiing in {destination} and had surgery at a local hospital "
            "before being flown home.",
            "PH was hospitalised in {destination} with {injury} after a scooter accident.",
        ),
        witnessed=True,
    ),
    Scenario(
        "travel",
        "known events",
        "ordinary",
        (500, 5_000),
        (
            "Our flights to {destination} were cancelled because of a strike that was "
            "announced before we booked.",
        ),
    ),
    # business liability
    Scenario(
        "business",
        "public liability",
        "injury",
        (3_000, 80_000),
        (
            "A customer slipped on a wet floor in our {business} and has {injury}. "
            "Her solicitor has written to us.",
            "PH's employee dropped a box in the {business} and it hit a customer, who has {injury}.",
        ),
        witnessed=True,
    ),
    Scenario(
        "business",
        "public liability",
        "dispute",
        (2_000, 40_000),
        (
            "A client says our plumber caused a leak that damaged their kitchen and is demanding "
            "compensation, but we dispute that our work caused it.",
            "Customer alleges food poisoning after eating at PH's {business}; PH denies liability.",
        ),
    ),
    Scenario(
        "business",
        "third-party property damage",
        "ordinary",
        (500, 15_000),
        (
            "While fitting a new kitchen our contractor drilled through a water pipe at the "
            "customer's house at {address}.",
        ),
    ),
)

FIRST_NAMES = (
    "Aisha",
    "Ben",
    "Carlos",
    "Chloe",
    "Daniel",
    "Elena",
    "Fatima",
    "George",
    "Hannah",
    "Ibrahim",
    "Isabel",
    "Jack",
    "Julia",
    "Kenji",
    "Laura",
    "Liam",
    "Maria",
    "Mohammed",
    "Nadia",
    "Noah",
    "Olivia",
    "Omar",
    "Priya",
    "Rachel",
    "Rahul",
    "Samuel",
    "Sofia",
    "Tom",
    "Wei",
    "Yusuf",
    "Zoe",
    "Grace",
    "Patrick",
    "Megan",
    "Lucas",
    "Amara",
    "Diego",
    "Helen",
    "Ivan",
    "Joanna",
    "Kwame",
    "Leah",
    "Marcus",
    "Niamh",
    "Oliver",
    "Paula",
    "Ravi",
    "Sinead",
    "Tariq",
    "Victor",
)
SURNAMES = (
    "Smith",
    "Patel",
    "Okafor",
    "Nguyen",
    "Kowalski",
    "Garcia",
    "Murphy",
    "Schmidt",
    "O'Brien",
    "Haddad",
    "Lindqvist",
    "Novak",
    "Jones",
    "Williams",
    "Brown",
    "Khan",
    "Chen",
    "Rossi",
    "Dubois",
    "Fernandes",
    "MacLeod",
    "Mensah",
    "Ivanova",
    "Tanaka",
    "Walsh",
    "Evans",
    "Hughes",
    "Ali",
    "Singh",
    "Johansson",
    "Moreau",
    "Silva",
    "Kelly",
    "Baker",
    "Reyes",
    "Cohen",
    "Adeyemi",
    "Hoffmann",
    "Byrne",
    "Sato",
    "Kim",
    "Lopez",
    "Fraser",
    "Doyle",
    "Ahmed",
    "Papadopoulos",
    "Wright",
    "Taylor",
    "Campbell",
)
TOWNS = (
    "Leeds",
    "Bristol",
    "Springfield",
    "Dayton",
    "Reading",
    "Portland",
    "Cork",
    "Lyon",
    "Austin",
    "Norwich",
    "Salem",
    "Exeter",
    "Galway",
    "Tucson",
    "Derby",
    "Hamilton",
)
ROADS = (
    "the M6",
    "the A40",
    "Route 9",
    "Interstate 95",
    "the ring road",
    "Main Street",
    "the high street",
    "the bypass",
    "Highway 101",
    "Elm Avenue",
)
STREET_NAMES = (
    "Elm",
    "High",
    "Station",
    "Church",
    "Mill",
    "Park",
    "Victoria",
    "Oak",
    "Maple",
    "King",
    "Chestnut",
    "Willow",
    "Market",
    "Bridge",
    "Orchard",
)
STREET_TYPES = ("Street", "Road", "Avenue", "Lane", "Close", "Drive", "Way", "Crescent", "Gardens", "Terrace")
CARS = (
    ("Toyota", "Corolla"),
    ("Toyota", "RAV4"),
    ("Ford", "Focus"),
    ("Ford", "Fiesta"),
    ("Ford", "F-150"),
    ("Volkswagen", "Golf"),
    ("Volkswagen", "Polo"),
    ("Honda", "Civic"),
    ("Honda", "CR-V"),
    ("BMW", "320d"),
    ("Audi", "A4"),
    ("Nissan", "Qashqai"),
    ("Kia", "Sportage"),
    ("Hyundai", "Tucson"),
    ("Tesla", "Model 3"),
    ("Vauxhall", "Corsa"),
    ("Peugeot", "208"),
    ("Renault", "Clio"),
    ("Skoda", "Octavia"),
    ("Mercedes-Benz", "C-Class"),
    ("Mazda", "CX-5"),
    ("Subaru", "Outback"),
    ("Chevrolet", "Malibu"),
    ("Jeep", "Cherokee"),
    ("Volvo", "XC60"),
    ("Fiat", "500"),
)
INJURIES = (
    "whiplash",
    "a fractured wrist",
    "a fractured left wrist",
    "concussion",
    "a broken collarbone",
    "two cracked ribs",
    "a sprained ankle",
    "a back injury",
    "neck pain and whiplash",
    "a broken leg",
    "a dislocated shoulder",
    "burns to both hands",
    "a deep laceration to the forearm",
    "a torn knee ligament",
    "a hairline fracture of the right ankle",
)
ITEMS = (
    "a laptop, a watch and some jewellery",
    "two bikes",
    "a TV and a games console",
    "my grandmother's rings",
    "a camera, a tablet and a designer handbag",
    "a laptop and two phones",
)
PROCEDURES = (
    "a knee arthroscopy",
    "gallbladder removal",
    "a hernia repair",
    "cataract surgery",
    "a hip replacement",
    "a tonsillectomy",
)
ILLNESSES = ("pneumonia", "a kidney infection", "sepsis", "severe asthma", "appendicitis")
RELATIONS = ("husband", "wife", "father", "mother", "partner", "brother", "sister")
DESTINATIONS = ("Lisbon", "Tenerife", "Orlando", "Bangkok", "Crete", "Vancouver", "Marrakech", "Austria")
PET_NAMES = ("Max", "Luna", "Bella", "Charlie", "Milo", "Daisy", "Rocky", "Coco")
TRACKS = ("Brands Hatch", "Castle Combe", "Laguna Seca", "Thruxton")
BUSINESSES = ("café", "shop", "salon", "restaurant", "bakery")
ROOMS = ("kitchen", "bathroom", "utility room", "living room", "basement", "bedroom")
SAINTS = ("Mary", "Thomas", "George", "Luke", "Anne")
CARE_HOMES = (
    "Oakwood Care Home",
    "Willow Lodge Nursing Home",
    "Beech House Care Home",
    "Meadowview Nursing Home",
)

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

DATE_SENTENCES = (
    "This happened {on}{date}.",
    "Date of loss: {date}.",
    "The incident was {on}{date}.",
    "It was {on}{date}.",
)
CONFLICTING_DATE_SENTENCES = (
    "Caller first gave the date as {first}, then said {second}.",
    "At first I said it was {first}, but I think it was actually {second}.",
    "The date of loss was given as {first} and later as {second}.",
)
AMOUNT_SENTENCES = (
    "The repair estimate is {amount}.",
    "I'm claiming {amount}.",
    "Total claimed: {amount}.",
    "The invoice comes to {amount}.",
    "Caller estimates the loss at {amount}.",
)
BENEFIT_SENTENCES = (
    "The policy pays {amount}.",
    "The sum assured is {amount}.",
    "Benefit claimed: {amount}.",
)
POLICY_SENTENCES = (
    "My policy number is {policy}.",
    "Policy {policy}.",
    "Caller quoted policy number {policy}.",
    "Ref: policy {policy}.",
    "This falls under policy {policy}.",
)
WITNESS_SENTENCES = (
    "A witness, {witness}, saw it happen and has given a statement.",
    "There is a witness: {witness}, who was walking past.",
    "{witness} saw the whole thing and left their number.",
)
CLOSING_SENTENCES = (
    "Please let me know what you need from me.",
    "Callback requested.",
    "Documents to follow by email.",
    "Thank you for your help.",
)
FLAG_SENTENCES = {
    "late_reporting": (
        "Sorry this is late, I was abroad for a few weeks and only got round to reporting it now.",
        "Caller explained the delay in reporting by saying they had been too busy.",
        "I know I should have reported this sooner.",
    ),
    "new_policy": (
        "I only took out this policy a couple of weeks before it happened.",
        "Caller confirmed the cover started very recently.",
        "Luckily I had just bought the policy.",
    ),
    "near_limit": (
        "The amount comes to nearly the full limit of my cover.",
        "Claimed amount is just under the policy limit.",
    ),
    "repeated_claims": (
        "Unfortunately this is my third claim this year.",
        "Caller has made other claims on this policy recently.",
        "I know I've claimed a couple of times already.",
    ),
    "cash_only": (
        "I paid cash for everything, so I don't have any receipts.",
        "Caller says everything was bought with cash and there are no receipts.",
        "I don't have an invoice because it was all paid in cash.",
    ),
    "no_witnesses": (
        "Nobody else was around, so there are no witnesses.",
        "There were no witnesses and no CCTV.",
        "No one saw it happen.",
        "Caller confirmed there were no witnesses.",
    ),
    "pressure_to_settle": (
        "I need the money by the end of the week, can you just pay it out?",
        "Caller insisted on a quick cash settlement and did not want an assessor to visit.",
        "I'd rather settle this quickly without an inspection.",
        "Caller became agitated and asked several times when the payment would be made.",
    ),
    "recently_increased_cover": (
        "I increased my cover just last month, so this should all be covered.",
        "Caller mentioned they had raised the sum insured shortly before the loss.",
        "Good thing I upped my cover recently.",
    ),
    "vague_details": (
        "I'm not really sure exactly what happened or where.",
        "Caller could not say exactly where it happened or what was lost.",
        "I don't remember the details, it all happened so fast.",
        "Caller was vague about the items and could not name any brands or models.",
    ),
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
        text += " " + rng.choice(CLOSING_SENTENCES)
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
        optional.append(rng.choice(WITNESS_SENTENCES).format_map(details))
    if rng.random() < 0.45:
        sentences = BENEFIT_SENTENCES if scenario.amounts is None else AMOUNT_SENTENCES
        optional.append(rng.choice(sentences).format(amount=_amount_text(rng, amount, policy.currency)))
    if rng.random() < 0.35:
        optional.append(rng.choice(POLICY_SENTENCES).format(policy=policy.number))
    rng.shuffle(optional)
    return optional


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
            sentence = rng.choice(CONFLICTING_DATE_SENTENCES)
            return core, sentence.format(first=_dated(rng, first), second=_dated(rng, second))
        phrase, relative = _dated(rng, wrong), False
    elif rng.random() < 0.15:
        return core, None
    else:
        phrase, relative = _date_phrase(rng, loss_date, reported_date)
    if core.startswith(("I ", "My ", "We ", "Our ", "The ", "A ", "Someone ")) and rng.random() < 0.5:
        opening = phrase[0].upper() + phrase[1:] if relative else f"On {phrase}"
        return f"{opening}, {_lower_first(core)}", None
    sentence = rng.choice(DATE_SENTENCES).format(on="" if relative else "on ", date=phrase)
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
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"


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
    "road": _choice(ROADS),
    "town": _choice(TOWNS),
    "address": lambda d: _address(d.rng),
    "room": _choice(ROOMS),
    "other_driver": lambda d: _person(d.rng),
    "witness": lambda d: _person(d.rng),
    "neighbour": lambda d: d.rng.choice((f"Mrs {d.rng.choice(SURNAMES)}", _person(d.rng))),
    "landlord": lambda d: d.rng.choice((f"Mr {d.rng.choice(SURNAMES)}", _person(d.rng))),
    "garage": lambda d: d.rng.choice(
        (
            f"{d.rng.choice(SURNAMES)} Motors",
            f"{d.rng.choice(TOWNS)} Garage",
            f"{d.rng.choice(SURNAMES)} & Sons Garage",
        )
    ),
    "hospital": lambda d: d.rng.choice(
        (f"St {d.rng.choice(SAINTS)}'s Hospital", f"{d.rng.choice(TOWNS)} General Hospital", "Mercy Hospital")
    ),
    "clinic": lambda d: d.rng.choice(
        (f"{d.rng.choice(TOWNS)} Clinic", "Riverside Clinic", "Parkview Clinic")
    ),
    "doctor": lambda d: f"Dr {d.rng.choice(SURNAMES)}",
    "injury": _choice(INJURIES),
    "injury2": _choice(INJURIES),
    "items": _choice(ITEMS),
    "procedure": _choice(PROCEDURES),
    "illness": _choice(ILLNESSES),
    "relation": _choice(RELATIONS),
    "destination": _choice(DESTINATIONS),
    "pet": _choice(PET_NAMES),
    "vet": lambda d: d.rng.choice(
        (f"{d.rng.choice(TOWNS)} Veterinary Clinic", f"{d.rng.choice(SURNAMES)} Vets")
    ),
    "care_home": _choice(CARE_HOMES),
    "track": _choice(TRACKS),
    "business": _choice(BUSINESSES),
}


def _address(rng: random.Random) -> str:
    street = f"{rng.randint(1, 180)} {rng.choice(STREET_NAMES)} {rng.choice(STREET_TYPES)}"
    if rng.random() < 0.3:
        return f"Flat {rng.randint(1, 24)}, {street}"
    return street

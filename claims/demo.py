from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from assistant.core.demo import demo_loader
from assistant.integrations.keys import api_key_issue, api_key_revoke
from assistant.integrations.models import System
from claims.models import Claim, LineOfBusiness, Policy
from claims.services.submission import ClaimInput, claims_submit

if TYPE_CHECKING:
    from claims.synthetic import SyntheticClaim, SyntheticPolicy

DEMO_SYSTEM = "demo-claims"
DEMO_KEY_NAME = "demo"
DEMO_CLAIMS = 12
DEMO_SEED = 2026
DEMO_NUMBERS_FROM = 4100

POLICIES = [
    {
        "number": "AUTO-2026-0001",
        "holder_name": "Daniel Novak",
        "line_of_business": LineOfBusiness.AUTO,
        "effective_from": date(2026, 1, 1),
        "effective_to": date(2026, 12, 31),
        "covered_perils": ["collision", "theft", "fire", "glass", "third-party liability"],
        "exclusions": ["racing", "driving under the influence", "wear and tear"],
        "limit": Decimal("50000.00"),
        "deductible": Decimal("500.00"),
    },
    {
        "number": "HOME-2026-0002",
        "holder_name": "Sofia Lindqvist",
        "line_of_business": LineOfBusiness.HOME,
        "effective_from": date(2026, 3, 1),
        "effective_to": date(2027, 2, 28),
        "covered_perils": ["fire", "storm", "burst pipe", "burglary"],
        "exclusions": ["flood", "gradual leaks", "earthquake"],
        "limit": Decimal("400000.00"),
        "deductible": Decimal("1000.00"),
    },
    {
        "number": "RENT-2026-0003",
        "holder_name": "Omar Haddad",
        "line_of_business": LineOfBusiness.RENTERS,
        "effective_from": date(2026, 6, 15),
        "effective_to": date(2027, 6, 14),
        "covered_perils": ["fire", "theft", "water damage"],
        "exclusions": ["flood", "pets"],
        "limit": Decimal("25000.00"),
        "deductible": Decimal("250.00"),
    },
]


def synthetic_policies_store(policies: list[SyntheticPolicy]) -> None:
    """Store generated policies (demo data, benchmarks and tests submit generated claims on them)."""
    for policy in policies:
        fields = dataclasses.asdict(policy)
        fields.update(covered_perils=list(policy.covered_perils), exclusions=list(policy.exclusions))
        Policy.objects.update_or_create(number=policy.number, defaults=fields)


def synthetic_claim_input(claim: SyntheticClaim, external_id: str | None = None) -> ClaimInput:
    """A generated claim as a claims system submits it (the demo, benchmarks and tests)."""
    return ClaimInput(
        external_id=external_id or claim.external_id,
        policy_number=claim.policy_number,
        loss_date=claim.loss_date,
        reported_date=claim.reported_date,
        amount_claimed=claim.amount_claimed,
        currency=claim.currency,
        description=claim.description,
    )


def demo_external_id(claim: SyntheticClaim, number: int) -> str:
    """A claim number as a claims system issues them: the generator's own ids ("SYN-…") mark its
    claims as generated, which the queue an adjuster tries out should not show."""
    return f"CLM-{claim.reported_date.year}-{DEMO_NUMBERS_FROM + number:06d}"


def demo_claims() -> tuple[list[SyntheticPolicy], list[tuple[str, ClaimInput]]]:
    """The demo's generated policies, and its claims each with the generator's id it replaces."""
    from claims.synthetic import generate

    policies, claims = generate(DEMO_CLAIMS, seed=DEMO_SEED)
    return policies, [
        (claim.external_id, synthetic_claim_input(claim, demo_external_id(claim, number)))
        for number, claim in enumerate(claims, start=1)
    ]


@demo_loader("claims")
def load() -> str:
    """Demo policies, a demo integrating system with a fresh API key, and generated claims for triage."""
    for row in POLICIES:
        Policy.objects.update_or_create(number=row["number"], defaults=row)
    system, _ = System.objects.get_or_create(
        name=DEMO_SYSTEM, defaults={"description": "the demo's claims system"}
    )
    for key in system.keys.filter(name=DEMO_KEY_NAME, revoked_at__isnull=True):
        api_key_revoke(key)
    _, key_text = api_key_issue(system=system, name=DEMO_KEY_NAME, scopes=["claims:read", "claims:write"])
    policies, claims = demo_claims()
    synthetic_policies_store(policies)
    for generated_id, claim in claims:  # loaded by an earlier version under the generator's ids
        Claim.objects.filter(system=system, external_id=generated_id).update(external_id=claim.external_id)
    known = set(Claim.objects.filter(system=system).values_list("external_id", flat=True))
    items = [claim for _, claim in claims if claim.external_id not in known]
    if items:
        claims_submit(system=system, items=items, batch=True)
    return (
        f"{len(POLICIES) + len(policies)} policies, {len(items)} new generated claims; "
        f"API key of system {DEMO_SYSTEM}: {key_text}"
    )

"""The demo's claims queue reads as a claims system's: claim numbers, people and stories, nothing
that looks left behind by a test."""

from __future__ import annotations

import re

import pytest

from assistant.integrations.models import System
from claims.demo import DEMO_CLAIMS, DEMO_SYSTEM, POLICIES, demo_claims, load, synthetic_policies_store
from claims.models import Claim, Policy

# "tests" is left out: a claimant may have had blood tests.
TEST_MARKERS = re.compile(
    r"\b(test|testing|foo|bar|baz|qux|lorem|ipsum|dummy|fake|asdf|qwerty|x{2,}|tbd|todo|fixme|"
    r"placeholder|sample|example|syn|synthetic|null|undefined)\b|[{}]|SYN-",
    re.IGNORECASE,
)
# A word of one letter other than "a" and "I" reads as a placeholder ("x", "y").
STRAY_LETTER = re.compile(r"(?<![\w'-])(?![aAI]\b)[A-Za-z](?![\w'-])")


def test_the_demo_claims_have_claim_numbers_and_plain_stories():
    policies, claims = demo_claims()
    items = [claim for _, claim in claims]

    assert len(items) == DEMO_CLAIMS
    assert len({item.external_id for item in items}) == DEMO_CLAIMS
    for item in items:
        assert re.fullmatch(r"CLM-20\d\d-\d{6}", item.external_id), item.external_id
        assert "test" not in item.external_id.lower()
        assert not TEST_MARKERS.search(item.description), item.description
        assert not STRAY_LETTER.search(item.description), item.description
        assert len(item.description.split()) >= 10, item.description
    for policy in [*policies, *(Policy(**row) for row in POLICIES)]:
        assert not TEST_MARKERS.search(f"{policy.number} {policy.holder_name}"), policy
        assert re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z'-]+", policy.holder_name), policy.holder_name


@pytest.mark.django_db
def test_the_demo_renames_claims_it_loaded_under_the_generators_ids():
    policies, claims = demo_claims()
    synthetic_policies_store(policies)
    system = System.objects.create(name=DEMO_SYSTEM)
    generated_id, first = claims[0]
    Claim.objects.create(
        system=system,
        external_id=generated_id,
        policy=Policy.objects.get(number=first.policy_number),
        loss_date=first.loss_date,
        reported_date=first.reported_date,
        amount_claimed=first.amount_claimed,
        currency=first.currency,
        description=first.description,
    )

    load()
    load()

    ids = sorted(Claim.objects.filter(system=system).values_list("external_id", flat=True))
    assert ids == sorted(claim.external_id for _, claim in claims)

import re
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest

from claims.extraction import extract
from claims.models import LineOfBusiness, Route
from claims.synthetic import (
    RED_FLAGS,
    STRUCTURED_FLAGS,
    TEXT_FLAGS,
    SyntheticClaim,
    SyntheticPolicy,
    generate,
    perils_of,
)

SENTENCE_END = re.compile(r"[.!?](?=\s|$)")
SPECIALIST_CUES = (
    "dispute",
    "denies liability",
    "fault",
    "total loss",
    "written off",
    "beyond economic repair",
    "burnt out",
    "passed away",
    "died",
    "death",
    "killed",
    "solicitor",
    "broke my leg",
)
CLAIM_LINES = {
    "auto",
    "home",
    "renters",
    "health",
    "life",
    "disability",
    "critical_illness",
    "long_term_care",
    "other",
}


@pytest.fixture(scope="module")
def generated() -> tuple[list[SyntheticPolicy], list[SyntheticClaim]]:
    return generate(2000, seed=3)


@pytest.fixture(scope="module")
def claims(generated) -> list[SyntheticClaim]:
    return generated[1]


@pytest.fixture(scope="module")
def policies(generated) -> dict[str, SyntheticPolicy]:
    return {policy.number: policy for policy in generated[0]}


def stated_dates(claim: SyntheticClaim) -> set[date]:
    spans = extract(claim.description, reference_date=claim.reported_date)
    return {date.fromisoformat(span.value) for span in spans if span.kind == "date"}


def test_same_seed_gives_same_claims():
    assert generate(300, seed=5) == generate(300, seed=5)


def test_different_seeds_give_different_claims():
    first = [claim.description for claim in generate(100, seed=1)[1]]
    second = [claim.description for claim in generate(100, seed=2)[1]]
    assert first != second
    assert len(set(first) & set(second)) < 10


def test_count_is_exact_and_ids_follow_reporting_order(claims):
    assert len(claims) == 2000
    assert [claim.external_id for claim in claims] == [f"SYN-3-{n}" for n in range(1, 2001)]
    assert [claim.reported_date for claim in claims] == sorted(claim.reported_date for claim in claims)
    assert generate(0) == ([], [])


def test_negative_count_is_refused():
    with pytest.raises(ValueError, match="negative"):
        generate(-1)


def test_every_claim_has_its_policy_and_falls_in_its_period(generated, claims, policies):
    assert len(policies) == len(generated[0])
    for claim in claims:
        policy = policies[claim.policy_number]
        assert policy.effective_from <= claim.loss_date <= policy.effective_to
        assert claim.loss_date <= claim.reported_date
        assert claim.currency == policy.currency
        assert claim.line_of_business == policy.line_of_business
        assert claim.peril in policy.covered_perils or claim.peril in policy.exclusions
        assert claim.amount_claimed > 0


def test_policies_are_valid_for_the_database_constraints(generated):
    for policy in generated[0]:
        assert re.fullmatch(r"[A-Z]{3,4}-\d{4}-\d{6}", policy.number)
        assert policy.effective_to > policy.effective_from
        assert 0 <= policy.deductible < policy.limit
        assert policy.currency in ("USD", "GBP", "EUR")
        assert LineOfBusiness(policy.line_of_business)


def test_claims_cover_the_nine_claim_lines_and_all_routes(claims):
    assert {claim.line_of_business for claim in claims} == CLAIM_LINES
    assert Counter(claim.route for claim in claims).keys() == set(Route.values)


def test_amounts_are_worded_as_the_loss_is_paid(claims):
    for claim in claims:
        if "repair estimate" in claim.description:
            assert claim.line_of_business in ("auto", "home", "renters", "other"), claim.description
            assert claim.peril not in ("theft", "burglary"), claim.description
        if "cash_only" in claim.red_flags:
            assert "The invoice comes to" not in claim.description, claim.description


def test_descriptions_have_two_to_six_sentences(claims):
    for claim in claims:
        assert 2 <= len(SENTENCE_END.findall(claim.description)) <= 6, claim.description


def test_red_flags_are_known_and_documented(claims):
    assert set(STRUCTURED_FLAGS) | set(TEXT_FLAGS) == set(RED_FLAGS)
    assert {flag for claim in claims for flag in claim.red_flags} == set(RED_FLAGS)
    assert all(len(set(claim.red_flags)) == len(claim.red_flags) for claim in claims)


def test_late_reporting_holds_exactly_where_flagged(claims):
    for claim in claims:
        late = (claim.reported_date - claim.loss_date).days > 30
        assert late == ("late_reporting" in claim.red_flags)


def test_new_policy_holds_exactly_where_flagged(claims, policies):
    for claim in claims:
        days_in = (claim.loss_date - policies[claim.policy_number].effective_from).days
        assert (0 <= days_in <= 14) == ("new_policy" in claim.red_flags)


def test_near_limit_holds_exactly_where_flagged(claims, policies):
    for claim in claims:
        limit = policies[claim.policy_number].limit
        near = Decimal("0.9") * limit <= claim.amount_claimed < limit
        assert near == ("near_limit" in claim.red_flags)


def test_repeated_claims_hold_exactly_where_flagged(claims):
    losses = defaultdict(list)
    for claim in claims:
        losses[claim.policy_number].append(claim.loss_date)
    for claim in claims:
        year_before = claim.loss_date - timedelta(days=365)
        earlier = [d for d in losses[claim.policy_number] if year_before <= d < claim.loss_date]
        assert (len(earlier) >= 2) == ("repeated_claims" in claim.red_flags)
    assert any("repeated_claims" in claim.red_flags for claim in claims)


def test_inconsistent_dates_are_read_by_extraction_as_another_date(claims):
    flagged = [claim for claim in claims if "inconsistent_dates" in claim.red_flags]
    assert flagged
    for claim in flagged:
        assert stated_dates(claim) - {claim.loss_date}, claim.description


def test_other_descriptions_state_no_date_but_the_loss_date(claims):
    for claim in claims:
        if "inconsistent_dates" not in claim.red_flags:
            assert stated_dates(claim) <= {claim.loss_date}, claim.description
    assert sum(bool(stated_dates(claim)) for claim in claims) > 0.75 * len(claims)


def test_suspicious_share_and_flag_counts_are_as_documented(claims):
    suspicious = [claim for claim in claims if claim.suspicious]
    ordinary = [claim for claim in claims if not claim.suspicious]
    assert 0.10 <= len(suspicious) / len(claims) <= 0.18
    assert all(1 <= len(claim.red_flags) <= 3 for claim in suspicious)
    flagged_ordinary = [claim for claim in ordinary if claim.red_flags]
    assert 0 < len(flagged_ordinary) / len(ordinary) <= 0.05
    assert all(len(claim.red_flags) == 1 for claim in flagged_ordinary)
    assert any(set(claim.red_flags) & set(TEXT_FLAGS) for claim in suspicious)
    assert any(set(claim.red_flags) & set(STRUCTURED_FLAGS) for claim in suspicious)


def test_text_flags_are_written_into_the_description(claims):
    phrases = {
        "cash_only": ("cash",),
        "no_witnesses": ("witnesses", "no one saw"),
        "pressure_to_settle": ("pay it out", "settle", "payment"),
        "recently_increased_cover": ("cover", "sum insured"),
        "vague_details": ("not really sure", "could not", "don't remember"),
    }
    for claim in claims:
        for flag in set(claim.red_flags) & set(TEXT_FLAGS):
            assert any(p in claim.description.lower() for p in phrases[flag]), (flag, claim.description)


def test_route_labels_follow_planted_flags(claims):
    suspicious = [claim for claim in claims if claim.suspicious]
    assert {claim.route for claim in suspicious} <= {Route.SPECIAL_INVESTIGATION, Route.SPECIALIST}
    investigated = sum(claim.route == Route.SPECIAL_INVESTIGATION for claim in suspicious)
    assert investigated / len(suspicious) >= 0.9
    ordinary = [claim for claim in claims if not claim.suspicious]
    assert sum(claim.route == Route.SPECIAL_INVESTIGATION for claim in ordinary) / len(ordinary) <= 0.05
    fast = [claim for claim in claims if claim.route == Route.FAST_TRACK]
    assert sum(bool(claim.red_flags) for claim in fast) / len(fast) <= 0.05


def test_route_labels_follow_amounts(claims):
    for claim in claims:
        if claim.amount_claimed > 25_000:
            assert claim.route != Route.FAST_TRACK
    fast = [claim for claim in claims if claim.route == Route.FAST_TRACK]
    assert sum(claim.amount_claimed < 2_500 for claim in fast) / len(fast) >= 0.9


def test_specialist_descriptions_carry_their_cue(claims):
    specialist = [
        claim
        for claim in claims
        if claim.route == Route.SPECIALIST and not claim.suspicious and claim.amount_claimed <= 25_000
    ]
    cued = [
        claim
        for claim in specialist
        if any(span.kind == "injury" for span in extract(claim.description))
        or any(cue in claim.description.lower() for cue in SPECIALIST_CUES)
    ]
    assert len(cued) / len(specialist) >= 0.9


def test_perils_of_lists_the_known_perils_of_a_line(claims):
    assert {"collision", "glass", "theft"} <= set(perils_of(LineOfBusiness.AUTO))
    assert "veterinary treatment" in perils_of("other")
    assert perils_of("medicare") == ()
    with pytest.raises(ValueError, match="boats"):
        perils_of("boats")
    covered = [claim for claim in claims if claim.peril in perils_of(claim.line_of_business)]
    assert 0.9 <= len(covered) / len(claims) < 1

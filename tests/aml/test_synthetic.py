"""Synthetic AML data: narratives balanced over the typology labels, and scenarios whose
planted rule patterns fire on the shipped rules, in memory, without a database."""

import re
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from aml.models import Channel, Direction, Rule
from aml.rules import rules_evaluate
from aml.synthetic import Scenario, narratives, scenarios
from aml.typology import LABELS, NONE, TYPOLOGY_LABELS
from tests.aml.conftest import SHIPPED_RULES

RULE_CODES = tuple(row["code"] for row in SHIPPED_RULES)
SCENARIOS = 1200


@pytest.fixture(scope="module")
def generated() -> list[Scenario]:
    return scenarios(SCENARIOS, seed=11)


@pytest.fixture(scope="module")
def fired(generated) -> list[set[str]]:
    rules = [Rule(**row) for row in SHIPPED_RULES]
    return [
        {hit.code for hit in rules_evaluate(s.transaction, history=s.history, rules=rules)} for s in generated
    ]


def words(text: str) -> int:
    return len(text.split())


def test_narratives_are_the_same_for_a_seed_and_differ_for_another():
    assert narratives(300, 4) == narratives(300, 4)
    other = narratives(300, 5)
    same_place = sum(a.text == b.text for a, b in zip(narratives(300, 4), other, strict=True))
    assert same_place < 30
    assert len({e.text for e in other} - {e.text for e in narratives(300, 4)}) > 150


def test_narratives_give_every_typology_a_turn_and_ordinary_activity_two():
    counts = Counter(e.label for e in narratives(1300, 1))
    assert set(counts) == set(TYPOLOGY_LABELS)
    assert all(counts[label] == 100 for label in LABELS)
    assert counts[NONE] == 200


def test_narratives_stay_balanced_when_the_count_is_not_a_whole_number_of_turns():
    counts = Counter(e.label for e in narratives(1000, 2))
    assert set(counts) == set(TYPOLOGY_LABELS)
    assert all(abs(counts[label] - 1000 / 13) <= 1 for label in LABELS)
    assert abs(counts[NONE] - 2000 / 13) <= 2


def test_narratives_are_short_and_never_empty():
    examples = narratives(2600, 3)
    assert all(e.text.strip() for e in examples)
    assert max(words(e.text) for e in examples) <= 30
    assert sum(4 <= words(e.text) <= 25 for e in examples) / len(examples) > 0.75


def test_narratives_vary_within_every_label():
    examples = narratives(2600, 3)
    assert len({e.text for e in examples}) / len(examples) > 0.6
    for label in TYPOLOGY_LABELS:
        assert len({e.text for e in examples if e.label == label}) > 100


def test_ordinary_narratives_share_vocabulary_with_suspicious_ones():
    examples = narratives(5200, 6)
    ordinary = " ".join(e.text.lower() for e in examples if e.label == NONE)
    suspicious = " ".join(e.text.lower() for e in examples if e.label != NONE)
    for word in ("consult", "rent", "gift", "btc", "cash", "donation", "poa", "zakat", "freight", "ads"):
        assert word in ordinary
        assert word in suspicious


def test_narratives_look_keyed_into_a_bank_system():
    texts = [e.text for e in narratives(2600, 7)]
    assert sum(t.isupper() for t in texts) > 200
    assert any(re.search(r"\b(INV|REF|PMT|ACCT|TRF)\b", t) for t in texts)
    assert any(len(t) == 35 for t in texts)


def test_a_negative_count_is_refused():
    with pytest.raises(ValueError, match="negative"):
        narratives(-1, 0)
    with pytest.raises(ValueError, match="negative"):
        scenarios(-1, 0)


def signature(scenario: Scenario) -> tuple:
    bookings = tuple(
        (t.pk, t.amount, t.booked_at, t.direction, t.channel, t.counterparty_country, t.narrative)
        for t in (*scenario.history, scenario.transaction)
    )
    return (*bookings, scenario.suspicious, scenario.typology, scenario.planted)


def test_scenarios_are_the_same_for_a_seed_and_differ_for_another():
    assert [signature(s) for s in scenarios(40, 3)] == [signature(s) for s in scenarios(40, 3)]
    texts = {s.transaction.narrative for s in scenarios(200, 3)}
    assert len({s.transaction.narrative for s in scenarios(200, 4)} - texts) > 100


def test_half_the_scenarios_are_suspicious_and_every_typology_takes_turns(generated):
    assert sum(s.suspicious for s in generated) == SCENARIOS // 2
    assert all(s.suspicious == (s.typology != NONE) for s in generated)
    counts = Counter(s.typology for s in generated if s.suspicious)
    assert set(counts) == set(LABELS)
    assert max(counts.values()) - min(counts.values()) <= 1


def test_scenarios_are_unsaved_transactions_with_ids_on_an_account_of_a_customer(generated):
    every = [t for s in generated for t in (*s.history, s.transaction)]
    assert len({t.pk for t in every}) == len(every)
    for s in generated:
        transaction, account = s.transaction, s.transaction.account
        assert transaction.pk > 0
        assert transaction._state.adding
        assert transaction.account_id == account.pk
        assert account.customer_id == account.customer.pk
        times = [t.booked_at for t in s.history]
        assert times == sorted(times)
        assert times[-1] < transaction.booked_at
        for t in (*s.history, transaction):
            assert t.account is account
            assert t.currency == account.currency in {"EUR", "USD", "GBP"}
            assert t.amount > 0
            assert t.amount == t.amount.quantize(Decimal("0.01"))
            assert t.booked_at.tzinfo is UTC
            assert datetime(2026, 1, 1, tzinfo=UTC) <= t.booked_at < datetime(2027, 1, 1, tzinfo=UTC)
            assert t.channel in Channel.values
            assert t.direction in Direction.values
            assert re.fullmatch(r"[A-Z]{2}", t.counterparty_country) or (
                t.counterparty_country == "" and t.channel in (Channel.CASH, Channel.CRYPTO)
            )


def test_planted_patterns_fire_on_the_shipped_rules(generated, fired):
    for code in RULE_CODES:
        planting = [hits for s, hits in zip(generated, fired, strict=True) if code in s.planted]
        assert sum(code in hits for hits in planting) / len(planting) >= 0.9, code
        for suspicious in (True, False):
            assert any(code in s.planted for s in generated if s.suspicious == suspicious), (code, suspicious)


def test_rules_seldom_fire_where_nothing_was_planted(generated, fired):
    for code in RULE_CODES:
        unplanted = [hits for s, hits in zip(generated, fired, strict=True) if code not in s.planted]
        assert sum(code in hits for hits in unplanted) / len(unplanted) < 0.02, code


def test_rules_alone_do_not_separate_suspicious_from_ordinary(generated, fired):
    pairs = list(zip(generated, fired, strict=True))
    ordinary_hit = sum(bool(hits) for s, hits in pairs if not s.suspicious) / (SCENARIOS // 2)
    suspicious_missed = sum(not hits for s, hits in pairs if s.suspicious) / (SCENARIOS // 2)
    assert 0.2 < ordinary_hit < 0.5
    assert 0.2 < suspicious_missed < 0.5


def test_some_suspicious_scenarios_show_only_in_the_narrative(generated, fired):
    narrative_only = [
        s for s, hits in zip(generated, fired, strict=True) if s.suspicious and not s.planted and not hits
    ]
    assert len(narrative_only) > SCENARIOS * 0.1
    assert all(s.transaction.narrative for s in narrative_only)

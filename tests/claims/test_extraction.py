from datetime import date, timedelta
from itertools import pairwise

import pytest

from claims.extraction import KINDS, Span, extract
from claims.synthetic import MONTH_NAMES, generate

REFERENCE = date(2025, 3, 12)  # a Wednesday


def found(text: str, kind: str, reference_date: date | None = REFERENCE) -> list[tuple[str, str]]:
    """(evidence, value) of each span of one kind, checking that the span is its evidence."""
    spans = [span for span in extract(text, reference_date=reference_date) if span.kind == kind]
    return [(text[span.start : span.end], span.value) for span in spans]


@pytest.mark.parametrize(
    ("text", "evidence", "value"),
    [
        ("The loss was on 2025-03-03 at night.", "2025-03-03", "2025-03-03"),
        ("It happened on 3 March 2025.", "3 March 2025", "2025-03-03"),
        ("It happened on the 3rd of March, 2025, at noon.", "3rd of March, 2025", "2025-03-03"),
        ("It happened on March 3, 2025 in the car park.", "March 3, 2025", "2025-03-03"),
        ("It happened on Mar. 3 2025.", "Mar. 3 2025", "2025-03-03"),
        ("Date of loss: 03/04/2025.", "03/04/2025", "2025-03-04"),
        ("Date of loss: 3/4/25.", "3/4/25", "2025-03-04"),
    ],
)
def test_extracts_written_dates_as_iso_with_span(text, evidence, value):
    assert found(text, "date") == [(evidence, value)]


def test_numeric_dates_read_month_first():
    assert found("Seen on 12/01/2025 and 01/12/2025.", "date") == [
        ("12/01/2025", "2025-12-01"),
        ("01/12/2025", "2025-01-12"),
    ]


def test_dates_without_year_resolve_to_the_latest_not_after_the_reference():
    text = "It was March 3rd, or maybe 12 March, or the 20th of March."
    assert found(text, "date") == [
        ("March 3rd", "2025-03-03"),
        ("12 March", "2025-03-12"),
        ("20th of March", "2024-03-20"),
    ]
    assert found("It was on 29 February.", "date") == [("29 February", "2024-02-29")]


def test_dates_without_year_default_to_today():
    yesterday = date.today() - timedelta(days=1)
    written = f"{MONTH_NAMES[yesterday.month - 1]} {yesterday.day}"
    assert found(f"It happened on {written}.", "date", reference_date=None) == [
        (written, yesterday.isoformat())
    ]


def test_relative_dates_are_read_only_against_a_reference_date():
    text = "My car was hit yesterday and the bike was stolen last Tuesday; the day before yesterday too."
    assert found(text, "date", reference_date=None) == []
    assert found(text, "date") == [
        ("yesterday", "2025-03-11"),
        ("last Tuesday", "2025-03-11"),
        ("the day before yesterday", "2025-03-10"),
    ]
    assert found("Last Wednesday, it rained.", "date") == [("Last Wednesday", "2025-03-05")]


def test_impossible_dates_and_lone_years_are_not_dates():
    assert found("On 2025-02-30 or 13/45/2025 my 2019 car did 120,000 miles in May.", "date") == []


@pytest.mark.parametrize(
    ("text", "evidence", "value"),
    [
        ("The garage quoted $4,200 for it.", "$4,200", "4200.00 USD"),
        ("I paid 4,200.50 USD in total.", "4,200.50 USD", "4200.50 USD"),
        ("The bill is EUR 1,250.00 so far.", "EUR 1,250.00", "1250.00 EUR"),
        ("A new lock cost £300.", "£300", "300.00 GBP"),
        ("The car was worth about 12k dollars.", "12k dollars", "12000.00 USD"),
        ("Damage of around 3 thousand euros.", "3 thousand euros", "3000.00 EUR"),
        ("Claiming US$2.5 million for the warehouse.", "US$2.5 million", "2500000.00 USD"),
        ("It cost 75 gbp.", "75 gbp", "75.00 GBP"),
    ],
)
def test_extracts_amount_with_currency_and_span(text, evidence, value):
    assert found(text, "amount") == [(evidence, value)]


def test_bare_numbers_are_not_amounts():
    assert found("In 2019 my car had done 120,000 miles and 3 owners.", "amount") == []


def test_extracts_policy_numbers_upper_cased():
    text = (
        "Policy AUTO-2026-0001, also home-2025-004211; policy number ABC123456 and policy no. XY-99812. "
        "The policy number is unknown."
    )
    assert found(text, "policy_number") == [
        ("AUTO-2026-0001", "AUTO-2026-0001"),
        ("home-2025-004211", "HOME-2025-004211"),
        ("ABC123456", "ABC123456"),
        ("XY-99812", "XY-99812"),
    ]


def test_extracts_people_roles_and_organisations():
    text = (
        "The other driver, Tom Reyes, disputes it. A witness, Jane Doe, saw it, and so did my neighbour. "
        "Mr. O'Brien took it to Patel & Sons Garage, then Dr Amelia Okafor at St Mary's Hospital saw me. "
        "Yesterday Riverside Clinic and Acme Ltd called; Sarah Jones wrote."
    )
    assert [evidence for evidence, _ in found(text, "party")] == [
        "Tom Reyes",
        "Jane Doe",
        "my neighbour",
        "Mr. O'Brien",
        "Patel & Sons Garage",
        "Dr Amelia Okafor",
        "St Mary's Hospital",
        "Riverside Clinic",
        "Acme Ltd",
        "Sarah Jones",
    ]
    assert found("I was hit by the other driver.", "party") == [("the other driver", "the other driver")]


def test_extracts_vehicles_and_plates():
    text = (
        "My 2019 Toyota Corolla, registration KX19 ABC, hit a Tesla Model 3 with licence plate 7ABC123. "
        "The Ford was fine."
    )
    assert found(text, "vehicle") == [
        ("2019 Toyota Corolla", "2019 Toyota Corolla"),
        ("KX19 ABC", "KX19 ABC"),
        ("Tesla Model 3", "Tesla Model 3"),
        ("7ABC123", "7ABC123"),
        ("Ford", "Ford"),
    ]
    assert found("Code 7ABC123 is not a plate here.", "vehicle") == []


def test_extracts_addresses_rooms_and_dwellings():
    text = (
        "Water came from Flat 4, 22 High Road into the kitchen ceiling of my flat at 12 Elm Street; "
        "the roof and the back door are damaged."
    )
    assert [evidence for evidence, _ in found(text, "property")] == [
        "Flat 4, 22 High Road",
        "kitchen",
        "ceiling",
        "my flat",
        "12 Elm Street",
        "roof",
        "back door",
    ]
    assert found("Someone smashed the side window of the car.", "property") == []


def test_words_inside_an_organisation_name_belong_to_the_party():
    text = "I took it to Elm Street Garage, then parked it in my garage."
    assert found(text, "party") == [("Elm Street Garage", "Elm Street Garage")]
    assert found(text, "property") == [("garage", "garage")]
    assert found("Ford Motors repaired it.", "vehicle") == []


def test_extracts_injuries_with_body_parts():
    text = (
        "I have whiplash, a fractured left wrist and concussion; he broke his arm, has burns to both hands, "
        "two cracked ribs, a torn knee ligament, neck pain, a back injury and a hairline fracture "
        "of the right ankle. The back door was broken."
    )
    assert [evidence for evidence, _ in found(text, "injury")] == [
        "whiplash",
        "fractured left wrist",
        "concussion",
        "broke his arm",
        "burns to both hands",
        "cracked ribs",
        "torn knee ligament",
        "neck pain",
        "back injury",
        "hairline fracture of the right ankle",
    ]


def test_spans_are_sorted_and_never_overlap_within_a_kind():
    text = (
        "On 3 March 2025 my 2019 Toyota Corolla (KX19 ABC) was hit on 12 Elm Street by Mr Tom Reyes, "
        "the other driver; Dr Okafor at Leeds General Hospital treated my fractured left wrist. "
        "Policy AUTO-2025-004211, about $4,200. "
    ) * 3
    spans = extract(text, reference_date=REFERENCE)
    assert spans == sorted(spans, key=lambda span: span.start)
    assert {span.kind for span in spans} == set(KINDS)
    for kind in KINDS:
        same = [span for span in spans if span.kind == kind]
        assert all(a.end <= b.start for a, b in pairwise(same))


def test_spans_stay_aligned_after_characters_that_change_length_when_lowered():
    text = "İstanbul trip: we paid $300 for the hotel and got whiplash."
    spans = extract(text)
    assert [(text[s.start : s.end], s.kind) for s in spans] == [("$300", "amount"), ("whiplash", "injury")]
    assert spans[0] == Span("amount", "300.00 USD", text.index("$300"), text.index("$300") + 4)


def test_extraction_on_generated_descriptions_finds_the_policy_number():
    _, claims = generate(1500, seed=8)
    mentioning = [claim for claim in claims if claim.policy_number in claim.description]
    assert len(mentioning) > 200
    for claim in mentioning:
        numbers = [s.value for s in extract(claim.description) if s.kind == "policy_number"]
        assert numbers == [claim.policy_number], claim.description


def test_extraction_on_generated_descriptions_never_overlaps_within_a_kind():
    _, claims = generate(500, seed=4)
    for claim in claims:
        spans = extract(claim.description, reference_date=claim.reported_date)
        for kind in KINDS:
            same = [span for span in spans if span.kind == kind]
            assert all(a.end <= b.start for a, b in pairwise(same)), claim.description

import pytest

from assistant.knowledge.facets import question_filters, question_years
from assistant.knowledge.models import Collection, Document

FILINGS = [
    ("JOHNSON_JOHNSON_2022_10K", "Johnson & Johnson", 2022),
    ("JOHNSON_JOHNSON_2023Q2_10Q", "Johnson & Johnson", 2023),
    ("AMERICANEXPRESS_2022_10K", "American Express", 2022),
    ("AMERICANWATERWORKS_2020_10K", "American Water Works", 2020),
    ("MGMRESORTS_2022Q4_EARNINGS", "MGM Resorts", 2022),
    ("PEPSICO_2022_10K", "PepsiCo", 2022),
]


@pytest.fixture
def filings(db) -> list[int]:
    collection = Collection.objects.create(name="filings")
    for external_id, company, period in FILINGS:
        Document.objects.create(
            collection=collection,
            external_id=external_id,
            title=external_id,
            checksum=external_id,
            metadata={"company": company, "doc_period": period},
        )
    return [collection.pk]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (
            "What was American Express's largest liability in FY2022?",
            {"company": "American Express", "doc_period": 2022},
        ),
        ("How did Pepsico's revenue change in FY22?", {"company": "PepsiCo", "doc_period": 2022}),
        (
            "Which region had the highest EBITDAR for MGM during FY2022?",
            {"company": "MGM Resorts", "doc_period": 2022},
        ),
        ("Did Johnson & Johnson raise guidance in 2019?", {"company": "Johnson & Johnson"}),
        ("Compare American Express and PepsiCo in 2022", {}),
        ("What is American's dividend?", {}),
        ("What drives inflation?", {}),
    ],
)
def test_a_question_is_narrowed_to_the_one_company_and_year_it_names(filings, question, expected):
    assert question_filters(question, filings) == expected


def test_years_are_read_in_the_forms_filings_questions_use():
    assert question_years("FY2015 - FY2017 average, Q2'2023, FY22 and 2019") == {2015, 2017, 2023, 2022, 2019}

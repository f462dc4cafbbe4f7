"""Answers keep to what the question names (the demo funds' sheets, as retrieval returns them)."""

import pytest

from assistant.generation.base import Passage, Prompt, grounding
from assistant.generation.extractive import Extractive
from assistant.generation.subjects import CLIENT, subjects_of

BOND = "Northbridge Short Duration Bond Fund"
BALANCED = "Northbridge Sustainable Balanced Portfolio"
EQUITY = "Northbridge Global Equity Index Fund"
RESEARCH = "Equity market concentration"
PASSAGES = [
    Passage(1, "The ongoing charge is 0.45% a year, including the underlying funds.", BALANCED,
            heading=f"{BALANCED} > Costs", similarity=0.61),
    Passage(2, "The ongoing charge is 0.25% a year. There is no entry or exit fee.", BOND,
            heading=f"{BOND} > Costs", similarity=0.6),
    Passage(3, "The fund aims to track the MSCI World Index before fees. It holds around 1,500 companies.",
            EQUITY, heading=f"{EQUITY} > Objective", similarity=0.5),
    Passage(4, "The risk indicator is 2 on a scale of 1 to 7. Bond prices fall when interest rates rise.",
            BOND, heading=f"{BOND} > Risk", similarity=0.45),
    Passage(5, "The risk indicator is 4 on a scale of 1 to 7. The portfolio is rebalanced every quarter.",
            BALANCED, heading=f"{BALANCED} > Risk", similarity=0.44),
    Passage(6, "The fund's risk indicator is 5 on a scale of 1 to 7. Returns follow world stock markets.",
            EQUITY, heading=f"{EQUITY} > Risk", similarity=0.43),
    Passage(7, "The ten largest companies make up a quarter of the world equity index.", RESEARCH,
            similarity=0.3),
]  # fmt: skip


def _answer(question: str, passages: list[Passage] = PASSAGES) -> str:
    return "".join(Extractive().stream(Prompt(question, passages))).strip()


@pytest.mark.parametrize(
    ("question", "named"),
    [
        ("What fees does the Short Duration Bond Fund charge?", {BOND}),
        ("What is the risk indicator of the Balanced Portfolio?", {BALANCED}),
        ("Which index does the equity fund track?", {EQUITY}),
        ("Compare the bond fund with the equity fund", {BOND, EQUITY}),
        ("How concentrated is the equity market?", {RESEARCH}),
        ("What is the ongoing charge of each fund?", set()),
        ("What do Northbridge funds cost?", set()),
    ],
)
def test_the_subjects_a_question_names(question, named):
    assert subjects_of(Prompt(question, PASSAGES)).named == named


def test_an_answer_about_one_fund_takes_nothing_from_the_others():
    answer = _answer("What fees does the Short Duration Bond Fund charge?")
    assert answer == "The ongoing charge is 0.25% a year. [2] There is no entry or exit fee. [2]"

    answer = _answer("What is the risk indicator of the Balanced Portfolio?")
    assert answer == "The risk indicator is 4 on a scale of 1 to 7. [5]"


def test_with_no_subject_named_each_sentence_stands_under_its_subject():
    answer = _answer("What is the risk indicator?")
    assert answer.split("\n\n") == [
        f"{BOND}: The risk indicator is 2 on a scale of 1 to 7. [4]",
        f"{BALANCED}: The risk indicator is 4 on a scale of 1 to 7. [5]",
        f"{EQUITY}: The fund's risk indicator is 5 on a scale of 1 to 7. [6]",
    ]


def test_a_question_naming_two_subjects_labels_each():
    answer = _answer("What is the risk indicator of the bond fund and of the equity fund?")
    assert answer.split("\n\n") == [
        f"{BOND}: The risk indicator is 2 on a scale of 1 to 7. [4]",
        f"{EQUITY}: The fund's risk indicator is 5 on a scale of 1 to 7. [6]",
    ]


def test_the_clients_letters_stay_in_scope_whatever_the_question_names():
    letter = Passage(8, "I would like lower risk and the bond fund's income.", "Letter of 3 Mar 2026 (Ann)",
                     similarity=0.5, subject=CLIENT)  # fmt: skip
    prompt = Prompt("Does the bond fund suit the risk the client wants?", [*PASSAGES, letter])
    assert subjects_of(prompt).named == {BOND}
    assert "[8]" in "".join(Extractive().stream(prompt))


def test_citing_a_passage_about_another_subject_is_a_grounding_warning():
    prompt = Prompt("What fees does the Short Duration Bond Fund charge?", PASSAGES)
    text = "The fund charges 0.25% a year [2] and tracks the MSCI World Index [3]."

    (warning,) = grounding(text, prompt)

    assert text[warning["start"] : warning["end"]] == "[3]"
    assert warning["reason"] == f"the passage is about {EQUITY}; the question asks about {BOND}"
    assert grounding("The fund charges 0.25% a year [2].", prompt) == []

"""Chinese questions and passages: sentences, words, numbers written with 万 and 亿, and the extractive
answer composed from them."""

import pytest

from assistant.generation.base import NO_ANSWER, NO_ANSWER_ZH, Fact, Passage, Prompt, grounding
from assistant.generation.extractive import Extractive
from assistant.generation.subjects import subjects_of
from assistant.generation.text import joined, numbers, sentences, terms, ungrounded_numbers

BOND = "稳健债券基金产品说明"
EQUITY = "全球股票指数基金产品说明"
ENGLISH_EQUITY = "Northbridge Global Equity Index Fund"
PASSAGES = [
    Passage(1, "本基金主要投资于三年内到期的债券。本基金的管理费为每年0.25%。最低投资额为1万元。", BOND,
            heading=f"{BOND} > 费用", similarity=0.6),
    Passage(2, "本基金跟踪MSCI世界指数。本基金的管理费为每年0.45%，不收取申购费。", EQUITY,
            heading=f"{EQUITY} > 费用", similarity=0.55),
    Passage(3, "本基金的风险等级为R2。债券价格在利率上升时下跌。", BOND, heading=f"{BOND} > 风险",
            similarity=0.5),
]  # fmt: skip


def _answer(question: str, passages: list[Passage] = PASSAGES) -> str:
    return "".join(Extractive().stream(Prompt(question, passages))).strip()


def test_chinese_text_splits_at_its_stops_with_no_space_after_them():
    assert sentences("本基金的管理费为每年0.45%。最低投资额为1万元。") == [
        "本基金的管理费为每年0.45%。",
        "最低投资额为1万元。",
    ]
    text = "他说：“收益稳定。”赎回费为零!申购费为1.5%;管理费另行计算？\nThe fund is good. It pays 5%."
    assert sentences(text) == [
        "他说：“收益稳定。”",
        "赎回费为零!",
        "申购费为1.5%;",
        "管理费另行计算？",
        "The fund is good.",
        "It pays 5%.",
    ]


def test_chinese_words_are_jiebas_without_function_words_and_english_ones_are_stemmed():
    assert terms("稳健债券基金的管理费是多少？") == ["稳健", "债券", "基金", "管理费"]
    assert terms("请问我们可以怎么投资这个基金？") == ["投资", "基金"]
    assert terms("The bond funds 的管理费") == ["bond", "fund", "管理费"]


def test_numbers_are_read_with_their_chinese_multipliers_and_full_width_digits():
    text = "最低投资额为2.5万元，规模1.2亿元，另有3百万、1千和５％，１．５％，分别为100，200。"
    assert [token for _, _, token in numbers(text)] == [
        "2.5万", "1.2亿", "3百万", "1千", "５％", "１．５％", "100", "200",
    ]  # fmt: skip
    assert [token for _, _, token in numbers("成立于２０２４年３月５日")] == ["２０２４", "３", "５"]


@pytest.mark.parametrize(
    ("answer", "source"),
    [
        ("最低投资额为2.5万元", "The minimum investment is 25,000."),
        ("The minimum investment is 25,000.", "最低投资额为2.5万元"),
        ("规模为1.2亿元", "Assets of 120,000,000"),
        ("最低投资额为3万元", "minimum 30000"),
        ("1千", "1,000"),
        ("3百万", "3,000,000"),
        ("费率为５％", "a fee of 5%"),
        ("费率为１．５％", "a fee of 1.5%"),
        ("管理费为每年0.45%", "The ongoing charge is 0.45% a year."),
        ("成立于2024年3月", "founded in March 2024; 3 share classes"),
    ],
)
def test_an_amount_is_grounded_by_the_same_value_however_it_is_written(answer, source):
    assert ungrounded_numbers(answer, [source]) == []


def test_a_different_value_is_ungrounded_whichever_language_says_it():
    answer = "最低投资额为3万元。[1]"
    prompt = Prompt("最低投资额是多少？", [Passage(1, "The minimum investment is 25,000.", ENGLISH_EQUITY)])

    (mark,) = grounding(answer, prompt)

    assert (mark["text"], answer[mark["start"] : mark["end"]]) == ("3万", "3万")
    assert grounding("最低投资额为2.5万元。[1]", prompt) == []


def test_a_chinese_question_names_a_chinese_title_by_its_words():
    assert subjects_of(Prompt("稳健债券基金的管理费是多少？", PASSAGES)).named == {BOND}
    assert subjects_of(Prompt("全球股票指数基金跟踪什么指数？", PASSAGES)).named == {EQUITY}
    assert subjects_of(Prompt("基金的管理费是多少？", PASSAGES)).named == set()


def test_a_chinese_question_is_answered_with_cited_chinese_sentences_run_together():
    assert _answer("稳健债券基金的管理费是多少？") == "本基金的管理费为每年0.25%。[1]"
    assert _answer("稳健债券基金的管理费和风险等级是多少？") == (
        "本基金的管理费为每年0.25%。[1]本基金的风险等级为R2。[3]"
    )


def test_client_fields_lead_a_chinese_answer_in_chinese_wording():
    facts = [Fact("risk_tolerance", "risk tolerance", "moderate"), Fact("horizon_years", "horizon", "5")]
    answer = "".join(Extractive().stream(Prompt("稳健债券基金的最低投资额是多少？", PASSAGES, facts)))
    assert answer == "客户档案：risk tolerance: moderate；horizon: 5。\n\n最低投资额为1万元。[1]"


def test_with_no_subject_named_each_chinese_sentence_stands_under_its_title():
    assert _answer("管理费是多少？").split("\n\n") == [
        f"{BOND}：本基金的管理费为每年0.25%。[1]",
        f"{EQUITY}：本基金的管理费为每年0.45%，不收取申购费。[2]",
    ]


def test_a_chinese_question_the_passages_do_not_answer_gets_the_chinese_no_answer(settings):
    settings.GENERATION_MIN_RELEVANCE = 0.7
    assert _answer("谁赢得了1998年世界杯？") == NO_ANSWER_ZH
    assert _answer("谁赢得了1998年世界杯？", []) == NO_ANSWER_ZH
    assert _answer("Who won the 1998 world cup?") == NO_ANSWER


def test_in_a_mixed_passage_set_each_question_is_answered_from_its_own_language():
    english = "The fund aims to track the MSCI World Index before fees. It holds around 1,500 companies."
    passages = [
        Passage(1, "本基金跟踪MSCI世界指数。本基金持有约1500家公司的股票。", EQUITY, similarity=0.5),
        Passage(2, english, ENGLISH_EQUITY, similarity=0.5),
    ]

    assert _answer("这只基金持有多少家公司？", passages) == f"{EQUITY}：本基金持有约1500家公司的股票。[1]"
    assert _answer("How many companies does the equity index fund hold?", passages) == (
        "It holds around 1,500 companies. [2]"
    )
    answer = "本基金持有约1500家公司的股票。[1] It holds around 1,500 companies. [2]"
    assert grounding(answer, Prompt("持有多少家公司？", passages)) == []


def test_chinese_sentences_run_together_and_english_ones_keep_their_spaces():
    assert joined(["管理费为0.25%。[1]", "风险等级为R2。[3]", "The fee is 0.25%. [4]", "费率为零。[5]"]) == (
        "管理费为0.25%。[1]风险等级为R2。[3] The fee is 0.25%. [4] 费率为零。[5]"
    )

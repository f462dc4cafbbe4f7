"""A Chinese product sheet ingested, segmented, searched by a Chinese question and answered with
citations, on the multilingual model beside the English collections."""

import pytest

from advisory.models import Answer
from advisory.services import answer_create, fields_needed
from assistant.core import roles
from assistant.core.e5 import MULTILINGUAL_MODEL
from assistant.generation.base import NO_ANSWER_ZH
from assistant.knowledge.models import Chunk, Document
from assistant.knowledge.services.submission import collection_get_or_create

SHEET = """# 北桥短久期债券基金

## 基本信息

- 基金规模：约12亿元（截至2026年3月31日）
- 最低投资金额：1万元，追加投资每次最低1000元

## 费用

年度持续费用为0.25%。不收取申购费和赎回费。

## 风险

利率上升时债券价格会下跌：利率每上升1个百分点，基金净值预计下跌约1.5%。
"""


@pytest.fixture
def chinese_products(knowledge, index_files):
    collection = collection_get_or_create(
        name="products-zh", reader_groups=[roles.ADVISOR], embedding_model=MULTILINGUAL_MODEL
    )
    index_files(collection, [("short-duration-bond-fund-zh.md", SHEET.encode())])
    return collection


def test_a_chinese_question_is_answered_from_the_chinese_sheet_with_citations(advisors, chinese_products):
    document = Document.objects.get(collection=chinese_products)
    assert document.language == "zh"
    assert all(chunk.words for chunk in Chunk.objects.filter(document=document))

    answer = answer_create(
        advisor=advisors["alice"], question="这只债券基金的年度费用是多少？", scope="knowledge"
    )

    assert answer.status == Answer.Status.COMPLETE
    # The English defaults (products, research) do not read Chinese: the Chinese sheets answer.
    assert answer.collections == ["products-zh"]
    assert "年度持续费用为0.25%。[1]" in answer.text
    first = answer.citations.get(number=1)
    assert (first.collection, first.external_id) == ("products-zh", "short-duration-bond-fund-zh.md")
    assert answer.ungrounded == []


def test_a_figure_written_in_wan_is_grounded_by_the_sheet(advisors, chinese_products):
    answer = answer_create(advisor=advisors["alice"], question="最低投资金额是多少？", scope="knowledge")
    assert "1万元" in answer.text
    assert answer.ungrounded == []


def test_a_chinese_question_the_sheets_do_not_answer_gets_the_chinese_no_answer(advisors, chinese_products):
    answer = answer_create(advisor=advisors["alice"], question="明天北京会下雨吗？", scope="knowledge")
    assert answer.text == NO_ANSWER_ZH


def test_an_english_question_keeps_the_english_defaults(advisors, chinese_products):
    answer = answer_create(
        advisor=advisors["alice"], question="What is the ongoing charge of the bond fund?", scope="knowledge"
    )
    assert answer.collections == ["products", "research"]
    assert "0.25% a year" in answer.text


@pytest.mark.parametrize(
    ("question", "fields"),
    [
        ("她能承受多大的风险？", ["risk_tolerance"]),
        ("他打算什么时候退休？", ["age", "goals", "horizon_years"]),
        ("这只债券基金适合她吗？", ["risk_tolerance", "goals", "horizon_years", "restrictions", "holdings"]),
        (
            "给我一个这位客户的概况",
            ["age", "income_band", "risk_tolerance", "goals", "horizon_years", "restrictions", "holdings"],
        ),
        ("她的投资组合里持有哪些基金？", ["holdings"]),
        ("她有没有不想投资的行业，比如烟草？", ["restrictions"]),
        ("央行最近做了什么？", []),
    ],
)
def test_a_chinese_question_gets_only_the_client_fields_it_needs(question, fields):
    assert fields_needed(question) == fields

import pytest

from assistant.core.language import detect, gap, has_han, segmented, words


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("How do I dispute a charge?", "en"),
        ("信用卡年费是多少？", "zh"),
        ("CFPB是什么机构？", "zh"),
        ("我想买 Global Equity Index Fund 的份额", "zh"),
        ("Mr Wang (王先生) asked about his pension and the annual fee on his card.", "en"),
        ("", "en"),
        ("12345", "en"),
    ],
)
def test_language_is_detected_by_han_characters_against_latin_words(text, language):
    assert detect(text) == language


def test_chinese_is_segmented_into_words_and_english_left_as_written():
    assert segmented("信用卡年费是多少？") == "信用卡 年费 ？"
    assert segmented("我的 Visa 卡被冻结了") == "Visa 卡 冻结"
    assert segmented("How do I freeze my card?") == "How do I freeze my card?"
    assert not has_han(segmented("How do I freeze my card?"))


def test_words_drop_punctuation_and_lower_latin_letters():
    assert words("单日转账限额为2.5万元，Visa卡。") == [
        "单日",
        "转账",
        "限额",
        "为",
        "2.5",
        "万元",
        "visa",
        "卡",
    ]


def test_only_two_chinese_sentences_follow_each_other_without_a_space():
    assert gap("管理费为每年0.25%。", "最低投资额为1万元。") == ""
    assert gap("管理费为每年0.25%。", "The fee is 0.25%.") == " "
    assert gap("The fee is 0.25%.", "Minimum 10,000.") == " "

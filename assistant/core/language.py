"""Which language a text is written in, and its words where the language writes no spaces.

Chinese is written without spaces between words, so everything that counts words (full-text
search, BM25, the extractive backend) first segments it: `rjieba`, jieba's Rust port with its
dictionary compiled in. Other text is left to the code that already splits it at spaces.
"""

from __future__ import annotations

import re
from typing import Literal

Language = Literal["en", "zh"]
LANGUAGES: tuple[Language, ...] = ("en", "zh")

# CJK Unified Ideographs, Extension A and the compatibility block: the Han characters.
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN = re.compile(f"[{HAN}]")
_LATIN_WORD = re.compile(r"[A-Za-z]+")
# A word of lower-cased English text: letters and digits, with an apostrophe's ending ("don't").
ENGLISH_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
# Chinese stops end a sentence wherever they are, with no space after them, and keep a closing
# quote or bracket that follows them: a pattern to put in a sentence splitter.
STOPS = "。！？；"
CLOSERS = "”’」』）》"
CHINESE_SENTENCE_END = rf"(?:(?<=[{STOPS}])|(?<=[{STOPS}][{CLOSERS}]))(?![{STOPS}{CLOSERS}])"

# English function words and the verbs a request is phrased with.
STOPWORDS_EN = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "also",
        "may",
        "might",
        "must",
        "shall",
        "per",
        "via",
        "please",
        "state",
        "explain",
        "tell",
        "give",
        "show",
        "based",
        "using",
        "use",
        "according",
    ]
)

# Chinese function words and question words: what a question asks with, not what it asks about.
STOPWORDS_ZH = frozenset(
    [
        "如果",
        "因为",
        "所以",
        "但是",
        "然后",
        "的",
        "地",
        "得",
        "了",
        "着",
        "过",
        "是",
        "在",
        "和",
        "与",
        "及",
        "以及",
        "或",
        "或者",
        "吗",
        "呢",
        "吧",
        "啊",
        "呀",
        "我",
        "你",
        "您",
        "他",
        "她",
        "它",
        "我们",
        "你们",
        "他们",
        "什么",
        "怎么",
        "怎样",
        "如何",
        "多少",
        "哪些",
        "哪个",
        "哪",
        "几",
        "谁",
        "是否",
        "可以",
        "能",
        "能否",
        "会",
        "有",
        "没有",
        "这",
        "那",
        "这个",
        "那个",
        "这些",
        "那些",
        "个",
        "为",
        "对",
        "把",
        "被",
        "从",
        "到",
        "就",
        "都",
        "也",
        "还",
        "请",
        "请问",
        "问",
        "本",
        "该",
        "其",
        "之",
        "于",
        "以",
        "等",
        "要",
        "想",
        "告诉",
        "一下",
        "根据",
    ]
)

_SPACES = re.compile(r"\s+")


def has_han(text: str) -> bool:
    return _HAN.search(text) is not None


def detect(text: str) -> Language:
    """Chinese where Han characters outnumber Latin words: a Chinese question naming "CFPB" or a
    fund's English ticker is still Chinese; an English letter quoting a Chinese name is not."""
    han = len(_HAN.findall(text))
    return "zh" if han and han >= len(_LATIN_WORD.findall(text)) else "en"


def gap(before: str, after: str) -> str:
    """What stands between two sentences of a paragraph: nothing between two Chinese ones, which
    follow each other without a space, else a space."""
    return "" if detect(before) == detect(after) == "zh" else " "


def segmented(text: str) -> str:
    """The text with one space between its words, for full-text search: Han runs cut by jieba and
    their function words dropped (as the English configuration drops "the"), the rest kept as
    written. Text without Han characters comes back unchanged, so English is indexed as before.
    """
    if not has_han(text):
        return text
    import rjieba

    cut = rjieba.cut(_SPACES.sub(" ", text))
    return " ".join(word for word in cut if not word.isspace() and word not in STOPWORDS_ZH)


def words(text: str, *, finest: bool = False) -> list[str]:
    """The words of a text, lower-cased: jieba's segmentation of Han runs (`finest`: long words cut
    into their parts, as jieba cuts for search), letters and digits elsewhere; punctuation dropped."""
    import rjieba

    cut = rjieba.cut_for_search(text) if finest else rjieba.cut(text)
    return [word.lower() for word in cut if any(char.isalnum() for char in word)]

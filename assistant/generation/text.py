"""Sentences, content words and numbers of English and Chinese text, for the extractive answer and
grounding."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from itertools import pairwise

from assistant.core.language import (
    CHINESE_SENTENCE_END,
    ENGLISH_WORD,
    HAN,
    STOPWORDS_EN,
    STOPWORDS_ZH,
    gap,
    has_han,
    words,
)

_HAN_RUNS = re.compile(f"([{HAN}]+)")
# Full-width forms (０-９, ％, ．, ￥) read as ASCII ones, one character for one so that positions
# hold; but for the full-width comma, which separates clauses in Chinese, never thousands.
_ASCII = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F) if chr(code) != "，"} | {ord("￥"): ord("¥")}
# Chinese stops end a sentence wherever they are (with a closing quote after them); ASCII ones
# followed by a Han character with no space between do too, as Chinese text writes them.
_SENTENCE_END = re.compile(
    r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9$])" rf"|{CHINESE_SENTENCE_END}" rf"|(?<=[.!?;])(?=[{HAN}])"
)
# A number not inside a word (a Han character before it is no word of its), with what Chinese
# writes after it to multiply it: 2.5万 is 25,000, 1.2亿 120,000,000, 3百万 3,000,000.
_NUMBER = re.compile(
    rf"(?<![^\W{HAN}])(?<!\.)[-$€£¥]?\d[\d,]*(?:\.\d+)?"
    r"(?:%|[十百千]?万?亿|[十百千]?万|[百千])?"
)
_UNITS = {"十": 10, "百": 100, "千": 1_000, "万": 10_000, "亿": 100_000_000}
_CITATION = re.compile(r"\[\d+\]")


# (suffix, replacement, endings it does not apply to): plurals as Harman's S-stemmer takes them
# ("rates" and "rate" meet at "rate"), then a few verb and adverb endings.
_SUFFIXES = (
    ("ies", "y", ()),
    ("ing", "", ()),
    ("ed", "", ()),
    ("es", "e", ("aes", "ees", "oes")),
    ("s", "", ("us", "ss")),
    ("ly", "", ()),
)


def stem(word: str) -> str:
    for suffix, replacement, spared in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word if word.endswith(spared) else word[: -len(suffix)] + replacement
    return word


def _english_terms(text: str) -> list[str]:
    return [stem(w) for w in ENGLISH_WORD.findall(text.lower()) if w not in STOPWORDS_EN and len(w) > 1]


def _chinese_terms(text: str) -> list[str]:
    return [word for word in words(text) if word not in STOPWORDS_ZH]


def terms(text: str) -> list[str]:
    """Content words, in order: English ones lowercased and stemmed, Chinese ones as jieba cuts them."""
    return [
        term
        for index, part in enumerate(_HAN_RUNS.split(text))
        for term in (_chinese_terms(part) if index % 2 else _english_terms(part))
    ]


# Words are compared by this many first letters of their stems: "concentrated" meets "concentration",
# "investor" meets "investment" (truncation stemming).
ROOT_CHARS = 6


def roots(text: str) -> set[str]:
    """The content words of the text as they are compared: stemmed, then cut to ROOT_CHARS letters."""
    return {term[:ROOT_CHARS] for term in terms(text)}


def sentences(text: str) -> list[str]:
    """Sentences and table-like lines of a passage, whitespace normalised."""
    found = []
    for line in text.splitlines():
        for sentence in _SENTENCE_END.split(line):
            sentence = " ".join(sentence.split())
            if len(words(sentence) if has_han(sentence) else sentence.split()) >= 3:
                found.append(sentence)
    return found


def joined(sentences: Sequence[str]) -> str:
    """Sentences as one paragraph: a space between two, unless both are Chinese."""
    gaps = [gap(before, after) for before, after in pairwise(sentences)]
    return "".join(sentence + gap for sentence, gap in zip(sentences, [*gaps, ""], strict=True))


def _value(token: str) -> Decimal | None:
    amount = token.rstrip("".join(_UNITS))
    scale = math.prod(_UNITS[unit] for unit in token[len(amount) :])
    try:
        return Decimal(amount.strip("-$€£¥%").replace(",", "")) * scale
    except InvalidOperation:
        return None


def _valued(text: str) -> list[tuple[int, int, Decimal]]:
    """(start, end, value) of every number in the text, citation markers excepted."""
    text = text.translate(_ASCII)
    spans = [m.span() for m in _CITATION.finditer(text)]
    found = []
    for match in _NUMBER.finditer(text):
        value = _value(match.group())
        if value is not None and not any(start <= match.start() < end for start, end in spans):
            found.append((match.start(), match.end(), value))
    return found


def numbers(text: str) -> list[tuple[int, int, str]]:
    """(start, end, token) of every number in the text, citation markers excepted. Full-width digits
    count; a number followed by 年, 月 or 日 is a part of a date, read as the number it is."""
    return [(start, end, text[start:end]) for start, end, _ in _valued(text)]


def ungrounded_numbers(answer: str, sources: list[str]) -> list[dict[str, object]]:
    """Numbers in `answer` whose value appears in none of `sources`, with their positions. Values
    compare across the ways of writing them: 2.5万 in one is 25,000 in the other."""
    known = {value for source in sources for _, _, value in _valued(source)}
    return [
        {"start": start, "end": end, "text": answer[start:end]}
        for start, end, value in _valued(answer)
        if value not in known
    ]

"""Sentences, content words and numbers of English text, for the extractive answer and grounding."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

STOPWORDS = frozenset(
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
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9$])")
_NUMBER = re.compile(r"(?<![\w.])[-$€£]?\d[\d,]*(?:\.\d+)?%?")
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


def terms(text: str) -> list[str]:
    """Content words, lowercased and stemmed, in order."""
    return [stem(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 1]


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
            if len(sentence.split()) >= 3:
                found.append(sentence)
    return found


def _value(token: str) -> Decimal | None:
    try:
        return Decimal(token.strip("-$€£%").replace(",", ""))
    except InvalidOperation:
        return None


def numbers(text: str) -> list[tuple[int, int, str]]:
    """(start, end, token) of every number in the text, citation markers excepted."""
    spans = [m.span() for m in _CITATION.finditer(text)]
    return [
        (m.start(), m.end(), m.group())
        for m in _NUMBER.finditer(text)
        if not any(start <= m.start() < end for start, end in spans) and _value(m.group()) is not None
    ]


def ungrounded_numbers(answer: str, sources: list[str]) -> list[dict[str, object]]:
    """Numbers in `answer` whose value appears in none of `sources`, with their positions."""
    known = {_value(token) for source in sources for _, _, token in numbers(source)}
    return [
        {"start": start, "end": end, "text": token}
        for start, end, token in numbers(answer)
        if _value(token) not in known
    ]

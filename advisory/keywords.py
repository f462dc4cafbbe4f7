"""Keywords from client letters with the off-the-shelf embedding model and rules: no training, no RAG.

Two layers:
- `keyphrases`: candidate phrases (runs of up to three content words) ranked by how close
  their embedding is to the whole text's, with frequency and first position as tie-breakers
  (KeyBERT's idea). This layer is general and is what `evaluate_keywords` measures on
  500N-KPCrowd.
- `letter_keywords`: the advisory categories (assets, goals, risk tolerance, time horizon,
  life events). Rules find the phrasings advisors know ("retire at 62", "can't afford to
  lose"); the ranked keyphrases that rules miss join a category when their embedding is
  close enough to that category's description. Every keyword keeps its text span.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
from django.conf import settings

from assistant.core.language import STOPWORDS_EN
from assistant.knowledge.embedding import embedder

MAX_WORDS = 3
_TOKEN = re.compile(r"[A-Za-z][A-Za-z'&-]*|\d[\d,.]*%?")
# Only the phrases that are frequent or early are embedded: KeyBERT's similarity alone favours
# rare phrases close to the text's topic, which readers do not pick (docs/advisory.md, Keywords from letters).
SHORTLIST = 80
# Weights of the ranking features, chosen on a quarter of the shared 500N-KPCrowd documents.
SIMILARITY_WEIGHT = 0.5
FREQUENCY_WEIGHT = 0.3
POSITION_WEIGHT = 0.1
SINGLE_WORD_WEIGHT = 0.2


@dataclass(frozen=True)
class Span:
    phrase: str
    start: int
    end: int
    score: float


def _candidates(text: str) -> dict[str, list[tuple[int, int]]]:
    """Phrase (lowercased) -> its spans: runs of 1-3 tokens that neither start nor end on a stopword."""
    tokens = [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]
    found: dict[str, list[tuple[int, int]]] = {}
    for i in range(len(tokens)):
        for n in range(1, MAX_WORDS + 1):
            run = tokens[i : i + n]
            if len(run) < n:
                break
            if any(text[a[2] : b[1]].strip() not in ("", "-") for a, b in itertools.pairwise(run)):
                break  # punctuation between words ends a phrase
            words = [t[0].lower() for t in run]
            if words[0] in STOPWORDS_EN or words[-1] in STOPWORDS_EN or len(words[-1]) < 2:
                continue
            found.setdefault(" ".join(words), []).append((run[0][1], run[-1][2]))
    return found


def keyphrases(text: str, *, top: int = 10) -> list[Span]:
    """The `top` phrases that best stand for the text, best first, no phrase inside a better one."""
    candidates = _candidates(text)
    if not candidates:
        return []
    phrases = list(candidates)
    counts = np.array([len(candidates[p]) for p in phrases], dtype=np.float32)
    frequency = np.log1p(counts) / np.log1p(counts.max())
    earliness = 1 - np.array([candidates[p][0][0] for p in phrases], dtype=np.float32) / max(len(text), 1)
    shortlist = np.argsort(-(frequency + 0.5 * earliness))[:SHORTLIST]
    vectors = embedder(settings.EMBEDDING_MODEL).embed([text, *(phrases[i] for i in shortlist)])
    similarity = np.full(len(phrases), -1.0, dtype=np.float32)
    similarity[shortlist] = vectors[1:] @ vectors[0]
    single = np.array([" " not in p for p in phrases], dtype=np.float32)
    score = (
        SIMILARITY_WEIGHT * similarity
        + FREQUENCY_WEIGHT * frequency
        + POSITION_WEIGHT * earliness
        + SINGLE_WORD_WEIGHT * single
    )
    chosen: list[Span] = []
    for index in np.argsort(-score):
        phrase = phrases[index]
        if any(phrase in c.phrase.lower() or c.phrase.lower() in phrase for c in chosen):
            continue
        start, end = candidates[phrase][0]
        chosen.append(Span(text[start:end], start, end, round(float(score[index]), 4)))
        if len(chosen) == top:
            break
    return chosen


# Category -> (description the embedding of a phrase is compared with, rules).
CATEGORIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "asset": (
        "an investment or asset someone owns: shares, bonds, funds, property, savings, pension, gold",
        (
            r"(?-i:\b(?:[A-Z][\w&.-]+ )+(?:Fund|Portfolio|ETF|Trust)\b)",
            r"\b(?:employer |company |vested )*(?:(?:index|mutual|pension|bond|equity) funds?|shares|"
            r"stocks?|equities|bonds?|gilts|treasuries|ETFs?|savings(?: account)?|pension(?: pot)?|"
            r"annuit(?:y|ies)|rental (?:flat|property)|buy-to-let|real estate|gold|crypto(?:currency)?|"
            r"bitcoin|stock options)\b",
        ),
    ),
    "goal": (
        "a financial goal: what the client wants to achieve, save for, pay off or fund",
        (
            r"\b(?:want|wants|would like|hope|hoping|plan|planning|aim|aiming|intend|need) to "
            r"(?!lose)[^.;,:\n]{3,60}\b",
            r"\b(?:retire|retiring|retirement) (?:at|by|in) [^.;,\n]{1,20}\b",
            r"\b(?:pay off|paying off|fund|save for|saving for|buy|leave) (?:the |a |an |our |my |his |her )?"
            r"(?:mortgage|education|university|house|home|flat|estate|deposit)[^.;,\n]{0,40}\b",
        ),
    ),
    "risk": (
        "attitude to investment risk: cautious or adventurous, fear of losses, comfort with volatility",
        (
            r"\b(?:can(?:no|')t|cannot|could not|don't want to|do not want to) "
            r"(?:afford to )?lose[^.;,\n]{0,30}",
            r"\b(?:low|high|moderate|medium) risk\b",
            r"\b(?:very |quite |rather )?(?:cautious|conservative|risk[- ]averse|adventurous|aggressive)\b",
            r"\b(?:comfortable|uncomfortable|nervous|worried|sleep)[^.;\n]{0,30}"
            r"(?:risk|volatil\w+|losses|swings|markets?)",
        ),
    ),
    "horizon": (
        "a time horizon: when the money is needed, in how many years, by which date",
        (
            r"\b(?:in|within|over|for) (?:the next )?(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|"
            r"fifteen|twenty|thirty) (?:years?|months?)\b",
            r"\bby (?:19|20)\d\d\b",
            r"\b(?:long|short|medium)[- ]term\b",
            r"\bnext (?:year|spring|summer|autumn|winter)\b",
        ),
    ),
    "life_event": (
        "a life event: marriage, divorce, a birth, a death, retirement, a new job, redundancy, "
        "inheritance, illness, moving house",
        (
            r"\b(?:getting married|married|wedding|divorc\w+|separat(?:ed|ion)|pregnan\w+|new baby|baby|"
            r"grandchild(?:ren)?|born|passed away|died|death|funeral|inherit\w*|redundan\w+|laid off|"
            r"lost (?:my|his|her) job|new job|promot\w+|retired|retiring|illness|diagnos\w+|surgery|"
            r"moved|moving|relocat\w+|sold (?:the|my|our) (?:business|company|house)|graduat\w+)\b",
        ),
    ),
}
# Cosine similarity a ranked phrase needs to a category's description to join it.
CATEGORY_SIMILARITY = 0.55


@cache
def _category_vectors() -> tuple[list[str], np.ndarray]:
    names = list(CATEGORIES)
    return names, embedder(settings.EMBEDDING_MODEL).embed([CATEGORIES[n][0] for n in names])


@cache
def _rules() -> dict[str, list[re.Pattern[str]]]:
    return {name: [re.compile(r, re.IGNORECASE) for r in rules] for name, (_, rules) in CATEGORIES.items()}


@dataclass(frozen=True)
class CategorisedKeyword:
    category: str
    phrase: str
    start: int
    end: int
    score: float


def letter_keywords(text: str, *, per_category: int = 5) -> list[CategorisedKeyword]:
    """Assets, goals, risk tolerance, time horizon and life events in a letter, with spans."""
    found: list[CategorisedKeyword] = []
    for category, patterns in _rules().items():
        for pattern in patterns:
            for match in pattern.finditer(text):
                found.append(
                    CategorisedKeyword(category, match.group().strip(), match.start(), match.end(), 1.0)
                )
    names, prototypes = _category_vectors()
    ranked = keyphrases(text, top=15)
    if ranked:
        vectors = embedder(settings.EMBEDDING_MODEL).embed([span.phrase for span in ranked])
        for span, similarities in zip(ranked, vectors @ prototypes.T, strict=True):
            best = int(np.argmax(similarities))
            if similarities[best] >= CATEGORY_SIMILARITY:
                found.append(
                    CategorisedKeyword(
                        names[best], span.phrase, span.start, span.end, round(float(similarities[best]), 4)
                    )
                )
    return _deduplicated(found, per_category)


def _deduplicated(found: Sequence[CategorisedKeyword], per_category: int) -> list[CategorisedKeyword]:
    """Per category, the best keywords whose spans do not overlap a better one's."""
    kept: list[CategorisedKeyword] = []
    for keyword in sorted(found, key=lambda k: (-k.score, k.start)):
        same = [k for k in kept if k.category == keyword.category]
        if len(same) >= per_category or any(
            (k.start < keyword.end and keyword.start < k.end) or k.phrase.lower() == keyword.phrase.lower()
            for k in same
        ):
            continue
        kept.append(keyword)
    return sorted(kept, key=lambda k: (list(CATEGORIES).index(k.category), k.start))


def _normalised(phrase: str) -> str:
    """Lowercased, punctuation removed, each word stemmed: how gold and found phrases are compared."""
    from assistant.generation.text import stem

    words = re.sub(r"[^\w\s]", "", phrase.lower()).split()
    return " ".join(stem(word) for word in words)


@dataclass(frozen=True)
class KeyphraseScores:
    documents: int
    precision: float
    recall: float
    f1: float


def keyphrases_evaluate(documents: Sequence[tuple[str, Sequence[str]]], *, k: int = 10) -> KeyphraseScores:
    """Macro-averaged precision, recall and F1 at k of `keyphrases` against gold phrases (stemmed match)."""
    precision = recall = f1 = 0.0
    for text, gold in documents:
        expected = {_normalised(g) for g in gold} - {""}
        found = [_normalised(span.phrase) for span in keyphrases(text, top=k)]
        hits = len(set(found) & expected)
        p = hits / k
        r = hits / len(expected) if expected else 0.0
        precision += p
        recall += r
        f1 += 2 * p * r / (p + r) if hits else 0.0
    n = max(len(documents), 1)
    return KeyphraseScores(len(documents), round(precision / n, 4), round(recall / n, 4), round(f1 / n, 4))

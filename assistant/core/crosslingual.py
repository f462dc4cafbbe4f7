"""A question in one language searched against documents written in another.

The multilingual model places a Chinese question next to its English original, but further from
the English answer than the English question is: each language keeps a region of its own in the
model's space. And a Chinese question shares no word with an English document, so full-text
search adds nothing to it. Two things fitted on parallel questions mend both
(docs/retrieval.md, Chinese questions on English documents):

- a **map** of a model's question vectors, a matrix fitted by ridge regression towards the
  identity, that takes a Chinese question's vector to where its English version's would be;
- a **word table** (IBM Model 1, fitted by expectation maximisation) that gives the full-text
  search each Chinese word's likely English words.

`manage.py fit_query_translation` fits both from the parallel questions that ship with the
project (consumer-finance questions written for it in both languages) and writes them beside
them; a language pair with no files is searched as it is.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from assistant.core.encoder import encoder
from assistant.core.errors import ApplicationError
from assistant.core.language import (
    ENGLISH_WORD,
    LANGUAGES,
    STOPWORDS_EN,
    STOPWORDS_ZH,
    Language,
    has_han,
    words,
)

DATA = Path(__file__).resolve().parent / "data" / "crosslingual"
PARALLEL_QUESTIONS = DATA / "parallel-questions.jsonl"
# Chosen on the Chinese versions of Ask CFPB's validation questions (bench/chinese.py, translation).
DEFAULT_STRENGTH = 1.0
ITERATIONS = 15
# A word's translations kept: its likeliest, down to this probability.
TRANSLATIONS_PER_WORD = 3
MIN_PROBABILITY = 0.1

STOPWORDS: dict[Language, frozenset[str]] = {"en": STOPWORDS_EN, "zh": STOPWORDS_ZH}
_NULL = ""

Pair = dict[Language, str]
Progress = Callable[[str, int, int], None]


def tokens(text: str, language: Language) -> list[str]:
    """A text's words as the word table counts them, lower-cased: jieba's finest cut of Chinese
    (long words in their parts, as a compound seen once is rarely seen again), letters and digits
    otherwise, with an English possessive's 's dropped."""
    if language == "zh":
        return words(text, finest=True)
    return [word.removesuffix("'s") for word in ENGLISH_WORD.findall(text.lower())]


# Compared by identity: one per model and pair of languages, loaded once.
@dataclass(frozen=True, eq=False)
class QueryMap:
    model: str
    source: Language
    target: Language
    matrix: np.ndarray

    def __call__(self, vector: np.ndarray) -> np.ndarray:
        moved: np.ndarray = np.asarray(vector, dtype=np.float32) @ self.matrix
        unit: np.ndarray = (moved / np.linalg.norm(moved)).astype(np.float32)
        return unit


@dataclass(frozen=True)
class WordTable:
    source: Language
    target: Language
    translations: dict[str, list[str]]

    def words(self, text: str) -> list[str]:
        """The text's words in the target language, each once: the translations of its words
        other than function words, and its words already written in the target's script (a name
        such as CFPB, an amount, in a Chinese question)."""
        found: list[str] = []
        for word in tokens(text, self.source):
            if word in STOPWORDS[self.source]:
                continue
            found += [word] if _written_in(word, self.target) else self.translations.get(word, [])
        return list(dict.fromkeys(found))


def _written_in(word: str, language: Language) -> bool:
    return has_han(word) if language == "zh" else ENGLISH_WORD.fullmatch(word) is not None


def ridge_map(sources: np.ndarray, targets: np.ndarray, strength: float) -> np.ndarray:
    """The matrix W nearest the identity with sources @ W close to targets: it minimises
    |sources W - targets|^2 + strength |W - I|^2, so that few pairs move vectors little."""
    identity = np.eye(sources.shape[1])
    return np.linalg.solve(
        sources.T @ sources + strength * identity, sources.T @ targets + strength * identity
    ).astype(np.float32)


def word_translations(
    pairs: Sequence[tuple[list[str], list[str]]],
    *,
    ignore: frozenset[str] = frozenset(),
    iterations: int = ITERATIONS,
) -> dict[str, list[str]]:
    """IBM Model 1: how likely each target word is as the translation of each source word, from
    sentence pairs alone. Each target word of a pair is shared among the pair's source words (and
    an empty word, which takes function words that have no counterpart) in proportion to the
    current probabilities; the shares, summed and normalised, are the next probabilities.
    Function words of the target take part, so that they do not fall to the content words, but
    are never offered as a translation (`ignore`)."""
    probability: defaultdict[tuple[str, str], float] = defaultdict(lambda: 1.0)
    for _ in range(iterations):
        counts: defaultdict[tuple[str, str], float] = defaultdict(float)
        totals: defaultdict[str, float] = defaultdict(float)
        for sources, targets in pairs:
            candidates = [*sources, _NULL]
            for target in targets:
                norm = sum(probability[target, source] for source in candidates)
                for source in candidates:
                    share = probability[target, source] / norm
                    counts[target, source] += share
                    totals[source] += share
        probability = defaultdict(float, {key: count / totals[key[1]] for key, count in counts.items()})
    ranked: defaultdict[str, list[tuple[float, str]]] = defaultdict(list)
    for (target, source), p in probability.items():
        if source != _NULL and p >= MIN_PROBABILITY and target not in ignore:
            ranked[source].append((p, target))
    return {
        source: [target for _, target in sorted(options, reverse=True)[:TRANSLATIONS_PER_WORD]]
        for source, options in sorted(ranked.items())
    }


def parallel_questions(path: Path = PARALLEL_QUESTIONS) -> list[Pair]:
    """The parallel questions: one object a line with a text in each language."""
    pairs: list[Pair] = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            row = json.loads(line)
            complete = set(row) == set(LANGUAGES) and all(
                isinstance(t, str) and t.strip() for t in row.values()
            )
            if not complete:
                languages = " and ".join(LANGUAGES)
                raise ApplicationError(
                    f"{path.name} line {number}: needs a non-empty text in each of {languages}"
                )
            pairs.append(row)
    return pairs


def pairs_digest(pairs: Sequence[Pair]) -> str:
    """What a fitted translation records of the questions it was fitted on."""
    return hashlib.sha256(json.dumps(list(pairs), ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def _map_path(model: str, source: Language, target: Language) -> Path:
    return DATA / f"{model}.{source}-{target}.npy"


def _table_path(source: Language, target: Language) -> Path:
    return DATA / f"words.{source}-{target}.json"


@cache
def query_map(model: str, source: Language, target: Language) -> QueryMap | None:
    """The map taking a model's `source` questions to `target` ones, where one was fitted."""
    path = _map_path(model, source, target)
    if source == target or not path.exists():
        return None
    return QueryMap(model, source, target, np.load(path))


@cache
def word_table(source: Language, target: Language) -> WordTable | None:
    """The word table from `source` to `target`, where one was fitted."""
    path = _table_path(source, target)
    if source == target or not path.exists():
        return None
    return WordTable(source, target, json.loads(path.read_text(encoding="utf-8"))["translations"])


def fit_query_translation(
    model: str,
    *,
    source: Language,
    target: Language,
    strength: float = DEFAULT_STRENGTH,
    pairs: Sequence[Pair] | None = None,
    on_progress: Progress | None = None,
) -> tuple[QueryMap, WordTable]:
    """Fit the map of a model's question vectors and the word table from `source` to `target`,
    and write them where searches load them."""
    if source == target:
        raise ApplicationError("the two languages are the same: nothing to translate", field="target")
    if strength <= 0:
        raise ApplicationError("the strength must be above 0", field="strength")
    rows = parallel_questions() if pairs is None else list(pairs)
    embed = encoder(model).embed_query
    vectors: dict[Language, list[np.ndarray]] = {source: [], target: []}
    for done, row in enumerate(rows, start=1):
        for language in (source, target):
            vectors[language].append(embed(row[language]))
        if on_progress:
            on_progress("embedding", done, len(rows))
    matrix = ridge_map(np.array(vectors[source]), np.array(vectors[target]), strength)
    if on_progress:
        on_progress("aligning words", 0, 1)
    aligned = word_translations(
        [(tokens(row[source], source), tokens(row[target], target)) for row in rows], ignore=STOPWORDS[target]
    )
    # Numbers and names take part in the alignment, but are searched as written.
    translations = {word: options for word, options in aligned.items() if _written_in(word, source)}
    if on_progress:
        on_progress("aligning words", 1, 1)
    fitted = {"pairs": len(rows), "pairs_sha256": pairs_digest(rows)}
    DATA.mkdir(parents=True, exist_ok=True)
    np.save(_map_path(model, source, target), matrix)
    _map_path(model, source, target).with_suffix(".json").write_text(
        json.dumps({"model": model, **fitted, "strength": strength}, indent=2) + "\n"
    )
    # One line a word, so that a refit reads as a diff of the words it changed.
    lines = ",\n".join(
        f"{json.dumps(word, ensure_ascii=False)}: {json.dumps(options)}"
        for word, options in translations.items()
    )
    table = f'{json.dumps(fitted)[:-1]}, "translations": {{\n{lines}\n}}}}\n'
    _table_path(source, target).write_text(table, encoding="utf-8")
    query_map.cache_clear()
    word_table.cache_clear()
    return QueryMap(model, source, target, matrix), WordTable(source, target, translations)

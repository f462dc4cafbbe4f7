"""Retrieval metrics at the granularity of the labels: documents, or pages of documents.

A label is `<external_id>` or `<external_id>#p<page>`. Retrieved chunks are turned into
units of the same kind (a chunk of a labelled page counts as that page), duplicates
dropped in rank order, and the first `k` units scored. Relevance is binary.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.core.errors import ApplicationError
from assistant.knowledge.search import SearchResult

_PAGE_LABEL = re.compile(r"^(?P<doc>.+)#p(?P<page>\d+)$")
CUTOFFS = (1, 5, 10)


@dataclass(frozen=True)
class Query:
    text: str
    relevant: frozenset[str]


class QuestionFileError(ApplicationError):
    pass


def queries_read(path: Path, *, documents: set[str]) -> list[Query]:
    """The labelled questions of a JSONL file of {"query", "relevant"}, each label naming one of
    the collection's `documents` (its external id, or a page of it): every bad line named."""
    queries = []
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise QuestionFileError(f"{path}: cannot be read ({error})", field="data") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            text, relevant = row["query"], row["relevant"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise QuestionFileError(
                f"{path}, line {number}: expected {{'query': ..., 'relevant': [...]}} ({exc})", field="data"
            ) from None
        if not isinstance(text, str) or not text.strip() or not relevant or not isinstance(relevant, list):
            raise QuestionFileError(
                f"{path}, line {number}: needs a query and a non-empty list of relevant ids", field="data"
            )
        unknown = sorted({labelled_document(str(label)) for label in relevant} - documents)
        if unknown:
            raise QuestionFileError(
                f"{path}, line {number}: no document {', '.join(unknown)} in the collection", field="data"
            )
        queries.append(Query(" ".join(text.split()), frozenset(str(label) for label in relevant)))
    if not queries:
        raise QuestionFileError(f"{path}: no queries", field="data")
    return queries


def labelled_document(label: str) -> str:
    """The external id of the document a label names (itself, or the page's document)."""
    page = _PAGE_LABEL.match(label)
    return page["doc"] if page else label


def unit(result: SearchResult, *, pages: bool) -> str:
    if pages and result.page is not None:
        return f"{result.external_id}#p{result.page}"
    return result.external_id


def ranked_units(results: Iterable[SearchResult], *, pages: bool) -> list[str]:
    seen: dict[str, None] = {}
    for result in results:
        seen.setdefault(unit(result, pages=pages), None)
    return list(seen)


def uses_pages(relevant: Iterable[str]) -> bool:
    return any(_PAGE_LABEL.match(label) for label in relevant)


def scores(ranked: Sequence[str], relevant: frozenset[str], k: int) -> dict[str, float]:
    top = ranked[:k]
    hits = [1.0 if item in relevant else 0.0 for item in top]
    first = next((rank for rank, hit in enumerate(hits, start=1) if hit), None)
    dcg = sum(hit / math.log2(rank + 1) for rank, hit in enumerate(hits, start=1))
    ideal = sum(1 / math.log2(rank + 1) for rank in range(1, min(len(relevant), k) + 1))
    metrics = {f"recall@{c}": len(relevant & set(ranked[:c])) / len(relevant) for c in CUTOFFS if c <= k}
    metrics[f"mrr@{k}"] = 1 / first if first else 0.0
    metrics[f"ndcg@{k}"] = dcg / ideal if ideal else 0.0
    return metrics


def evaluate(
    queries: Sequence[Query], search: Callable[[str], list[SearchResult]], *, k: int = 10
) -> dict[str, float]:
    """Mean of each metric over the queries; `search` returns ranked chunks for a text."""
    totals: dict[str, float] = {}
    for query in queries:
        ranked = ranked_units(search(query.text), pages=uses_pages(query.relevant))
        for name, value in scores(ranked, query.relevant, k).items():
            totals[name] = totals.get(name, 0.0) + value
    return {name: round(value / len(queries), 4) for name, value in totals.items()} | {
        "queries": len(queries)
    }

"""Metadata filters a question implies: the company it names and the fiscal year it asks about.

Filings carry `company` and `doc_period` in their metadata (see `datasets.financebench`).
A question that names exactly one company of the searched collections is narrowed to that
company's documents, and to the latest year it mentions for which the company has a
document. Names are matched as written, without a legal suffix, by a first word that no
other company shares, or by the name the documents are filed under ("JOHNSON_JOHNSON").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from assistant.knowledge.models import Document
from assistant.knowledge.search import (
    QueryEmbedder,
    Reader,
    SearchRequest,
    SearchResult,
    knowledge_search,
    readable_collections,
)

_SUFFIXES = re.compile(
    r"\b(?:inc|incorporated|corp|corporation|co|company|companies|group|holdings|plc|ltd|limited|sa|ag|nv)\b\.?"
)
_YEAR = re.compile(r"\b(?:FY\s?'?|Q[1-4]\s?'?)?((?:19|20)\d\d)\b|\bFY\s?'?(\d\d)\b", re.IGNORECASE)


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def _aliases(companies: dict[str, set[str]]) -> dict[str, str]:
    """alias -> company, for aliases that name one company only."""
    first_words: dict[str, set[str]] = {}
    for company in companies:
        words = _words(company).split()
        if words:
            first_words.setdefault(words[0], set()).add(company)
    aliases: dict[str, str] = {}
    for company, filed_as in companies.items():
        names = {_words(company), _words(_SUFFIXES.sub(" ", company.lower()))}
        names |= {_words(name.replace("_", " ")) for name in filed_as}
        first = _words(company).split()[:1]
        if first and len(first[0]) >= 3 and first_words[first[0]] == {company}:
            names.add(first[0])
        for name in names - {""}:
            aliases[name] = company
    return aliases


def question_years(question: str) -> set[int]:
    years = set()
    for long, short in _YEAR.findall(question):
        years.add(int(long) if long else 2000 + int(short))
    return years


def question_filters(question: str, collection_ids: Sequence[int]) -> dict[str, Any]:
    """The metadata filter (for `knowledge_search(metadata=...)`) the question implies, or {}."""
    rows = Document.objects.filter(collection_id__in=collection_ids, metadata__has_key="company").values_list(
        "metadata__company", "metadata__doc_period", "external_id"
    )
    companies: dict[str, set[str]] = {}
    periods: dict[str, set[int]] = {}
    for company, period, external_id in rows:
        if isinstance(company, str) and company:
            companies.setdefault(company, set()).add(re.sub(r"_\d{4}.*$", "", external_id))
            if isinstance(period, int):
                periods.setdefault(company, set()).add(period)
    if not companies:
        return {}
    text = f" {_words(question)} "
    named = {company for alias, company in _aliases(companies).items() if f" {alias} " in text}
    if len(named) != 1:
        return {}
    (company,) = named
    filters: dict[str, Any] = {"company": company}
    years = sorted(question_years(question) & periods.get(company, set()))
    if years:
        filters["doc_period"] = years[-1]
    return filters


def narrowed_search(
    *, reader: Reader, request: SearchRequest, embed_query: QueryEmbedder | None = None
) -> list[SearchResult]:
    """The search an advisor's question gets: narrowed to the company and year it names among the
    collections searched (`question_filters`), and searched again without narrowing when nothing
    matches."""
    collections = readable_collections(reader)
    if request.collections is not None:
        collections = collections.filter(name__in=request.collections)
    implied = question_filters(request.query, list(collections.values_list("pk", flat=True)))
    if implied:
        narrowed = replace(request, metadata={**(request.metadata or {}), **implied})
        found = knowledge_search(reader=reader, request=narrowed, embed_query=embed_query).results
        if found:
            return found
    return knowledge_search(reader=reader, request=request, embed_query=embed_query).results

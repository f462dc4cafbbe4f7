"""Advisory writes and the question-answering path.

A question is asked in a scope: one client, the knowledge collections, or both. Client
data goes to the answer backend field by field, only the fields the question needs; letters
are retrieved by similarity like any other passage. Everything an answer stood on (the
passages as they read then, the fields, the backend and model, the timings) is stored
with it, and a grounding check lists the numbers in the answer that no cited text holds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import numpy as np
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from advisory.keywords import letter_keywords
from advisory.models import Answer, Citation, Client, Keyword, Letter
from advisory.selectors import client_get, holdings_allocation
from assistant.core.errors import ApplicationError, text_checked
from assistant.core.language import Language, detect
from assistant.core.privacy import Masker
from assistant.core.timing import ms_since, with_total
from assistant.generation import backend
from assistant.generation.base import (
    Backend,
    Fact,
    GenerationUnavailable,
    Passage,
    Prompt,
    cited_numbers,
    feedback_checked,
    generated,
    grounding,
    passages_of,
)
from assistant.generation.subjects import CLIENT
from assistant.generation.text import stem, terms
from assistant.knowledge.embedding import embedder
from assistant.knowledge.facets import narrowed_search
from assistant.knowledge.search import (
    Reader,
    SearchRequest,
    SearchResult,
    knowledge_search,
    readable_collections,
)

logger = logging.getLogger("finassist.advisory")

KNOWLEDGE_K = 10
LETTERS_K = 3
DEFAULT_COLLECTIONS = ("products", "research")


# Client fields ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClientField:
    name: str
    label: str
    triggers: frozenset[str]


def _stems(words: str) -> frozenset[str]:
    return frozenset(stem(word) for word in words.split())


def _field(name: str, label: str, triggers: str) -> ClientField:
    return ClientField(name, label, _stems(triggers))


# A question needs a field when it uses one of the field's trigger words (stemmed; Chinese ones
# as jieba cuts them); asking about suitability needs the fields suitability is judged on; asking
# for an overview, all.
FIELDS = (
    _field("age", "age", "age old young retire retirement pension born 年龄 岁 退休 养老 养老金 出生"),
    _field(
        "income_band",
        "income band",
        "income earn earning salary afford affordable tax taxes 收入 年收入 工资 薪水 负担 税",
    ),
    _field(
        "risk_tolerance",
        "risk tolerance",
        "risk risky volatile volatility safe safety loss losses drawdown aggressive conservative cautious "
        "风险 波动 安全 亏损 损失 回撤 激进 保守 稳健 承受",
    ),
    _field(
        "goals",
        "goals",
        "goal objective save saving plan aim retire education mortgage house home estate income "
        "目标 理财 储蓄 存钱 计划 退休 教育 房贷 买房 房子",
    ),
    _field(
        "horizon_years",
        "investment horizon",
        "horizon long short term years when time retire 期限 多久 多长 几年 长期 短期 时候 退休",
    ),
    _field(
        "restrictions",
        "restrictions",
        "restriction exclude exclusion ethical esg avoid tobacco weapons sustainable "
        "限制 排除 不想 避开 道德 环保 烟草 武器 可持续",
    ),
    _field(
        "holdings",
        "holdings",
        "holding holdings portfolio hold own allocation exposure position invested assets rebalance "
        "diversify "
        "diversification concentration weight fund funds bond bonds equity equities cash "
        "持仓 持有 组合 配置 资产 仓位 基金 债券 股票 现金 再平衡 分散",
    ),
)
SUITABILITY = _stems(
    "suitable suitability fit appropriate recommend recommendation switch 适合 合适 推荐 建议 换成"
)
OVERVIEW = _stems("summary summarise summarize overview profile 概况 总结 概要 简介")
SUITABILITY_FIELDS = ("risk_tolerance", "horizon_years", "restrictions", "goals", "holdings")


def fields_needed(question: str) -> list[str]:
    """The client fields a question needs, by name, in a fixed order."""
    asked = set(terms(question))
    if asked & OVERVIEW:
        return [f.name for f in FIELDS]
    needed = {f.name for f in FIELDS if asked & f.triggers}
    if asked & SUITABILITY:
        needed |= set(SUITABILITY_FIELDS)
    return [f.name for f in FIELDS if f.name in needed]


def _holdings_value(client: Client) -> str:
    holdings = list(client.holdings.all())
    if not holdings:
        return "none recorded"
    total = sum((h.value for h in holdings), Decimal(0))
    allocation = ", ".join(f"{a.asset_class} {a.share:.0%}" for a in holdings_allocation(holdings))
    currency = holdings[0].currency
    lines = "; ".join(f"{h.instrument} {h.currency} {h.value:,.0f}" for h in holdings)
    return f"{currency} {total:,.0f} in total ({allocation}): {lines}"


def client_facts(client: Client, names: Sequence[str]) -> list[Fact]:
    """The named fields of a client as they are sent to an answer backend; nothing else leaves."""
    values: dict[str, Callable[[], str]] = {
        "age": lambda: f"{timezone.localdate().year - client.birth_year}",
        "income_band": client.get_income_band_display,
        "risk_tolerance": lambda: client.get_risk_tolerance_display().lower(),
        "goals": lambda: client.goals or "none recorded",
        "horizon_years": lambda: f"{client.horizon_years} years",
        "restrictions": lambda: client.restrictions or "none",
        "holdings": lambda: _holdings_value(client),
    }
    labels = {f.name: f.label for f in FIELDS}
    return [Fact(name, labels[name], values[name]()) for name in names]


def client_masker(client: Client) -> Masker:
    """Knows the client's name, client number and account numbers."""
    identifiers = [("NAME", client.full_name), ("CLIENT", client.reference)]
    identifiers += [("NAME", part) for part in client.full_name.split() if len(part) > 2]
    identifiers += [("ACCOUNT", h.account_number) for h in client.holdings.all() if h.account_number]
    return Masker(identifiers)


# Letters -----------------------------------------------------------------------------------------
@transaction.atomic
def letter_create(*, client: Client, written_on: date, author: str, text: str) -> Letter:
    text = text.strip()
    if not text:
        raise ApplicationError("the letter is empty", field="text")
    model = settings.EMBEDDING_MODEL
    vector = embedder(model).embed_query(text)
    letter = Letter.objects.create(
        client=client,
        written_on=written_on,
        author=author,
        text=text,
        embedding=vector,
        embedding_model=model,
    )
    Keyword.objects.bulk_create(
        Keyword(
            letter=letter, category=k.category, phrase=k.phrase[:200], start=k.start, end=k.end, score=k.score
        )
        for k in letter_keywords(text)
    )
    return letter


def _letters(client: Client, vector: np.ndarray) -> list[tuple[Letter, float]]:
    letters = [letter for letter in client.letters.all() if letter.embedding is not None]
    scored = [(letter, float(np.dot(letter.embedding, vector))) for letter in letters]
    return sorted(scored, key=lambda pair: -pair[1])[:LETTERS_K]


# Answers -------------------------------------------------------------------------------------------
@dataclass
class Asking:
    """An answer being written: its row exists, with its citations; the text streams in."""

    answer: Answer
    prompt: Prompt
    backend: Backend
    masker: Masker
    timings: dict[str, float] = field(default_factory=dict)

    def stream(self) -> Iterator[str]:
        """For the pages: the answer piece by piece; the row is complete (or failed) when this ends."""
        pieces: list[str] = []
        with self._finishing(pieces):
            for piece in generated(self.backend, self.prompt, masker=self.masker):
                pieces.append(piece)
                yield piece

    def complete(self) -> Answer:
        """For the API: the whole answer, stored. When the backend gives up, the row is stored as
        failed, with the text so far and the reason, and GenerationUnavailable raised."""
        pieces: list[str] = []
        with self._finishing(pieces):
            pieces.extend(generated(self.backend, self.prompt, masker=self.masker))
        return self.answer

    @contextmanager
    def _finishing(self, pieces: list[str]) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        except GenerationUnavailable as error:
            self._finish(pieces, started, error=error.message)
            raise
        except GeneratorExit:
            self._finish(pieces, started, error="the answer was interrupted: its reader left before the end")
            raise
        self._finish(pieces, started)

    def _finish(self, pieces: list[str], started: float, *, error: str = "") -> None:
        answer = self.answer
        answer.text = "".join(pieces).strip()
        self.timings = with_total({**self.timings, "generate": ms_since(started)})
        answer.timings_ms = self.timings
        cited = cited_numbers(answer.text)
        answer.ungrounded = grounding(answer.text, self.prompt)
        answer.status = Answer.Status.FAILED if error else Answer.Status.COMPLETE
        answer.error = error
        with transaction.atomic():
            answer.save(update_fields=["text", "timings_ms", "ungrounded", "status", "error"])
            if cited:
                answer.citations.filter(number__in=cited).update(cited=True)
        logger.info(
            "answer %s %s in %.0f ms (%s, %d passages, fields %s)",
            answer.pk,
            answer.status,
            self.timings["total"],
            answer.backend,
            len(self.prompt.passages),
            ",".join(answer.fields_used) or "none",
        )


def knowledge_collections(
    *, advisor: User, requested: Sequence[str] | None, language: Language = "en"
) -> list[str]:
    """The collections a knowledge question searches: those asked for, else the advisory defaults;
    for a question in another language than English, those of them with a model that reads it (else
    every readable one that does: the Chinese product sheets)."""
    readable = {
        collection.name: collection.languages for collection in readable_collections(Reader.of(advisor))
    }
    chosen = list(requested) if requested else [name for name in DEFAULT_COLLECTIONS if name in readable]
    if language == "en":
        return chosen
    reading = [name for name in chosen if name not in readable or language in readable[name]]
    return reading or [name for name, read in readable.items() if language in read]


def answer_start(
    *,
    advisor: User,
    question: str,
    scope: str,
    client_id: int | str | None = None,
    collections: Sequence[str] | None = None,
    backend_name: str | None = None,
) -> Asking:
    """Check the question, retrieve what it needs and store the answer's row; then `stream()` it
    (the pages) or `complete()` it (`answer_create`). The configured backend answers unless one is
    named."""
    question = text_checked(question, field="question", noun="question", limit=settings.QUESTION_MAX_CHARS)
    if scope not in Answer.Scope.values:
        raise ApplicationError(f"scope must be one of {', '.join(Answer.Scope.values)}", field="scope")
    client = None
    if scope != Answer.Scope.KNOWLEDGE:
        if client_id in (None, ""):
            raise ApplicationError("a question about a client needs the client", field="client")
        if not str(client_id).isdigit():
            raise ApplicationError(
                f"client must be a client's number, not {str(client_id)[:40]!r}", field="client"
            )
        client = client_get(advisor=advisor, client_id=client_id)
    names = (
        knowledge_collections(advisor=advisor, requested=collections, language=detect(question))
        if scope != Answer.Scope.CLIENT
        else []
    )
    answering = backend(backend_name)
    masker = client_masker(client) if client else Masker()
    timings: dict[str, float] = {}

    started = time.perf_counter()
    model = settings.EMBEDDING_MODEL
    vector = embedder(model).embed_query(question)
    timings["embed"] = ms_since(started)

    started = time.perf_counter()
    letters: list[tuple[Letter, float]] = []
    results: list[SearchResult] = []
    facts: list[Fact] = []
    if client is not None:
        facts = client_facts(client, fields_needed(question))
        letters = _letters(client, vector)
    if names:
        results = knowledge_passages(
            advisor=advisor, question=question, collections=names, vector=vector, model=model
        )
    passages = [
        Passage(
            n,
            letter.text,
            f"Letter of {letter.written_on:%d %b %Y} ({letter.author})",
            similarity=similarity,
            subject=CLIENT,
        )
        for n, (letter, similarity) in enumerate(letters, start=1)
    ]
    passages += passages_of(results, first=len(passages) + 1)
    timings["retrieve"] = ms_since(started)

    with transaction.atomic():
        answer = Answer.objects.create(
            advisor=advisor,
            client=client,
            scope=scope,
            collections=names,
            question=question,
            backend=answering.name,
            model_name=answering.model_name,
            fields_used=[f.field for f in facts],
        )
        citations = [
            Citation(
                answer=answer,
                number=passage.number,
                letter=letter,
                title=passage.source,
                text=passage.text,
                score=similarity,
                similarity=similarity,
            )
            for passage, (letter, similarity) in zip(passages, letters, strict=False)
        ]
        citations += [
            Citation(
                answer=answer,
                number=passage.number,
                document_id=result.document_id,
                chunk_id=result.chunk_id,
                collection=result.collection,
                external_id=result.external_id,
                title=result.title,
                version=result.version,
                page=result.page,
                heading=result.heading,
                text=result.text,
                score=result.score,
                similarity=result.parts.vector_similarity,
            )
            for passage, result in zip(passages[len(letters) :], results, strict=True)
        ]
        Citation.objects.bulk_create(citations)
    logger.info("answer %s asked (%s): %s", answer.pk, scope, masker.mask(question))
    return Asking(answer, Prompt(question, passages, facts), answering, masker, timings)


def answer_create(
    *,
    advisor: User,
    question: str,
    scope: str,
    client_id: int | None = None,
    collections: Sequence[str] | None = None,
    backend_name: str | None = None,
) -> Answer:
    """Ask and answer in one call, the answer stored complete (or failed, with the reason)."""
    return answer_start(
        advisor=advisor,
        question=question,
        scope=scope,
        client_id=client_id,
        collections=collections,
        backend_name=backend_name,
    ).complete()


def knowledge_passages(
    *,
    advisor: User,
    question: str,
    collections: Sequence[str],
    vector: np.ndarray | None = None,
    model: str | None = None,
    k: int = KNOWLEDGE_K,
    narrow: bool = True,
) -> list[SearchResult]:
    """Hybrid search with the advisor's access, narrowed (unless `narrow` is false) to the
    company and year the question names."""
    reader = Reader.of(advisor)

    def embed_query(name: str, text: str) -> np.ndarray:
        if vector is not None and name == model:
            return vector
        return embedder(name).embed_query(text)

    request = SearchRequest(query=question, k=k, collections=list(collections))
    if narrow:
        return narrowed_search(reader=reader, request=request, embed_query=embed_query)
    return knowledge_search(reader=reader, request=request, embed_query=embed_query).results


@transaction.atomic
def answer_feedback(*, answer: Answer, rating: object, comment: str = "") -> Answer:
    answer.rating, answer.feedback = feedback_checked(rating, comment)
    answer.save(update_fields=["rating", "feedback"])
    return answer

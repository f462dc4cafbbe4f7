"""Reads of advisory data, always through the advisor who asks: another advisor's client is not found."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import User
from django.db.models import QuerySet, Sum

from advisory.models import Answer, Citation, Client, Holding, Letter
from assistant.core.errors import NotFound
from assistant.knowledge.search import Reader, readable_collections
from assistant.knowledge.tuning import cited_chunks


def client_list(*, advisor: User) -> QuerySet[Client]:
    return Client.objects.filter(advisor=advisor).annotate(total_value=Sum("holdings__value"))


def client_get(*, advisor: User, client_id: int | str) -> Client:
    """The advisor's own client; any other (or none) is reported the same way: not found."""
    try:
        return Client.objects.get(advisor=advisor, pk=int(client_id))
    except (Client.DoesNotExist, ValueError, TypeError):
        raise NotFound("no such client", field="client") from None


@dataclass(frozen=True)
class AssetShare:
    asset_class: str
    value: Decimal
    share: float


def holdings_allocation(holdings: Iterable[Holding]) -> list[AssetShare]:
    """Holdings by asset class, largest first, with each class's share of the total."""
    by_class: dict[str, Decimal] = {}
    for holding in holdings:
        name = holding.get_asset_class_display().lower()
        by_class[name] = by_class.get(name, Decimal(0)) + holding.value
    total = sum(by_class.values(), Decimal(0))
    return [
        AssetShare(name, value, float(value / total) if total else 0.0)
        for name, value in sorted(by_class.items(), key=lambda item: -item[1])
    ]


def client_letters(client: Client) -> QuerySet[Letter]:
    return client.letters.prefetch_related("keywords")


def answer_list(*, advisor: User, client: Client | None = None) -> QuerySet[Answer]:
    answers = Answer.objects.filter(advisor=advisor).select_related("client")
    return answers.filter(client=client) if client is not None else answers


def answer_get(*, advisor: User, answer_id: int | str) -> Answer:
    try:
        return Answer.objects.select_related("client").get(advisor=advisor, pk=int(answer_id))
    except (Answer.DoesNotExist, ValueError, TypeError):
        raise NotFound("no such answer", field="answer") from None


def citation_get(*, answer: Answer, number: int) -> Citation:
    citation = answer.citations.filter(number=number).first()
    if citation is None:
        raise NotFound("no such citation", field="number")
    return citation


def collection_names(*, advisor: User) -> list[str]:
    """The knowledge collections the advisor may read, by name."""
    return list(readable_collections(Reader.of(advisor)).order_by("name").values_list("name", flat=True))


def helpful_passages(collections: set[str]) -> Iterator[tuple[str, int]]:
    """(question, chunk id) of each passage of the named collections that an answer rated helpful
    cited: what a tuned retriever learns from (`knowledge.tuning`)."""
    answers = Answer.objects.filter(rating=1, status=Answer.Status.COMPLETE).prefetch_related("citations")
    for answer in answers.iterator(chunk_size=200):
        citations = answer.citations.values("number", "collection", "chunk_id")
        yield from (
            (answer.question, chunk_id) for chunk_id in cited_chunks(answer.text, citations, collections)
        )

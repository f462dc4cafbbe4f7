"""Reading the chat: a customer's own conversations and turns, the collections it answers from,
and the statistics staff watch."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from assistant.chat.models import Conversation, Message, Ticket
from assistant.core.errors import NotFound
from assistant.core.language import Language
from assistant.knowledge.models import Collection
from assistant.knowledge.tuning import cited_chunks


@dataclass(frozen=True)
class ChatCustomer:
    """Who is chatting: a signed-in user, or an anonymous browser session."""

    user_id: int | None
    session_key: str | None

    def owns(self) -> Q:
        if self.user_id is not None:
            return Q(user_id=self.user_id)
        return Q(session_key=self.session_key, user__isnull=True)


def conversation_get(*, customer: ChatCustomer, public_id: Any) -> Conversation:
    """The customer's own conversation; anyone else's is reported like one that does not exist."""
    try:
        return Conversation.objects.get(customer.owns(), public_id=public_id)
    except (Conversation.DoesNotExist, ValidationError, ValueError, TypeError):
        raise NotFound("no such conversation", field="conversation") from None


def conversation_messages(conversation: Conversation) -> QuerySet[Message]:
    return conversation.messages.select_related("ticket")


def turn_get(*, customer: ChatCustomer, message_id: Any) -> Message:
    try:
        return Message.objects.select_related("conversation").get(
            pk=int(message_id),
            role=Message.Role.ASSISTANT,
            conversation__in=Conversation.objects.filter(customer.owns()),
        )
    except (Message.DoesNotExist, ValueError, TypeError):
        raise NotFound("no such message", field="message") from None


def chat_collections(language: Language = "en") -> list[str]:
    """The chat collections that exist and have an embedding model that reads the language."""
    found = Collection.objects.filter(name__in=settings.CHAT_COLLECTIONS)
    return [collection.name for collection in found if language in collection.languages]


def ticket_replies(ticket: Ticket) -> QuerySet[Message]:
    """What colleagues wrote to the ticket's customer in the conversation, oldest first."""
    return ticket.conversation.messages.filter(role=Message.Role.STAFF).select_related("author")


# The statistics by day cover the last four weeks.
STATS_DAYS = 28


@dataclass(frozen=True)
class DayCounts:
    day: date
    turns: int
    handoffs: int


@dataclass(frozen=True)
class ChatStats:
    turns: int
    abstain_rate: float
    handoff_rate: float
    intents: list[tuple[str, int]]
    handoffs: list[tuple[str, int]]
    days: list[DayCounts]
    thumbs_down: list[Message]


def _by_intent(replies: QuerySet[Message], top: int) -> list[tuple[str, int]]:
    return list(replies.values_list("intent").annotate(n=Count("pk")).order_by("-n", "intent")[:top])


def _by_day(replies: QuerySet[Message]) -> list[DayCounts]:
    """Each day from the first to the last with a turn in the last `STATS_DAYS` days, quiet days as zeros."""
    today = timezone.localdate()
    counts: defaultdict[date, Counter[str]] = defaultdict(Counter)
    rows = (
        replies.filter(created_at__date__gt=today - timedelta(days=STATS_DAYS))
        .annotate(day=TruncDate("created_at"))
        .values_list("day", "kind")
        .annotate(n=Count("pk"))
    )
    for day, kind, n in rows:
        counts[day][kind] += n
    if not counts:
        return []
    first, last = min(counts), max(counts)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return [
        DayCounts(day=day, turns=sum(counts[day].values()), handoffs=counts[day][Message.Kind.HANDOFF])
        for day in days
    ]


def chat_stats(*, top: int = 20) -> ChatStats:
    """What staff watch: the intents customers bring and those handed off, how often the bot asks
    back or hands off, day by day, and the turns customers marked unhelpful."""
    replies = Message.objects.filter(role=Message.Role.ASSISTANT)
    counts = Counter(dict(replies.values_list("kind").annotate(n=Count("pk"))))
    turns = sum(counts.values())
    return ChatStats(
        turns=turns,
        abstain_rate=round(counts[Message.Kind.CLARIFY] / turns, 4) if turns else 0.0,
        handoff_rate=round(counts[Message.Kind.HANDOFF] / turns, 4) if turns else 0.0,
        intents=_by_intent(replies.exclude(kind=Message.Kind.CLARIFY), top),
        handoffs=_by_intent(replies.filter(kind=Message.Kind.HANDOFF), top),
        days=_by_day(replies),
        thumbs_down=list(
            replies.filter(rating=-1).select_related("conversation").order_by("-created_at")[:50]
        ),
    )


def helpful_passages(collections: set[str]) -> Iterator[tuple[str, int]]:
    """(retrieval query, chunk id) of each passage of the named collections that a reply rated
    helpful cited: what a tuned retriever learns from (`knowledge.tuning`)."""
    replies = Message.objects.filter(role=Message.Role.ASSISTANT, rating=1).exclude(query="")
    for query, text, citations in replies.values_list("query", "text", "citations").iterator():
        yield from ((query, chunk_id) for chunk_id in cited_chunks(text, citations, collections))

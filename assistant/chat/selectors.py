"""Reading the chat: a customer's own conversations and turns, the collections it answers from,
and the statistics staff watch."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet

from assistant.chat.models import Conversation, Message
from assistant.core.errors import NotFound
from assistant.knowledge.models import Collection


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


def chat_collections() -> list[str]:
    return list(Collection.objects.filter(name__in=settings.CHAT_COLLECTIONS).values_list("name", flat=True))


@dataclass(frozen=True)
class ChatStats:
    turns: int
    abstain_rate: float
    handoff_rate: float
    intents: list[tuple[str, int]]
    thumbs_down: list[Message]


def chat_stats(*, top: int = 20) -> ChatStats:
    """What staff watch: the intents customers bring, how often the bot asks back or hands off,
    and the turns customers marked unhelpful."""
    replies = Message.objects.filter(role=Message.Role.ASSISTANT)
    counts = Counter(dict(replies.values_list("kind").annotate(n=Count("pk"))))
    turns = sum(counts.values())
    intents = list(
        replies.exclude(kind=Message.Kind.CLARIFY)
        .values_list("intent")
        .annotate(n=Count("pk"))
        .order_by("-n", "intent")[:top]
    )
    return ChatStats(
        turns=turns,
        abstain_rate=round(counts[Message.Kind.CLARIFY] / turns, 4) if turns else 0.0,
        handoff_rate=round(counts[Message.Kind.HANDOFF] / turns, 4) if turns else 0.0,
        intents=intents,
        thumbs_down=list(
            replies.filter(rating=-1).select_related("conversation").order_by("-created_at")[:50]
        ),
    )

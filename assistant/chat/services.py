"""The chatbot's turn: a fine-tuned intent model routes, retrieval answers, a person takes over.

Each customer message is classified by the active `chat-intent` version (a Chinese one by
`chat-intent-multilingual`, and answered from the collections its encoder reads). Below the
version's abstain threshold the bot asks which of the likeliest two or three intents the
customer means; an intent that needs the customer's own account gets its scripted reply
and a ticket for a person; any other is answered from the FAQ collections, with the last
customer turns in the retrieval query when the message refers back to them (follow-ups). Every assistant turn
records the intent, confidence, model version, passages, timings and, later, feedback.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction

from assistant.chat.intents import (
    CHAT_INTENT,
    CHAT_INTENT_MULTILINGUAL,
    CLARIFY_ZH,
    HANDOFF,
    HANDOFF_CLOSING,
    HANDOFF_ZH,
    INTENT_LABELS_ZH,
    INTENTS,
    intent_label,
)
from assistant.chat.models import Conversation, IntentRoute, Message, Ticket
from assistant.chat.selectors import ChatCustomer, chat_collections
from assistant.core.errors import ApplicationError, text_checked
from assistant.core.language import Language, detect, words
from assistant.core.privacy import Masker
from assistant.core.timing import ms_since, with_total
from assistant.generation import backend
from assistant.generation.base import (
    Backend,
    GenerationUnavailable,
    Prompt,
    citations_of,
    feedback_checked,
    generated,
    grounding,
    passages_of,
)
from assistant.knowledge.search import Reader, SearchRequest, SearchResult, knowledge_search
from assistant.training.inference import predict

logger = logging.getLogger("finassist.chat")

PASSAGES_K = 5
OPTIONS = 3
# A message that leans on what came before ("does it cost anything?", "and in euros?") is
# searched with the earlier turns; a self-contained question alone, so that an earlier topic
# does not drown it.
REFERRING_WORDS = frozenset(
    [
        "it",
        "its",
        "that",
        "this",
        "these",
        "those",
        "they",
        "them",
        "there",
        "then",
        "also",
        "too",
        "same",
        "and",
    ]
)
# The same in Chinese ("那要多少钱？", "它也可以吗？"), whose words jieba separates.
REFERRING_WORDS_ZH = frozenset(
    ["它", "它们", "那", "那个", "这", "这个", "这些", "那些", "还有", "也", "同样"]
)
SHORT_MESSAGE_WORDS = 3


def follow_up(text: str) -> bool:
    if detect(text) == "zh":
        found, referring = words(text), REFERRING_WORDS_ZH
    else:
        found, referring = re.findall(r"[a-z']+", text.lower()), REFERRING_WORDS
    return len(found) <= SHORT_MESSAGE_WORDS or bool(referring & set(found))


CLARIFY = "I want to be sure I help with the right thing. Which of these is it?"


def routes_sync() -> int:
    """A route for every intent: handoff for those that need the customer's account. Edits stay."""
    created = IntentRoute.objects.bulk_create(
        [
            IntentRoute(
                intent=intent,
                label=intent_label(intent),
                route=IntentRoute.Route.HANDOFF if intent in HANDOFF else IntentRoute.Route.ANSWER,
                reply=HANDOFF[intent] + HANDOFF_CLOSING if intent in HANDOFF else "",
            )
            for intent in INTENTS
        ],
        ignore_conflicts=True,
    )
    return len(created)


def conversation_start(*, customer: ChatCustomer) -> Conversation:
    if customer.user_id is None and not customer.session_key:
        raise ApplicationError("a conversation needs a signed-in user or a browser session")
    return Conversation.objects.create(user_id=customer.user_id, session_key=customer.session_key or "")


@dataclass
class Replying:
    """An assistant turn being written: its row exists; `stream()` (the page) or `complete()` (the
    API) writes its text. A scripted reply or a clarifying question has its text already."""

    asked: Message
    message: Message
    prompt: Prompt | None
    backend: Backend | None
    timings: dict[str, float] = field(default_factory=dict)

    def stream(self) -> Iterator[str]:
        if self.prompt is None or self.backend is None:
            yield self.message.text
            return
        pieces: list[str] = []
        with self._finishing(self.prompt, pieces):
            for piece in generated(self.backend, self.prompt, masker=Masker()):
                pieces.append(piece)
                yield piece

    def complete(self) -> Message:
        """The whole reply, stored; when the backend gives up, stored as failed with the reason."""
        if self.prompt is not None and self.backend is not None:
            pieces: list[str] = []
            with self._finishing(self.prompt, pieces):
                pieces.extend(generated(self.backend, self.prompt, masker=Masker()))
        return self.message

    @contextmanager
    def _finishing(self, prompt: Prompt, pieces: list[str]) -> Iterator[None]:
        message = self.message
        started = time.perf_counter()
        try:
            yield
        except GenerationUnavailable as error:
            message.kind = Message.Kind.FAILED
            message.error = error.message
            raise
        finally:
            message.text = "".join(pieces).strip()
            self.timings = with_total({**self.timings, "generate": ms_since(started)})
            message.timings_ms = self.timings
            message.ungrounded = grounding(message.text, prompt)
            message.save(update_fields=["kind", "error", "text", "timings_ms", "ungrounded"])


def _checked(text: Any) -> str:
    return text_checked(text, field="text", noun="message", limit=settings.CHAT_MESSAGE_MAX_CHARS)


def _transcript(conversation: Conversation) -> str:
    return "\n".join(f"{m.get_role_display()}: {m.text}" for m in conversation.messages.all())


def turn_start(*, conversation: Conversation, text: Any, intent: str | None = None) -> Replying:
    """Store the customer's message and decide the reply; its text comes from `stream()` (the page)
    or `complete()` (`turn_create`).

    `intent` is set when the customer picked one of the intents a clarifying question offered.
    """
    text = _checked(text)
    language = detect(text)
    if intent is not None and intent not in INTENTS:
        raise ApplicationError(f"unknown intent {intent[:60]!r}", field="intent")
    timings: dict[str, float] = {}
    asked = Message.objects.create(conversation=conversation, role=Message.Role.CUSTOMER, text=text)

    reply = Message(conversation=conversation, role=Message.Role.ASSISTANT)
    if intent is not None:
        reply.intent, reply.confidence, reply.chosen = intent, 1.0, True
    else:
        started = time.perf_counter()
        (prediction,) = predict(_router(language), [text])
        timings["intent"] = ms_since(started)
        reply.intent, reply.confidence = prediction.label, round(prediction.confidence, 4)
        reply.model_version = prediction.model_version
        if prediction.abstained:
            reply.kind = Message.Kind.CLARIFY
            labels = (
                INTENT_LABELS_ZH
                if language == "zh"
                else dict(IntentRoute.objects.values_list("intent", "label"))
            )
            reply.options = [
                {"intent": label, "label": labels.get(label, intent_label(label)), "confidence": round(p, 4)}
                for label, p in prediction.alternatives[:OPTIONS]
            ]
            reply.text = CLARIFY_ZH if language == "zh" else CLARIFY
            return Replying(asked, _stored(reply, timings), None, None, timings)

    route = IntentRoute.objects.filter(intent=reply.intent).first()
    if route is not None and route.route == IntentRoute.Route.HANDOFF:
        reply.kind = Message.Kind.HANDOFF
        reply.text = HANDOFF_ZH if language == "zh" else route.reply or HANDOFF_CLOSING.strip()
        with transaction.atomic():
            _stored(reply, timings)
            Ticket.objects.create(
                conversation=conversation,
                message=reply,
                intent=reply.intent,
                transcript=_transcript(conversation),
            )
            conversation.status = Conversation.Status.HANDED_OFF
            conversation.save(update_fields=["status", "updated_at"])
        logger.info("conversation %s handed off (%s)", conversation.public_id, reply.intent)
        return Replying(asked, reply, None, None, timings)

    reply.kind = Message.Kind.ANSWER
    context: list[str] = []
    if follow_up(text):
        earlier = conversation.messages.filter(role=Message.Role.CUSTOMER).exclude(pk=asked.pk)
        recent = earlier.order_by("-created_at", "-pk")[: settings.CHAT_CONTEXT_TURNS]
        context = [m.text for m in reversed(recent)]
    reply.query = " ".join([*context, text])
    started = time.perf_counter()
    collections = chat_collections(language)
    results: list[SearchResult] = []
    if collections:
        results = knowledge_search(
            reader=Reader.system(),
            request=SearchRequest(query=reply.query, k=PASSAGES_K, collections=collections),
        ).results
    timings["retrieve"] = ms_since(started)
    passages = passages_of(results)
    reply.citations = citations_of(results)
    return Replying(asked, _stored(reply, timings), Prompt(reply.query, passages), backend(), timings)


def _router(language: Language) -> str:
    """The intent task for a message: the fine-tuned English router, or knn over the multilingual
    encoder for Chinese, which the English router never saw."""
    return CHAT_INTENT.name if language == "en" else CHAT_INTENT_MULTILINGUAL.name


def turn_create(*, conversation: Conversation, text: Any, intent: str | None = None) -> Replying:
    """A whole turn in one call: the customer's message and the reply, both stored."""
    replying = turn_start(conversation=conversation, text=text, intent=intent)
    replying.complete()
    return replying


def _stored(reply: Message, timings: dict[str, float]) -> Message:
    reply.timings_ms = timings
    reply.save()
    reply.conversation.save(update_fields=["updated_at"])
    return reply


def turn_feedback(*, message: Message, rating: object, comment: str = "") -> Message:
    message.rating, message.feedback = feedback_checked(rating, comment)
    message.save(update_fields=["rating", "feedback"])
    return message


@transaction.atomic
def ticket_reply(*, ticket: Ticket, staff: User, text: Any) -> Message:
    """A colleague's answer to a handed-off customer, in the customer's conversation."""
    message = Message.objects.create(
        conversation=ticket.conversation, role=Message.Role.STAFF, author=staff, text=_checked(text)
    )
    if ticket.status == Ticket.Status.OPEN:
        ticket.status = Ticket.Status.IN_PROGRESS
    ticket.assignee = ticket.assignee or staff
    ticket.save(update_fields=["status", "assignee", "updated_at"])
    return message

import uuid

from django.conf import settings
from django.db import models


class IntentRoute(models.Model):
    """What the chatbot does with an intent; editable by staff in the admin."""

    class Route(models.TextChoices):
        ANSWER = "answer", "answer from the FAQ collections"
        HANDOFF = "handoff", "scripted reply, then a person"

    intent = models.CharField(max_length=100, unique=True)
    label = models.CharField(max_length=100, help_text="how the intent is named to customers")
    route = models.CharField(max_length=10, choices=Route.choices, default=Route.ANSWER)
    reply = models.TextField(blank=True, help_text="the scripted reply of a handoff intent")

    class Meta:
        ordering = ["intent"]

    def __str__(self) -> str:
        return self.intent


class Conversation(models.Model):
    """A customer's chat: an anonymous customer's by browser session, a signed-in user's by user."""

    class Status(models.TextChoices):
        OPEN = "open"
        HANDED_OFF = "handed_off", "handed off"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    session_key = models.CharField(max_length=40, blank=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="conversations",
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return str(self.public_id)


class Message(models.Model):
    """One turn of either side. An assistant turn records how it was decided and answered."""

    class Role(models.TextChoices):
        CUSTOMER = "customer"
        ASSISTANT = "assistant"
        STAFF = "staff"

    class Kind(models.TextChoices):
        ANSWER = "answer"
        HANDOFF = "handoff"
        CLARIFY = "clarify"
        FAILED = "failed"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=10, choices=Role.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chat_replies",
        help_text="the colleague who wrote a staff reply",
    )
    text = models.TextField(blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, blank=True)
    intent = models.CharField(max_length=100, blank=True, db_index=True)
    confidence = models.FloatField(null=True, blank=True)
    chosen = models.BooleanField(
        default=False, help_text="the customer picked the intent from the offered ones"
    )
    model_version = models.PositiveIntegerField(null=True, blank=True)
    options = models.JSONField(default=list, blank=True, help_text="intents offered by a clarifying question")
    query = models.TextField(blank=True, help_text="the retrieval query, earlier turns included")
    citations = models.JSONField(default=list, blank=True, help_text="retrieved passages as they read then")
    timings_ms = models.JSONField(default=dict, blank=True)
    ungrounded = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    rating = models.SmallIntegerField(null=True, blank=True, choices=[(1, "helpful"), (-1, "not helpful")])
    feedback = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.role}: {self.text[:60]}"


class Ticket(models.Model):
    """A handoff to a person, with the conversation as it stood."""

    class Status(models.TextChoices):
        OPEN = "open"
        IN_PROGRESS = "in_progress", "in progress"
        RESOLVED = "resolved"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="tickets")
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="ticket")
    intent = models.CharField(max_length=100)
    transcript = models.TextField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN, db_index=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chat_tickets",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["status", "created_at"]

    def __str__(self) -> str:
        return f"ticket {self.pk}: {self.intent}"

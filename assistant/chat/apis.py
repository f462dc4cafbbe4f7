"""The chat REST API: anonymous customers by session cookie, staff and users by login or token."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assistant.chat import selectors, services
from assistant.chat.models import Message
from assistant.chat.web import customer_of
from assistant.core.api import TextField
from assistant.core.schema import NOT_READY
from assistant.core.throttle import ChatStartThrottle, ClientThrottle


class MessageSerializer(serializers.ModelSerializer[Message]):
    ticket = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = [
            "id",
            "role",
            "text",
            "kind",
            "intent",
            "confidence",
            "chosen",
            "model_version",
            "options",
            "citations",
            "timings_ms",
            "ungrounded",
            "error",
            "rating",
            "ticket",
            "created_at",
        ]

    def get_ticket(self, message: Message) -> int | None:
        ticket = getattr(message, "ticket", None) if message.kind == Message.Kind.HANDOFF else None
        return ticket.pk if ticket else None


class ConversationSerializer(serializers.Serializer[Any]):
    conversation = serializers.UUIDField(source="public_id")
    status = TextField()
    messages = MessageSerializer(many=True)


class ConversationCreateApi(APIView):
    """Start a conversation (an anonymous caller keeps it by its session cookie)."""

    permission_classes = [AllowAny]
    throttle_classes = [ClientThrottle, ChatStartThrottle]

    @extend_schema(request=None, responses={201: ConversationSerializer})
    def post(self, request: Request) -> Response:
        conversation = services.conversation_start(customer=customer_of(request))
        return Response(ConversationSerializer(conversation).data, status=status.HTTP_201_CREATED)


class ConversationDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=ConversationSerializer)
    def get(self, request: Request, conversation: str) -> Response:
        found = selectors.conversation_get(customer=customer_of(request), public_id=conversation)
        return Response(ConversationSerializer(found).data)


class MessageCreateApi(APIView):
    """Send a customer message; the reply is an answer with citations, a handoff with its
    ticket, or a clarifying question with the intents to choose from."""

    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer[Any]):
        class Meta:
            ref_name = "ChatMessageRequest"

        text = serializers.JSONField(help_text="the customer's message (text)")
        intent = TextField(required=False, help_text="an intent the customer chose from the options")

    class OutputSerializer(serializers.Serializer[Any]):
        class Meta:
            ref_name = "ChatTurn"

        message = MessageSerializer()
        reply = MessageSerializer()

    @extend_schema(
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            409: OpenApiResponse(description="no intent model is active"),
            503: NOT_READY,
        },
    )
    def post(self, request: Request, conversation: str) -> Response:
        found = selectors.conversation_get(customer=customer_of(request), public_id=conversation)
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        replying = services.turn_create(
            conversation=found, text=given.validated_data["text"], intent=given.validated_data.get("intent")
        )
        data = {"message": replying.asked, "reply": replying.message}
        return Response(self.OutputSerializer(data).data, status=status.HTTP_201_CREATED)


class MessageFeedbackApi(APIView):
    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer[Any]):
        class Meta:
            ref_name = "ChatFeedback"

        rating = serializers.ChoiceField(choices=[(1, "helpful"), (-1, "not helpful")])
        comment = TextField(max_length=2000, required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses=MessageSerializer)
    def post(self, request: Request, message_id: int) -> Response:
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        message = selectors.turn_get(customer=customer_of(request), message_id=message_id)
        services.turn_feedback(message=message, **given.validated_data)
        return Response(MessageSerializer(message).data)

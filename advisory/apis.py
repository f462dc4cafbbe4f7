"""The advisory REST API: an advisor's own clients, and questions answered with citations."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from advisory import selectors, services
from advisory.access import IsAdvisor
from advisory.exports import client_export_data
from advisory.models import Answer, Citation, Client, Holding
from assistant.core.access import signed_in
from assistant.core.api import AnyField, TextField
from assistant.core.schema import NOT_READY


class HoldingSerializer(serializers.ModelSerializer[Holding]):
    class Meta:
        model = Holding
        fields = ["instrument", "asset_class", "value", "currency"]


class ClientSerializer(serializers.ModelSerializer[Client]):
    class Meta:
        model = Client
        fields = [
            "id",
            "reference",
            "full_name",
            "birth_year",
            "income_band",
            "risk_tolerance",
            "goals",
            "horizon_years",
            "restrictions",
        ]


class ClientListApi(APIView):
    """The calling advisor's clients."""

    permission_classes = [IsAuthenticated, IsAdvisor]

    @extend_schema(responses=ClientSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(ClientSerializer(selectors.client_list(advisor=signed_in(request)), many=True).data)


class ClientDetailSerializer(ClientSerializer):
    holdings = HoldingSerializer(many=True)

    class Meta(ClientSerializer.Meta):
        fields = [*ClientSerializer.Meta.fields, "holdings"]


class ClientDetailApi(APIView):
    permission_classes = [IsAuthenticated, IsAdvisor]

    @extend_schema(responses=ClientDetailSerializer)
    def get(self, request: Request, client_id: int) -> Response:
        client = selectors.client_get(advisor=signed_in(request), client_id=client_id)
        return Response(ClientDetailSerializer(client).data)


class ClientExportApi(APIView):
    """Everything recorded about one of the caller's clients, letters and keywords included."""

    permission_classes = [IsAuthenticated, IsAdvisor]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, client_id: int) -> Response:
        client = selectors.client_get(advisor=signed_in(request), client_id=client_id)
        return Response(client_export_data(client))


class CitationSerializer(serializers.ModelSerializer[Citation]):
    class Meta:
        model = Citation
        fields = [
            "number",
            "cited",
            "collection",
            "external_id",
            "title",
            "version",
            "page",
            "heading",
            "text",
            "score",
            "similarity",
        ]


class AnswerSerializer(serializers.ModelSerializer[Answer]):
    citations = CitationSerializer(many=True)

    class Meta:
        model = Answer
        fields = [
            "id",
            "client",
            "scope",
            "collections",
            "question",
            "text",
            "status",
            "error",
            "backend",
            "model_name",
            "fields_used",
            "timings_ms",
            "ungrounded",
            "citations",
            "rating",
            "feedback",
            "created_at",
        ]


class AnswerCreateApi(APIView):
    """Ask a question; the answer comes back complete, with its citations (the web UI streams it)."""

    permission_classes = [IsAuthenticated, IsAdvisor]

    class InputSerializer(serializers.Serializer[Any]):
        class Meta:
            ref_name = "AnswerRequest"

        scope = serializers.ChoiceField(choices=Answer.Scope.choices)
        client = serializers.IntegerField(required=False, help_text="required unless scope is knowledge")
        collections = serializers.ListField(
            child=serializers.SlugField(),
            required=False,
            allow_empty=False,
            help_text="collections to search (default: products and research)",
        )

        def get_fields(self) -> dict[str, AnyField]:
            # Built per request, so the limit is the setting as it is now.
            limit = settings.QUESTION_MAX_CHARS
            return {"question": TextField(max_length=limit), **super().get_fields()}

    @extend_schema(
        request=InputSerializer,
        responses={
            201: AnswerSerializer,
            404: OpenApiResponse(description="no such client of the caller's"),
            503: NOT_READY,
        },
    )
    def post(self, request: Request) -> Response:
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        answer = services.answer_create(
            advisor=signed_in(request),
            question=data["question"],
            scope=data["scope"],
            client_id=data.get("client"),
            collections=data.get("collections"),
        )
        return Response(AnswerSerializer(answer).data, status=status.HTTP_201_CREATED)


class AnswerDetailApi(APIView):
    permission_classes = [IsAuthenticated, IsAdvisor]

    @extend_schema(responses=AnswerSerializer)
    def get(self, request: Request, answer_id: int) -> Response:
        return Response(
            AnswerSerializer(selectors.answer_get(advisor=signed_in(request), answer_id=answer_id)).data
        )


class AnswerFeedbackApi(APIView):
    permission_classes = [IsAuthenticated, IsAdvisor]

    class InputSerializer(serializers.Serializer[Any]):
        class Meta:
            ref_name = "AnswerFeedback"

        rating = serializers.ChoiceField(choices=[(1, "helpful"), (-1, "not helpful")])
        comment = TextField(max_length=2000, required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses=AnswerSerializer)
    def post(self, request: Request, answer_id: int) -> Response:
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        answer = selectors.answer_get(advisor=signed_in(request), answer_id=answer_id)
        services.answer_feedback(answer=answer, **given.validated_data)
        return Response(AnswerSerializer(answer).data)

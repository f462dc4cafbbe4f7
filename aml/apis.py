"""The AML screening API for integrating systems (API keys with the `aml:screen` scope).

`POST /api/aml/screen` screens one transaction or one customer document and answers with the
result; `POST /api/aml/screen/batch` stores up to AML_BATCH_MAX transactions and screens them in
the background. A system sees only its own screenings and batches.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from aml.models import Alert, Channel, Direction, Screening, ScreeningBatch
from aml.selectors import batch_of, batch_screenings, screening_of
from aml.services.screening import DocumentInput, TransactionInput, batch_submit, screening_create
from assistant.core.api import AnyField, DomainDateTimeField, TextField, batch_serializer
from assistant.core.schema import NOT_READY
from assistant.integrations.idempotency import HEADER, idempotency_key_checked, idempotent_response
from assistant.integrations.keys import ApiKeyAuthentication, HasScope, system_of
from assistant.integrations.schema import IDEMPOTENCY

MAX_AMOUNT = 10**12
SCOPE = "aml:screen"


class TransactionInputSerializer(serializers.Serializer[Any]):
    account = TextField(max_length=34, help_text="the account's number (IBAN or the bank's own)")
    external_id = TextField(max_length=100, help_text="the transaction's id in the core system")
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0.01"), max_value=Decimal(MAX_AMOUNT - 1)
    )
    currency = serializers.RegexField(r"^[A-Z]{3}$", help_text="ISO 4217 code, the account's currency")
    direction = serializers.ChoiceField(choices=Direction.choices)
    counterparty_name = TextField(max_length=200)
    counterparty_account = TextField(max_length=64, required=False, default="", allow_blank=True)
    counterparty_country = serializers.RegexField(
        r"^([A-Z]{2})?$", required=False, default="", allow_blank=True, help_text="ISO 3166-1 alpha-2"
    )
    channel = serializers.ChoiceField(choices=Channel.choices)
    booked_at = DomainDateTimeField(help_text="ISO 8601 with a time zone")
    narrative = TextField(
        max_length=2000, required=False, default="", allow_blank=True, help_text="payment reference"
    )

    def to_internal_value(self, data: Any) -> TransactionInput:
        return TransactionInput(**super().to_internal_value(data))


class DocumentInputSerializer(serializers.Serializer[Any]):
    customer = TextField(max_length=32, help_text="the customer's reference")
    name = TextField(max_length=255, help_text="the document's file name or title")

    def get_fields(self) -> dict[str, AnyField]:
        # Built per request, so the limit is the setting as it is now.
        limit = settings.AML_DOCUMENT_MAX_CHARS
        return {**super().get_fields(), "text": TextField(max_length=limit, help_text="its text")}

    def to_internal_value(self, data: Any) -> DocumentInput:
        return DocumentInput(**super().to_internal_value(data))


class ScreenInputSerializer(serializers.Serializer[Any]):
    transaction = TransactionInputSerializer(required=False)
    document = DocumentInputSerializer(required=False)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if ("transaction" in data) == ("document" in data):
            raise serializers.ValidationError(
                {"non_field_errors": ["give either a transaction or a document, not both or neither"]}
            )
        return data


class AmlApi(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasScope]
    required_scopes = [SCOPE]


def screening_url(screening_id: int) -> str:
    return reverse("aml-api:screening", args=[screening_id])


def batch_url(batch_id: int) -> str:
    return reverse("aml-api:batch-detail", args=[batch_id])


def _alert(screening: Screening) -> dict[str, Any] | None:
    try:
        alert = screening.alert
    except Alert.DoesNotExist:
        return None
    return {"id": alert.pk, "status": alert.status}


def screening_resource(screening: Screening) -> dict[str, Any]:
    if (t := screening.transaction) is not None:
        subject = {"kind": "transaction", "account": t.account.number, "external_id": t.external_id}
    else:
        subject = {"kind": "document", "name": screening.document_name}
    return {
        "id": screening.pk,
        "url": screening_url(screening.pk),
        "subject": subject,
        "customer": screening.customer.reference,
        "risk": round(screening.risk, 4) if screening.risk is not None else None,
        "alert": _alert(screening),
        "typology": screening.typology,
        "rules": screening.rule_hits,
        "explanation": screening.explanation,
        "model_versions": screening.model_versions,
        "created": screening.created_at.isoformat(),
    }


class ScreenApi(AmlApi):
    """Screen one transaction or one customer document now: the risk, any alert, the explanation."""

    @extend_schema(
        operation_id="aml_screen",
        parameters=[IDEMPOTENCY],
        request=ScreenInputSerializer,
        responses={201: OpenApiTypes.OBJECT, 400: OpenApiResponse(description="a message per field"),
                   409: OpenApiResponse(description="the transaction was already screened, or no "
                                                    "typology model is active"),
                   422: OpenApiResponse(description="Idempotency-Key reused with another body"),
                   503: NOT_READY},
    )  # fmt: skip
    def post(self, request: Request) -> Response:
        key = idempotency_key_checked(request.headers.get(HEADER))
        given = ScreenInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        system = system_of(request)

        def handle() -> tuple[int, dict[str, Any]]:
            screening = screening_create(system=system, subject=data.get("transaction") or data["document"])
            return status.HTTP_201_CREATED, screening_resource(screening_of(system, screening.pk))

        return idempotent_response(
            system=system, operation="aml.screen", key=key, data=request.data, handle=handle, location="url"
        )


class BatchApi(AmlApi):
    """Store up to AML_BATCH_MAX transactions (all or none, errors by index) and screen them later."""

    AmlBatchInputSerializer = batch_serializer(
        "AmlBatchInputSerializer", "transactions", TransactionInputSerializer, "AML_BATCH_MAX"
    )

    @extend_schema(
        operation_id="aml_screen_batch",
        parameters=[IDEMPOTENCY],
        request=AmlBatchInputSerializer,
        responses={202: inline_serializer("AmlBatchAccepted", {"id": serializers.IntegerField(),
                                                               "status_url": TextField()}),
                   400: OpenApiResponse(description="messages per transaction index and field"),
                   409: OpenApiResponse(description="a transaction was already screened"),
                   422: OpenApiResponse(description="Idempotency-Key reused with another body")},
    )  # fmt: skip
    def post(self, request: Request) -> Response:
        key = idempotency_key_checked(request.headers.get(HEADER))
        given = self.AmlBatchInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        system = system_of(request)

        def handle() -> tuple[int, dict[str, Any]]:
            batch = batch_submit(system=system, items=given.validated_data["transactions"])
            return status.HTTP_202_ACCEPTED, {
                "id": batch.pk,
                "status": batch.status,
                "status_url": batch_url(batch.pk),
            }

        return idempotent_response(
            system=system,
            operation="aml.screen_batch",
            key=key,
            data=request.data,
            handle=handle,
            location="status_url",
        )


class BatchDetailApi(AmlApi):
    @extend_schema(
        operation_id="aml_batch_retrieve",
        responses={
            200: OpenApiTypes.OBJECT,
            404: OpenApiResponse(description="no such batch of this system"),
        },
    )
    def get(self, request: Request, batch_id: int) -> Response:
        """The batch's progress; once complete, each transaction's risk, typology and alert."""
        batch = batch_of(system_of(request), batch_id)
        body: dict[str, Any] = {
            "id": batch.pk,
            "status": batch.status,
            "total": batch.total,
            "screened": batch.screened,
            "error": batch.error,
            "created": batch.created_at.isoformat(),
            "finished": batch.finished_at.isoformat() if batch.finished_at else None,
        }
        if batch.status == ScreeningBatch.Status.COMPLETE:
            body["results"] = [
                {
                    "screening": s.pk,
                    "url": screening_url(s.pk),
                    "account": t.account.number,
                    "external_id": t.external_id,
                    "risk": round(s.risk, 4) if s.risk is not None else None,
                    "typology": s.typology,
                    "rules": [hit["reason_code"] for hit in s.rule_hits],
                    "alert": _alert(s),
                }
                for s in batch_screenings(batch)
                if (t := s.transaction) is not None
            ]
        return Response(body)


class ScreeningDetailApi(AmlApi):
    @extend_schema(
        operation_id="aml_screening_retrieve",
        responses={
            200: OpenApiTypes.OBJECT,
            404: OpenApiResponse(description="no such screening of this system"),
        },
    )
    def get(self, request: Request, screening_id: int) -> Response:
        return Response(screening_resource(screening_of(system_of(request), screening_id)))

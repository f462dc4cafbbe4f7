"""The claims REST API for integrating systems (API keys, scoped; a system sees only its claims)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assistant.core.api import AnyField, DomainDateField, TextField, batch_serializer
from assistant.integrations.idempotency import HEADER, idempotency_key_checked, idempotent_response
from assistant.integrations.keys import ApiKeyAuthentication, HasScope, system_of
from assistant.integrations.schema import IDEMPOTENCY
from claims.models import Claim
from claims.reports import report_pdf_response
from claims.selectors import OUTCOMES, claim_of, claim_resource, claim_url, claims_of, report_of
from claims.services.submission import Attachment, ClaimInput, claims_submit

MAX_AMOUNT = 10**12


class AttachmentSerializer(serializers.Serializer[Any]):
    name = TextField(max_length=200)
    content_type = TextField(max_length=100)
    url = serializers.URLField(max_length=500, help_text="where the claims system keeps the file")


class ClaimInputSerializer(serializers.Serializer[Any]):
    external_id = TextField(max_length=100, help_text="the claim's id in the calling system")
    policy_number = TextField(max_length=32)
    loss_date = DomainDateField()
    reported_date = DomainDateField(required=False, help_text="default: today")
    amount_claimed = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0.01"), max_value=Decimal(MAX_AMOUNT - 1)
    )
    currency = serializers.RegexField(r"^[A-Z]{3}$", help_text="ISO 4217 code, e.g. USD")
    attachments: AnyField = serializers.ListSerializer(
        child=AttachmentSerializer(), required=False, max_length=20
    )

    def get_fields(self) -> dict[str, AnyField]:
        # Built per request, so the limit is the setting as it is now.
        return {
            **super().get_fields(),
            "description": TextField(max_length=settings.CLAIMS_DESCRIPTION_MAX_CHARS),
        }

    def to_internal_value(self, data: Any) -> ClaimInput:
        fields = super().to_internal_value(data)
        attachments = tuple(Attachment(**a) for a in fields.pop("attachments", []))
        return ClaimInput(**fields, attachments=attachments)


class AcceptedSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    external_id = TextField()
    outcome = TextField(help_text="queued")
    status_url = TextField()


class ClaimApi(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasScope]


class ClaimSubmitApi(ClaimApi):
    """Submit one claim: 202 Accepted with the URL where its triage will appear."""

    required_scopes = {"POST": ["claims:write"], "GET": ["claims:read"]}

    @extend_schema(
        operation_id="claims_submit",
        parameters=[IDEMPOTENCY],
        request=ClaimInputSerializer,
        responses={202: AcceptedSerializer, 400: OpenApiResponse(description="a message per field"),
                   409: OpenApiResponse(description="external id already submitted"),
                   422: OpenApiResponse(description="Idempotency-Key reused with another body")},
    )  # fmt: skip
    def post(self, request: Request) -> Response:
        key = idempotency_key_checked(request.headers.get(HEADER))
        given = ClaimInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        system = system_of(request)

        def handle() -> tuple[int, dict[str, Any]]:
            claim = claims_submit(system=system, items=[given.validated_data], batch=False)[0]
            return status.HTTP_202_ACCEPTED, _accepted(claim)

        return idempotent_response(
            system=system,
            operation="claims.submit",
            key=key,
            data=request.data,
            handle=handle,
            location="status_url",
        )

    class FilterSerializer(serializers.Serializer[Any]):
        external_id = TextField(max_length=100, required=False, allow_blank=True)

    @extend_schema(
        operation_id="claims_list",
        parameters=[FilterSerializer],
        responses=inline_serializer(
            "ClaimList", {"results": serializers.ListField(child=serializers.DictField())}
        ),
    )
    def get(self, request: Request) -> Response:
        """The system's latest claims (at most 100), or the one with an external id."""
        given = self.FilterSerializer(data=request.query_params)
        given.is_valid(raise_exception=True)
        claims = claims_of(system_of(request), external_id=given.validated_data.get("external_id") or None)
        return Response({"results": [_summary(claim) for claim in claims[:100]]})


class ClaimBatchApi(ClaimApi):
    """Submit up to CLAIMS_BATCH_MAX claims at once: all are stored, or none (errors by index)."""

    required_scopes = ["claims:write"]

    BatchInputSerializer = batch_serializer(
        "BatchInputSerializer", "claims", ClaimInputSerializer, "CLAIMS_BATCH_MAX"
    )

    @extend_schema(
        operation_id="claims_submit_batch",
        parameters=[IDEMPOTENCY],
        request=BatchInputSerializer,
        responses={202: inline_serializer("BatchAccepted", {"claims": AcceptedSerializer(many=True)}),
                   400: OpenApiResponse(description="messages per claim index and field"),
                   409: OpenApiResponse(description="an external id already submitted"),
                   422: OpenApiResponse(description="Idempotency-Key reused with another body")},
    )  # fmt: skip
    def post(self, request: Request) -> Response:
        key = idempotency_key_checked(request.headers.get(HEADER))
        given = self.BatchInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        system = system_of(request)

        def handle() -> tuple[int, dict[str, Any]]:
            claims = claims_submit(system=system, items=given.validated_data["claims"], batch=True)
            return status.HTTP_202_ACCEPTED, {"claims": [_accepted(claim) for claim in claims]}

        return idempotent_response(
            system=system, operation="claims.submit_batch", key=key, data=request.data, handle=handle
        )


class ClaimDetailApi(ClaimApi):
    required_scopes = ["claims:read"]

    @extend_schema(
        operation_id="claims_retrieve",
        responses={
            200: OpenApiTypes.OBJECT,
            404: OpenApiResponse(description="no such claim of this system"),
        },
    )
    def get(self, request: Request, claim_id: int) -> Response:
        """The claim's status as a ClaimResponse-like document: outcome, triage, fields, policy check."""
        return Response(claim_resource(claim_of(system_of(request), claim_id)))


class ClaimReportApi(ClaimApi):
    required_scopes = ["claims:read"]

    @extend_schema(operation_id="claims_report_html", responses={(200, "text/html"): OpenApiTypes.STR})
    def get(self, request: Request, claim_id: int) -> HttpResponse:
        report = report_of(claim_of(system_of(request), claim_id))
        return HttpResponse(report.html, content_type="text/html; charset=utf-8")


class ClaimReportPdfApi(ClaimApi):
    required_scopes = ["claims:read"]

    @extend_schema(
        operation_id="claims_report_pdf", responses={(200, "application/pdf"): OpenApiTypes.BINARY}
    )
    def get(self, request: Request, claim_id: int) -> HttpResponse:
        return report_pdf_response(report_of(claim_of(system_of(request), claim_id)).claim)


def _accepted(claim: Claim) -> dict[str, Any]:
    return {
        "id": claim.pk,
        "external_id": claim.external_id,
        "outcome": "queued",
        "status_url": claim_url(claim.pk),
    }


def _summary(claim: Claim) -> dict[str, Any]:
    return {
        "id": claim.pk,
        "external_id": claim.external_id,
        "outcome": OUTCOMES[claim.status],
        "created": claim.created_at.isoformat(),
        "status_url": claim_url(claim.pk),
    }

"""The API's error contract: every refusal is a 4xx with a message per field, never a 500."""

from typing import Any

from django.conf import settings
from rest_framework import serializers
from rest_framework.fields import Field
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from assistant.core.errors import ApplicationError, FieldErrors


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, FieldErrors):
        return Response(exc.errors, status=exc.status)
    if isinstance(exc, ApplicationError):
        field = getattr(exc, "field", None) or "non_field_errors"
        response = Response({field: [exc.message]}, status=exc.status)
        if exc.retry_after_s is not None:
            response["Retry-After"] = str(exc.retry_after_s)
        return response
    return drf_exception_handler(exc, context)


# A serializer field of any kind (DRF's Field takes four type parameters).
AnyField = Field[Any, Any, Any, Any]


def batch_serializer(
    name: str, key: str, child: type[serializers.Serializer[Any]], most_setting: str
) -> type[serializers.Serializer[Any]]:
    """A serializer named `name` of `{key: [child, ...]}`: one item at least, at most the setting
    `most_setting`, read per request so that a changed setting applies without a restart."""

    def get_fields(self: serializers.Serializer[Any]) -> dict[str, AnyField]:
        items: AnyField = serializers.ListSerializer(
            child=child(), allow_empty=False, max_length=getattr(settings, most_setting)
        )
        return {key: items}

    return type(name, (serializers.Serializer,), {"get_fields": get_fields})

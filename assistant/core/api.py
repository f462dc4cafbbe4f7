"""The API's error contract: every refusal is a 4xx with a message per field, never a 500."""

from typing import Any

from django.conf import settings
from rest_framework import serializers
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.fields import Field
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from assistant.core.errors import ApplicationError, FieldErrors
from assistant.core.storable import MAX_DEPTH, TooDeep, date_problem, problems


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


class StorableJSONParser(JSONParser):
    """JSON whose every key and text can be stored: a 400 naming each place that cannot, and one
    for JSON nested too deep to walk (instead of a 500 from the database or the recursion limit)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
            found = problems(data)
        except (RecursionError, TooDeep):
            raise ParseError(f"JSON parse error - nested more than {MAX_DEPTH} deep") from None
        if found:
            raise ValidationError({path: [problem] for path, problem in found.items()})
        return data


def _in_range(value: Any) -> None:
    if problem := date_problem(value):
        raise serializers.ValidationError(problem)


class DomainDateField(serializers.DateField):
    """A date within the years the domain's records fall in (assistant.core.storable)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.append(_in_range)


class DomainDateTimeField(serializers.DateTimeField):
    """A date and time within the years the domain's records fall in (assistant.core.storable)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.append(_in_range)


class TextField(serializers.CharField):
    """A string, and only a string: DRF's CharField also takes a number and turns it into text,
    which the schema (type string) does not allow and no caller means."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)

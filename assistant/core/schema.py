"""The OpenAPI schema documents the refusals each operation can give, with the body they come in
(`assistant.core.api.exception_handler`, `assistant.core.middleware.refusal`).

An operation gets the responses that follow from what it is: 400 when it takes input, 401 when it
authenticates, 403 when a permission beyond being signed in guards it (or a session's CSRF check
does), 404 when its path names a resource, 413 and 415 when it reads a body, 429 when it is
throttled. A view declares any other refusal it gives (409, 422, 503: `NOT_READY` where it serves
a model) in its `extend_schema` responses, with a description and no body: the body is the Error
schema.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiResponse
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import SAFE_METHODS, AllowAny, IsAuthenticated

MESSAGES = "ErrorMessages"
ERROR = "Error"

MESSAGES_SCHEMA = {
    "description": "messages about one input: a list of texts, or, for an object or a list, the "
    "messages about each of its fields or items (by name or index)",
    "oneOf": [
        {
            "type": "array",
            "items": {"oneOf": [{"type": "string"}, {"$ref": f"#/components/schemas/{MESSAGES}"}]},
        },
        {"type": "object", "additionalProperties": {"$ref": f"#/components/schemas/{MESSAGES}"}},
    ],
}
ERROR_SCHEMA = {
    "type": "object",
    "description": "a refusal: one `detail`, or the messages about each field at fault "
    "(`non_field_errors` for the input as a whole)",
    "properties": {"detail": {"type": "string", "description": "why the request was refused"}},
    "additionalProperties": {"$ref": f"#/components/schemas/{MESSAGES}"},
}

DESCRIPTIONS = {
    400: "the input is wrong: messages per field",
    401: "no credentials, or credentials that are not valid",
    403: "the credentials do not allow this operation",
    404: "no such resource, or one the caller may not see",
    413: "the request body is over the limit",
    415: "the request body's media type is not one the operation reads",
    429: "too many requests: ask again after Retry-After seconds",
}
HEADERS = {
    401: {
        "WWW-Authenticate": {
            "schema": {"type": "string"},
            "required": True,
            "description": "the authentication scheme to use",
        }
    },
    429: {
        "Retry-After": {
            "schema": {"type": "integer", "minimum": 0},
            "required": True,
            "description": "seconds until the caller may ask again",
        }
    },
    503: {
        "Retry-After": {
            "schema": {"type": "integer", "minimum": 0},
            "required": False,
            "description": "seconds until what is being prepared should be ready",
        }
    },
}
SIGNED_IN = (AllowAny, IsAuthenticated)
NOT_READY = OpenApiResponse(
    description="a model or the answer backend is not ready (being fitted, prepared or restarted) or broken"
)


class ErrorsAutoSchema(AutoSchema):
    """drf-spectacular's schema, with the error responses of each operation."""

    def _resolve_path_parameters(self, variables: list[str]) -> list[dict[str, Any]]:
        """Django's `int` path converter takes digits only: no sign."""
        parameters: list[dict[str, Any]] = super()._resolve_path_parameters(variables)  # type: ignore[no-untyped-call]
        for parameter in parameters:
            if parameter["schema"].get("type") == "integer":
                parameter["schema"] = {**parameter["schema"], "minimum": 0}
        return parameters

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for status in self._refusals():
            responses.setdefault(str(status), {"description": DESCRIPTIONS[status]})
        error = self._error_component()
        for code, response in responses.items():
            status = int(code)
            if status < 400:
                continue
            response["content"] = {"application/json": {"schema": error}}
            if status in HEADERS:
                response["headers"] = {**response.get("headers", {}), **HEADERS[status]}
        return dict(sorted(responses.items()))

    def _refusals(self) -> list[int]:
        view = self.view
        authenticators = view.get_authenticators()
        permissions = view.get_permissions()
        body = self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None
        guarded = any(not isinstance(permission, SIGNED_IN) for permission in permissions)
        csrf = self.method not in SAFE_METHODS and any(
            isinstance(authenticator, SessionAuthentication) for authenticator in authenticators
        )
        parameters = any(parameter["in"] != "path" for parameter in self._get_parameters())
        applies = {
            400: body or parameters,
            401: bool(authenticators),
            403: guarded or csrf,
            404: "{" in self.path,
            413: body,
            415: body,
            429: bool(view.get_throttles()),
        }
        return [status for status, applied in applies.items() if applied]

    def _error_component(self) -> dict[str, str]:
        for name, schema in ((MESSAGES, MESSAGES_SCHEMA), (ERROR, ERROR_SCHEMA)):
            component = ResolvedComponent(  # type: ignore[no-untyped-call]
                name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema
            )
            self.registry.register_on_missing(component)
        return {"$ref": f"#/components/schemas/{ERROR}"}

"""How the OpenAPI schema describes API-key authentication and the Idempotency-Key header."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from assistant.integrations.idempotency import HEADER

IDEMPOTENCY = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="unique per request (e.g. a UUID); a retry with the same key and body gets the same response",
)


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "assistant.integrations.keys.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "an integrating system's API key (fa_…), scoped; also accepted as X-API-Key",
        }


class PersonalTokenScheme(OpenApiAuthenticationExtension):
    target_class = "assistant.integrations.keys.PersonalTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "a person's API token, as 'Token ft_…' (issued in the admin, shown once)",
        }

"""The `Idempotency-Key` header (IETF draft): a retried request gets the first response again.

The key is claimed in the same transaction as the operation's writes, so either both are stored
or neither is: a request refused as invalid leaves the key free for the corrected request.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from rest_framework.response import Response

from assistant.core.errors import ApplicationError
from assistant.db.constraints import violated_constraint
from assistant.integrations.models import IdempotentRequest, System

HEADER = "Idempotency-Key"
KEY_MAX_CHARS = 255
CONSTRAINT = "idempotency_key_unique"


class IdempotencyConflict(ApplicationError):
    status = 422


def idempotency_key_checked(value: object) -> str:
    if not value or not isinstance(value, str) or not value.strip():
        raise ApplicationError(
            f"this operation needs an {HEADER} header: a value unique to the request, such as a UUID",
            field=HEADER,
        )
    key = value.strip()
    if len(key) > KEY_MAX_CHARS or not key.isprintable():
        raise ApplicationError(
            f"the {HEADER} must be printable and at most {KEY_MAX_CHARS} characters", field=HEADER
        )
    return key


def request_hash(data: Any) -> str:
    """The body's SHA-256, the same whatever the order of its keys or its white space."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotent(
    *,
    system: System,
    operation: str,
    key: str,
    data: Any,
    handle: Callable[[], tuple[int, dict[str, Any]]],
) -> tuple[int, dict[str, Any], bool]:
    """(status, body, replayed): `handle`'s response, or the stored one for a key already used."""
    digest = request_hash(data)
    previous = IdempotentRequest.objects.filter(system=system, operation=operation, key=key).first()
    if previous is not None:
        return _replayed(previous, digest)
    try:
        with transaction.atomic():
            record = IdempotentRequest.objects.create(
                system=system, operation=operation, key=key, request_hash=digest, response_status=0,
                response_body={},
            )  # fmt: skip
            status, body = handle()
            record.response_status, record.response_body = status, body
            record.save(update_fields=["response_status", "response_body"])
    except IntegrityError as error:
        # A concurrent request with the same key committed first: answer as it did.
        if violated_constraint(error) != CONSTRAINT:
            raise
        return _replayed(IdempotentRequest.objects.get(system=system, operation=operation, key=key), digest)
    return status, body, False


def _replayed(previous: IdempotentRequest, digest: str) -> tuple[int, dict[str, Any], bool]:
    if previous.request_hash != digest:
        raise IdempotencyConflict(
            f"this {HEADER} was already used with a different request body; use a new key for a new request",
            field=HEADER,
        )
    return previous.response_status, previous.response_body, True


def idempotent_response(
    *,
    system: System,
    operation: str,
    key: str,
    data: Any,
    handle: Callable[[], tuple[int, dict[str, Any]]],
    location: str | None = None,
) -> Response:
    """`idempotent` as an API response: `Idempotent-Replayed: true` on a replay, and a `Location`
    header from the body's field named `location`, when given."""
    status, body, replayed = idempotent(system=system, operation=operation, key=key, data=data, handle=handle)
    response = Response(body, status=status)
    if location is not None:
        response["Location"] = body[location]
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response

"""API keys (a system's) and personal tokens (a person's): issued once, stored as a hash, checked in
constant time, revocable; keys are scoped."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from assistant.integrations.models import ApiKey, PersonalToken, System

KEY_PREFIX = "fa_"
TOKEN_PREFIX = "ft_"
LEGACY_PREFIX_CHARS = 8  # a token from before hashing (40 hex digits) is found by its first 8
SCOPES = {
    "claims:write": "submit claims",
    "claims:read": "read the claims the system submitted",
    "aml:screen": "screen transactions and documents",
}
# last_used_at is written at most this often per key, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hashed(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_issue(*, system: System, name: str, scopes: list[str]) -> tuple[ApiKey, str]:
    """A new key and its full text, which is shown once and never stored."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ValueError(f"unknown scopes {unknown}; scopes are {', '.join(SCOPES)}")
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    text = f"{KEY_PREFIX}{prefix}_{secret}"
    key = ApiKey.objects.create(
        system=system, name=name, prefix=prefix, secret_hash=_hashed(text), scopes=sorted(set(scopes))
    )
    return key, text


def api_key_revoke(key: ApiKey) -> None:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])


@dataclass(frozen=True)
class SystemPrincipal:
    """`request.user` for a request made with an API key."""

    system: System
    key: ApiKey

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False

    @property
    def pk(self) -> int:
        return self.system.pk

    def __str__(self) -> str:
        return f"system {self.system.name}"


def _refused(detail: str) -> exceptions.AuthenticationFailed:
    return exceptions.AuthenticationFailed(detail)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer fa_…` (or `X-API-Key: fa_…`)."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[SystemPrincipal, ApiKey] | None:
        text = self._key_text(request)
        if text is None:
            return None
        body = text.removeprefix(KEY_PREFIX)
        prefix, _, _ = body.partition("_")
        if not text.startswith(KEY_PREFIX) or not prefix:
            raise _refused("malformed API key")
        key = ApiKey.objects.select_related("system").filter(prefix=prefix).first()
        if key is None or not hmac.compare_digest(key.secret_hash, _hashed(text)):
            raise _refused("unknown API key")
        if key.revoked_at is not None:
            raise _refused("this API key has been revoked")
        if not key.system.active:
            raise _refused(f"system {key.system.name} is inactive")
        now = timezone.now()
        if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        return SystemPrincipal(key.system, key), key

    def _key_text(self, request: Request) -> str | None:
        header: str | None = request.META.get("HTTP_X_API_KEY")
        if header:
            return header.strip()
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise _refused("the Authorization header must be 'Bearer <API key>'")
        try:
            return parts[1].decode()
        except UnicodeError:
            raise _refused("malformed API key") from None

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class HasScope(permissions.BasePermission):
    """Requests made with an API key need the view's `required_scopes` (per method, or for all)."""

    message = "this API key lacks the scope this operation needs"

    def has_permission(self, request: Request, view: Any) -> bool:
        principal = request.user
        if not isinstance(principal, SystemPrincipal):
            return False
        needed = view.required_scopes
        if isinstance(needed, dict):
            needed = needed.get(request.method, ())
        missing = set(needed) - set(principal.key.scopes)
        if missing:
            self.message = f"this API key lacks the scope {', '.join(sorted(missing))}"
            return False
        return True


def token_issue(user: Any) -> str:
    """A new personal token for `user`: its full text, which is shown once and never stored."""
    prefix = secrets.token_hex(4)
    text = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    PersonalToken.objects.create(user=user, prefix=prefix, secret_hash=_hashed(text))
    return text


def tokens_revoke(user: Any) -> int:
    return PersonalToken.objects.filter(user=user, revoked_at=None).update(revoked_at=timezone.now())


class PersonalTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token ft_…`: the person the token was issued to."""

    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[Any, PersonalToken] | None:
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise _refused("the Authorization header must be 'Token <token>'")
        try:
            text = parts[1].decode()
        except UnicodeError:
            raise _refused("malformed token") from None
        prefix = (
            text.removeprefix(TOKEN_PREFIX).partition("_")[0]
            if text.startswith(TOKEN_PREFIX)
            else text[:LEGACY_PREFIX_CHARS]
        )
        token = PersonalToken.objects.select_related("user").filter(prefix=prefix).first()
        if token is None or not hmac.compare_digest(token.secret_hash, _hashed(text)):
            raise _refused("invalid token")
        if token.revoked_at is not None:
            raise _refused("this token has been revoked")
        if not token.user.is_active:
            raise _refused("this person's account is inactive")
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            PersonalToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


def system_of(request: Request) -> System:
    """The system an API key authenticated (the views that call this require one)."""
    principal = request.user
    if not isinstance(principal, SystemPrincipal):
        raise exceptions.NotAuthenticated("this operation needs an API key")
    return principal.system

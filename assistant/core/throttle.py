"""How fast one party may ask: signing in (the site's login and the admin's), the API by API key,
token or person (or address, signed out), and new anonymous chat conversations. Each refusal is a
429 with Retry-After. Counted in fixed windows in the shared cache (Redis, or the database's, so
that every web process sees the same counts; a burst racing one window's count may slip a request
or two). A count the cache cannot take lets the request through, logged: the throttle guards the
site, it does not stand between it and its users when Redis is away.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from redis import RedisError
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from assistant.core.middleware import refusal

logger = logging.getLogger("finassist.core")

LOGIN_VIEWS = ("login", "admin:login")
IP_FACTOR = 4  # failures from one address, for each one a user name is allowed


def _window(key: str, seconds: int) -> tuple[str, int]:
    """The cache key of the current window of `seconds`, and the seconds until it ends."""
    now = int(time.time())
    return f"throttle:{key}:{now // seconds}", seconds - now % seconds


def hit(key: str, rate: tuple[int, int]) -> int | None:
    """Count one request of `key`: None while within `rate` (count, seconds), else the seconds
    until the window ends."""
    count, seconds = rate
    stored, left = _window(key, seconds)
    try:
        cache.add(stored, 0, timeout=seconds + 1)
        try:
            seen = cache.incr(stored)
        except ValueError:  # expired between the two calls: this is the first of a new window
            cache.set(stored, seen := 1, timeout=seconds + 1)
    except RedisError:
        logger.warning("throttle %s not counted: the cache is unavailable", key, exc_info=True)
        return None
    return left if seen > count else None


def held(key: str, rate: tuple[int, int]) -> int | None:
    """The seconds until `key` may ask again, without counting this ask; None if it may now."""
    count, seconds = rate
    stored, left = _window(key, seconds)
    try:
        seen = cache.get(stored) or 0
    except RedisError:
        logger.warning("throttle %s not read: the cache is unavailable", key, exc_info=True)
        return None
    return left if seen >= count else None


def address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def _hashed(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _refusal(request: HttpRequest, wait: int, what: str) -> HttpResponse:
    response = refusal(request, 429, {"too many": f"{what}; try again in {wait} s"}, detail=True)
    response["Retry-After"] = str(wait)
    return response


# Signing in -------------------------------------------------------------------------------------


def _login_keys(username: str, request: HttpRequest) -> list[tuple[str, tuple[int, int]]]:
    failures, seconds = settings.LOGIN_FAILURES, settings.LOGIN_LOCKOUT_S
    return [
        (f"login:user:{_hashed(username.strip().lower())}", (failures, seconds)),
        (f"login:address:{address(request)}", (failures * IP_FACTOR, seconds)),
    ]


class TooMany(Exception):
    """A page's view refuses: `what` was asked too often; ask again in `wait` seconds."""

    def __init__(self, what: str, wait: int) -> None:
        super().__init__(what)
        self.what, self.wait = what, wait


class ThrottleMiddleware:
    """Refuses a sign-in (site or admin) for a user name or address with too many recent failures,
    whatever the password, until the lockout window ends; turns a view's TooMany into a 429."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and _is_login(request.path_info):
            username = str(request.POST.get("username", ""))
            waits = [wait for key, rate in _login_keys(username, request) if (wait := held(key, rate))]
            if waits:
                return _refusal(request, max(waits), "too many failed sign-ins")
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return _refusal(request, exception.wait, exception.what) if isinstance(exception, TooMany) else None


def _is_login(path: str) -> bool:
    try:
        return resolve(path).view_name in LOGIN_VIEWS
    except Resolver404:
        return False


def login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **_: Any
) -> None:
    if request is not None:
        for key, rate in _login_keys(str(credentials.get("username", "")), request):
            hit(key, rate)


def logged_in(sender: Any, request: HttpRequest, user: Any, **extra: Any) -> None:
    """A success clears the user name's failures (not the address's)."""
    key, (_, seconds) = _login_keys(user.get_username(), request)[0]
    cache.delete(_window(key, seconds)[0])


def connect() -> None:
    user_login_failed.connect(login_failed, dispatch_uid="finassist-login-failed")
    user_logged_in.connect(logged_in, dispatch_uid="finassist-logged-in")


# The API ----------------------------------------------------------------------------------------


class ClientThrottle(BaseThrottle):
    """FINASSIST_API_RATE for each caller: its API key or token, the person signed in, or else its
    address."""

    rate_setting = "API_RATE"
    scope = "api"

    def __init__(self) -> None:
        self.wait_s: int | None = None

    def key(self, request: Request) -> str:
        if request.auth is not None:
            credential = f"{type(request.auth).__name__}:{getattr(request.auth, 'pk', request.auth)}"
            return f"{self.scope}:auth:{_hashed(credential)}"
        if request.user is not None and request.user.is_authenticated:
            return f"{self.scope}:user:{request.user.pk}"
        return f"{self.scope}:address:{address(request)}"

    def allow_request(self, request: Request, view: Any) -> bool:
        self.wait_s = hit(self.key(request), getattr(settings, self.rate_setting))
        return self.wait_s is None

    def wait(self) -> float | None:
        return self.wait_s


class ChatStartThrottle(ClientThrottle):
    """FINASSIST_CHAT_START_RATE new conversations for each address (signed in or not)."""

    rate_setting = "CHAT_START_RATE"
    scope = "chat-start"

    def key(self, request: Request) -> str:
        return f"{self.scope}:address:{address(request)}"


def chat_start_allowed(request: HttpRequest) -> None:
    """For the chat pages, before a conversation starts: TooMany (a 429) when this address started
    more than FINASSIST_CHAT_START_RATE lately."""
    wait = hit(f"{ChatStartThrottle.scope}:address:{address(request)}", settings.CHAT_START_RATE)
    if wait is not None:
        raise TooMany("too many new conversations", wait)

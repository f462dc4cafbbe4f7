"""Input the application cannot store or read is refused before any view sees it."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from assistant.core.storable import text_problem


class StorableInputMiddleware:
    """A form post or query string holding text PostgreSQL cannot store (a NUL character) or that
    is not text (a lone surrogate) gets a 400 naming the field; a body over the limit
    (DATA_UPLOAD_MAX_MEMORY_SIZE, FINASSIST_MAX_BODY_BYTES) a 413: JSON under /api/, a page
    elsewhere. The API's JSON is checked by its parser (`assistant.core.api.StorableJSONParser`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            found = _unstorable(request)
        except RequestDataTooBig:
            return _too_big(request)
        if not found:
            return self.get_response(request)
        return refusal(request, 400, found)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A view that read a body over the limit (the API's parsers read it there)."""
        return _too_big(request) if isinstance(exception, RequestDataTooBig) else None


def _unstorable(request: HttpRequest) -> dict[str, str]:
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is not None and declared > limit and not (request.content_type or "").startswith("multipart/"):
        raise RequestDataTooBig(f"the body is {declared:,} bytes")
    found: dict[str, str] = {}
    for data in (request.GET, request.POST):
        for name, values in data.lists():
            for text in (name, *values):
                if problem := text_problem(text):
                    found.setdefault(name if text_problem(name) is None else "non_field_errors", problem)
    return found


def _too_big(request: HttpRequest) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return refusal(
        request, 413, {"body": f"the request body is over the limit of {limit:,} bytes"}, detail=True
    )


def refusal(
    request: HttpRequest, status: int, problems: dict[str, str], *, detail: bool = False
) -> HttpResponse:
    """A request refused before its view: JSON under /api/ (a message per field, or one `detail`),
    elsewhere a page naming each problem."""
    if not request.path.startswith("/api/"):
        return render(request, "core/bad_request.html", {"problems": problems}, status=status)
    if detail:
        return JsonResponse({"detail": "; ".join(problems.values())}, status=status)
    return JsonResponse({name: [problem] for name, problem in problems.items()}, status=status)


# Every page loads only from this site: its own scripts (no inline script), styles (inline ones
# too: the templates' <style> blocks and the plots' style attributes), images (and data: URLs).
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


class ContentSecurityPolicyMiddleware:
    """Sends CONTENT_SECURITY_POLICY with every response that does not set its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response

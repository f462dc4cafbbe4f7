"""Only advisors (and superusers) use the advisory UI and API; anyone else gets 403.

A refusal a page raises (another advisor's client: not found) becomes an error page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework.permissions import BasePermission

from assistant.core.errors import ApplicationError
from assistant.core.roles import ADVISOR, user_has_role


def advisor_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    @wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not user_has_role(request.user, ADVISOR):
            raise PermissionDenied("the advisory pages are for advisors")
        try:
            return view(request, *args, **kwargs)
        except ApplicationError as error:
            return render(request, "advisory/error.html", {"error": error}, status=error.status)

    return checked


class IsAdvisor(BasePermission):
    message = "the advisory API is for advisors"

    def has_permission(self, request: Any, view: Any) -> bool:
        return user_has_role(request.user, ADVISOR)

"""Pages for one role: anyone else signed in gets 403; a refusal a page raises becomes an error page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from assistant.core.errors import ApplicationError
from assistant.core.roles import user_has_role

View = Callable[..., HttpResponse]


def role_required(role: str, *, refusal: str, error_template: str) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @login_required
        @wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not user_has_role(request.user, role):
                raise PermissionDenied(refusal)
            try:
                return view(request, *args, **kwargs)
            except ApplicationError as error:
                return render(request, error_template, {"error": error}, status=error.status)

        return checked

    return decorate

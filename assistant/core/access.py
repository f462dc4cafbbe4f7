"""Pages for one role: anyone else signed in gets 403; a refusal a page raises becomes an error page.
APIs for one permission."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _
from rest_framework import permissions
from rest_framework.request import Request

from assistant.core.errors import ApplicationError
from assistant.core.roles import user_has_role

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

View = Callable[..., HttpResponseBase]


def role_required(role: str, *, refusal: StrOrPromise, error_template: str) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @login_required
        @wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not user_has_role(request.user, role):
                raise PermissionDenied(refusal)
            try:
                return view(request, *args, **kwargs)
            except ApplicationError as error:
                return render(request, error_template, {"error": error}, status=error.status)

        return checked

    return decorate


def signed_in(request: HttpRequest | Request) -> User:
    """The person signed in (for a view behind a login or a permission that requires one)."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied(_("sign in first"))
    return user


def permitted(codename: str) -> type[permissions.BasePermission]:
    class Permitted(permissions.BasePermission):
        message = f"you need the {codename} permission (the ml_engineer role has it)"

        def has_permission(self, request: Request, view: Any) -> bool:
            return bool(request.user and request.user.is_authenticated and request.user.has_perm(codename))

    return Permitted

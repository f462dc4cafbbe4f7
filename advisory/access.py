"""Only advisors (and superusers) use the advisory UI and API; anyone else gets 403.

A refusal a page raises (another advisor's client: not found) becomes an error page.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy
from rest_framework.permissions import BasePermission

from assistant.core.access import role_required
from assistant.core.roles import ADVISOR, user_has_role

advisor_required = role_required(
    ADVISOR, refusal=gettext_lazy("the advisory pages are for advisors"), error_template="advisory/error.html"
)


class IsAdvisor(BasePermission):
    message = "the advisory API is for advisors"

    def has_permission(self, request: Any, view: Any) -> bool:
        return user_has_role(request.user, ADVISOR)

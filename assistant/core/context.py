"""What every page of the site's shell needs: the sections the person may use, and the current one."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from assistant.core.sections import sections_for


def sections(request: HttpRequest) -> dict[str, Any]:
    match = request.resolver_match
    return {
        "sections": SimpleLazyObject(lambda: sections_for(request.user)),
        "section": match.namespace if match else "",
    }

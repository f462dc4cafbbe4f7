"""What every page of the site's shell needs: the sections the person may use, and the current one."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from assistant.core.sections import Section, sections_for


def _current(path: str, usable: list[Section]) -> str:
    """The section whose address is the longest start of `path` ("" for none)."""
    matching = [section for section in usable if path.startswith(section.url)]
    return max(matching, key=lambda section: len(section.url)).key if matching else ""


def sections(request: HttpRequest) -> dict[str, Any]:
    usable = SimpleLazyObject(lambda: sections_for(request.user))
    return {"sections": usable, "section": SimpleLazyObject(lambda: _current(request.path, list(usable)))}

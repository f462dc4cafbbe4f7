"""An answer's text as HTML, with the numbers the grounding check did not find marked."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe


def marked_html(
    text: str, ungrounded: Sequence[dict[str, Any]], *, plain: Callable[[str], str] = escape
) -> SafeString:
    """`plain` renders (and must escape) the stretches between marked numbers."""
    parts: list[str] = []
    position = 0
    for mark in sorted(ungrounded, key=lambda u: int(u["start"])):
        start, end = int(mark["start"]), int(mark["end"])
        parts.append(plain(text[position:start]))
        parts.append(
            format_html(
                '<mark class="ungrounded" title="not found in the cited text">{}</mark>', text[start:end]
            )
        )
        position = end
    parts.append(plain(text[position:]))
    return mark_safe("".join(parts))

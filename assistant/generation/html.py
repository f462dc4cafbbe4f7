"""An answer's text as HTML, with what the grounding check questions marked."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe


def marked_html(
    text: str, ungrounded: Sequence[dict[str, Any]], *, plain: Callable[[str], str] = escape
) -> SafeString:
    """`plain` renders (and must escape) the text, marked or not; a mark's title is its reason."""
    parts: list[str] = []
    position = 0
    for mark in sorted(ungrounded, key=lambda u: int(u["start"])):
        start, end = int(mark["start"]), int(mark["end"])
        parts.append(plain(text[position:start]))
        parts.append(
            format_html(
                '<mark class="ungrounded" title="{}">{}</mark>',
                mark.get("reason", "not found in the cited text"),
                mark_safe(plain(text[start:end])),
            )
        )
        position = end
    parts.append(plain(text[position:]))
    return mark_safe("".join(parts))

from __future__ import annotations

import re

from django import template
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from advisory.models import Answer, Keyword
from assistant.generation.html import marked_html

register = template.Library()

_CITATION = re.compile(r"\[(\d+)\]")


@register.filter
def answer_html(answer: Answer) -> SafeString:
    """The answer's text with numbered citations as links and ungrounded numbers marked."""
    html = marked_html(answer.text, answer.ungrounded, plain=lambda text: _linked(answer, text))
    return mark_safe(html.replace("\n\n", "<br><br>"))


def _linked(answer: Answer, text: str) -> str:
    def link(match: re.Match[str]) -> str:
        url = reverse("advisory:citation", args=[answer.pk, int(match.group(1))])
        return (
            f'<a class="cite" href="{url}" hx-get="{url}" hx-target="#passage" '
            f'hx-swap="innerHTML">[{match.group(1)}]</a>'
        )

    return _CITATION.sub(link, escape(text))


@register.filter
def highlighted(letter_text: str, keywords: list[Keyword]) -> SafeString:
    """A letter with its keyword spans marked by category."""
    parts: list[str] = []
    position = 0
    for keyword in sorted(keywords, key=lambda k: k.start):
        if keyword.start < position:
            continue
        parts.append(escape(letter_text[position : keyword.start]))
        parts.append(
            format_html(
                '<mark class="kw kw-{}" title="{}">{}</mark>',
                keyword.category,
                gettext(keyword.get_category_display()),
                letter_text[keyword.start : keyword.end],
            )
        )
        position = keyword.end
    parts.append(escape(letter_text[position:]))
    return mark_safe("".join(parts))

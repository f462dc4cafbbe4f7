"""Who is chatting, from a request: a signed-in user, else the browser's session (made if new)."""

from __future__ import annotations

from django.http import HttpRequest

from assistant.chat.selectors import ChatCustomer


def customer_of(request: HttpRequest) -> ChatCustomer:
    if request.user.is_authenticated:
        return ChatCustomer(user_id=request.user.pk, session_key=None)
    if not request.session.session_key:
        request.session.create()
    return ChatCustomer(user_id=None, session_key=request.session.session_key)

"""The chat page (htmx, streamed replies) and the staff page of chat statistics."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from assistant.chat import charts, selectors, services
from assistant.chat.models import Conversation, Message
from assistant.chat.web import customer_of
from assistant.core.errors import ApplicationError, NotFound
from assistant.core.streaming import streamed_reply
from assistant.core.throttle import chat_start_allowed

SESSION_KEY = "chat_conversation"


def _conversation(request: HttpRequest) -> Conversation:
    customer = customer_of(request)
    public_id = request.session.get(SESSION_KEY)
    if public_id:
        try:
            return selectors.conversation_get(customer=customer, public_id=public_id)
        except NotFound:
            pass
    chat_start_allowed(request)
    conversation = services.conversation_start(customer=customer)
    request.session[SESSION_KEY] = str(conversation.public_id)
    return conversation


@require_GET
def chat(request: HttpRequest) -> HttpResponse:
    conversation = _conversation(request)
    return render(
        request,
        "chat/chat.html",
        {"conversation": conversation, "messages": selectors.conversation_messages(conversation)},
    )


@require_POST
def chat_new(request: HttpRequest) -> HttpResponse:
    request.session.pop(SESSION_KEY, None)
    _conversation(request)
    return redirect("chat:chat")


def _bubble(request: HttpRequest, message: Message) -> str:
    return render_to_string("chat/_message.html", {"message": message}, request=request)


@require_POST
def message_create(request: HttpRequest) -> HttpResponseBase:
    """Streams the reply as JSON lines: the customer's bubble, text pieces, the reply's bubble."""
    conversation = _conversation(request)
    try:
        replying = services.turn_start(
            conversation=conversation,
            text=request.POST.get("text", ""),
            intent=request.POST.get("intent") or None,
        )
    except ApplicationError as error:
        return JsonResponse({"errors": {error.field or "text": [error.message]}}, status=error.status)

    return streamed_reply(
        replying.stream(),
        html=_bubble(request, replying.asked),
        finished_html=lambda: _bubble(request, replying.message),
    )


@require_POST
def message_feedback(request: HttpRequest, message_id: int) -> HttpResponse:
    try:
        message = selectors.turn_get(customer=customer_of(request), message_id=message_id)
        services.turn_feedback(
            message=message,
            rating=request.POST.get("rating"),
            comment=request.POST.get("comment", ""),
        )
    except ApplicationError as error:
        return HttpResponse(error.message, status=error.status)
    return render(request, "chat/_feedback.html", {"message": message})


@require_GET
@login_required
@permission_required("chat.view_ticket", raise_exception=True)
def staff(request: HttpRequest) -> HttpResponse:
    stats = selectors.chat_stats()
    context = {
        "stats": stats,
        "intents_chart": charts.intents_svg(stats.intents, title=_("Assistant turns by intent")),
        "handoffs_chart": charts.intents_svg(stats.handoffs, title=_("Handoffs by intent")),
        "days_chart": charts.turns_by_day_svg(stats.days),
        "min_days": charts.MIN_DAYS,
    }
    return render(request, "chat/staff.html", context)

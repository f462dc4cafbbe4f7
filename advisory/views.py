"""The advisor's web UI: clients, a streamed answer with citations, feedback and history."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from advisory import selectors, services
from advisory.access import advisor_required
from advisory.exports import client_export_data
from advisory.models import Answer, Client, Holding
from assistant.core.access import signed_in
from assistant.core.charts import bars_svg
from assistant.core.errors import ApplicationError
from assistant.core.streaming import streamed_reply


def _ask_context(request: HttpRequest, client: Client | None) -> dict[str, object]:
    readable = selectors.collection_names(advisor=signed_in(request))
    defaults = services.knowledge_collections(advisor=signed_in(request), requested=None)
    return {
        "client": client,
        "collections": [(name, name in defaults) for name in readable],
        "history": selectors.answer_list(advisor=signed_in(request), client=client)[:20],
        "scopes": Answer.Scope.choices
        if client
        else [(Answer.Scope.KNOWLEDGE, Answer.Scope.KNOWLEDGE.label)],
    }


@advisor_required
@require_GET
def client_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "advisory/clients.html", {"clients": selectors.client_list(advisor=signed_in(request))}
    )


@advisor_required
@require_GET
def client_detail(request: HttpRequest, client_id: int) -> HttpResponse:
    client = selectors.client_get(advisor=signed_in(request), client_id=client_id)
    letters = selectors.client_letters(client)
    holdings = list(client.holdings.all())
    return render(
        request,
        "advisory/client.html",
        {
            **_ask_context(request, client),
            "holdings": holdings,
            "allocation": _allocation_chart(selectors.holdings_allocation(holdings), holdings),
            "letters": letters,
        },
    )


def _allocation_chart(allocation: list[selectors.AssetShare], holdings: list[Holding]) -> str:
    if not allocation:
        return ""
    currency = holdings[0].currency
    labels = {label.lower(): label for label in Holding.AssetClass.labels}
    bars = [
        (
            capfirst(_(labels.get(a.asset_class, a.asset_class))),
            a.share * 100,
            f"{a.share:.0%} · {currency} {a.value:,.0f}",
        )
        for a in allocation
    ]
    return mark_safe(bars_svg(bars, title=_("Allocation by asset class (share of the total)"), log=False))


@advisor_required
@require_GET
def client_export(request: HttpRequest, client_id: int) -> HttpResponse:
    client = selectors.client_get(advisor=signed_in(request), client_id=client_id)
    response = JsonResponse(client_export_data(client), json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="client-{client.pk}.json"'
    return response


@advisor_required
@require_GET
def ask(request: HttpRequest) -> HttpResponse:
    return render(request, "advisory/ask.html", _ask_context(request, None))


@advisor_required
@require_POST
def answer_create(request: HttpRequest) -> HttpResponseBase:
    """Streams the answer as JSON lines: text pieces, then the finished answer's HTML."""
    try:
        asking = services.answer_start(
            advisor=signed_in(request),
            question=request.POST.get("question", ""),
            scope=request.POST.get("scope", ""),
            client_id=request.POST.get("client") or None,
            collections=request.POST.getlist("collections") or None,
        )
    except ApplicationError as error:
        return JsonResponse({"errors": {error.field or "question": [error.message]}}, status=error.status)

    return streamed_reply(
        asking.stream(), answer=asking.answer.pk, finished_html=lambda: _card(request, asking.answer)
    )


def _card(request: HttpRequest, answer: Answer) -> str:
    return render_to_string("advisory/_answer.html", {"answer": answer}, request=request)


@advisor_required
@require_GET
def answer_detail(request: HttpRequest, answer_id: int) -> HttpResponse:
    answer = selectors.answer_get(advisor=signed_in(request), answer_id=answer_id)
    return render(request, "advisory/answer.html", {"answer": answer})


@advisor_required
@require_POST
def answer_feedback(request: HttpRequest, answer_id: int) -> HttpResponse:
    try:
        answer = selectors.answer_get(advisor=signed_in(request), answer_id=answer_id)
        services.answer_feedback(
            answer=answer, rating=request.POST.get("rating"), comment=request.POST.get("comment", "")
        )
    except ApplicationError as error:
        return HttpResponse(error.message, status=error.status)
    return render(request, "advisory/_feedback.html", {"answer": answer})


@advisor_required
@require_GET
def citation_detail(request: HttpRequest, answer_id: int, number: int) -> HttpResponse:
    answer = selectors.answer_get(advisor=signed_in(request), answer_id=answer_id)
    citation = selectors.citation_get(answer=answer, number=number)
    template = "advisory/_citation.html" if request.headers.get("HX-Request") else "advisory/citation.html"
    return render(request, template, {"answer": answer, "citation": citation})

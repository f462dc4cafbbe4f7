"""The chat desk: the statistics page's charts and the replies a ticket's page lists."""

import re
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse
from django.utils import timezone

from assistant.chat.charts import intent_name, turns_by_day_svg
from assistant.chat.models import Conversation, Message, Ticket
from assistant.chat.selectors import DayCounts, chat_stats
from assistant.core import roles


def test_statistics_count_intents_handoffs_and_days(chat_history):
    stats = chat_stats()

    assert stats.intents == [
        ("card_arrival", 3),
        ("exchange_rate", 3),
        ("balance_not_updated_after_cheque_or_cash_deposit", 1),
    ]
    assert stats.handoffs == [("card_arrival", 3)]
    assert [(day.turns, day.handoffs) for day in stats.days] == [(4, 1), (0, 0), (4, 2)]
    assert stats.days[-1].day == timezone.localdate()


def test_intents_are_named_in_words_short_enough_for_a_bar():
    assert intent_name("card_arrival") == "Card arrival"
    assert intent_name("balance_not_updated_after_cheque_or_cash_deposit") == "Balance not updated…"
    assert intent_name("") == "(no intent)"


def test_the_chart_by_day_names_each_day_once_and_needs_two_days():
    days = [DayCounts(date(2026, 12, 4) + timedelta(days=i), turns=i + 1, handoffs=0) for i in range(3)]

    svg = turns_by_day_svg(days)

    assert [svg.count(f">{day} Dec</text>") for day in (4, 5, 6)] == [1, 1, 1]
    assert turns_by_day_svg(days[:1]) == ""


def test_the_staff_page_charts_intents_in_words_and_turns_by_day(client, sam, chat_history):
    client.force_login(sam)

    page = client.get(reverse("chat:staff")).content.decode()

    intents = re.search(r'<figure class="chart" id="intents-chart">(.*?)</figure>', page, re.S)
    handoffs = re.search(r'<figure class="chart" id="handoffs-chart">(.*?)</figure>', page, re.S)
    days = re.search(r'<figure class="chart" id="days-chart">(.*?)</figure>', page, re.S)
    assert intents
    assert handoffs
    assert days
    assert "<svg" in intents.group(1)
    assert ">Card arrival</text>" in intents.group(1)
    assert ">Exchange rate</text>" in intents.group(1)
    assert "<title>Card arrival: 3</title>" in handoffs.group(1)
    assert "Exchange rate" not in handoffs.group(1)
    assert "<polyline" in days.group(1)
    assert ">handed off</text>" in days.group(1)
    assert "card_arrival" not in page
    assert "exchange_rate" not in page


def test_with_turns_on_one_day_the_page_says_when_the_chart_by_day_comes(client, sam, chat_history):
    Message.objects.update(created_at=timezone.now())
    client.force_login(sam)

    page = client.get(reverse("chat:staff")).content.decode()

    assert 'id="days-chart"' not in page
    assert "once the assistant has had turns on 2 days" in page
    assert 'id="intents-chart"' in page


def test_with_no_turns_the_staff_page_says_so(client, sam):
    client.force_login(sam)

    page = client.get(reverse("chat:staff")).content.decode()

    assert "<svg" not in page
    assert "No turns yet." in page
    assert "No handoffs yet." in page


def test_turns_marked_not_helpful_name_their_intent_in_words(client, sam, chat_history):
    Message.objects.filter(kind=Message.Kind.HANDOFF).update(rating=-1, feedback="slow")
    client.force_login(sam)

    page = client.get(reverse("chat:staff")).content.decode()

    assert "<td>Card arrival</td>" in page


@pytest.fixture
def ticket(db) -> Ticket:
    conversation = Conversation.objects.create(session_key="customer")
    Message.objects.create(conversation=conversation, role=Message.Role.CUSTOMER, text="Where is my card?")
    handoff = Message.objects.create(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        kind=Message.Kind.HANDOFF,
        intent="card_arrival",
        text="A colleague will look at your account.",
    )
    return Ticket.objects.create(
        conversation=conversation,
        message=handoff,
        intent="card_arrival",
        transcript="Customer: Where is my card?",
    )


def _reply(client, ticket: Ticket, text: str):
    return client.post(
        reverse("admin:chat_ticket_change", args=[ticket.pk]),
        {"status": ticket.status, "assignee": "", "reply": text},
    )


def test_the_ticket_page_lists_the_replies_sent_who_when_and_what_in_order(client, sam, ticket):
    tess = User.objects.create_user("tess", password="pw", is_staff=True, first_name="Tess", last_name="Ng")
    Group.objects.get(name=roles.SUPPORT_AGENT).user_set.add(tess)
    client.force_login(sam)
    assert _reply(client, ticket, "Your card was posted on Monday.").status_code == 302
    client.force_login(tess)
    assert _reply(client, ticket, "It arrives tomorrow, by courier.").status_code == 302

    page = client.get(reverse("admin:chat_ticket_change", args=[ticket.pk])).content.decode()

    replies = re.search(r'<ol class="ticket-replies">(.*?)</ol>', page, re.S)
    assert replies
    items = re.findall(r"<li><strong>(.*?)</strong>, (.*?)<br>(.*?)</li>", replies.group(1), re.S)
    assert [(who, text) for who, _, text in items] == [
        ("sam", "Your card was posted on Monday."),
        ("Tess Ng", "It arrives tomorrow, by courier."),
    ]
    assert all(when for _, when, _ in items)
    authors = Message.objects.filter(role=Message.Role.STAFF).values_list("author__username", flat=True)
    assert list(authors) == ["sam", "tess"]


def test_a_ticket_with_no_replies_says_so(client, sam, ticket):
    client.force_login(sam)

    page = client.get(reverse("admin:chat_ticket_change", args=[ticket.pk])).content.decode()

    assert "Replies sent" in page
    assert "none yet" in page


def test_a_reply_is_escaped_on_the_ticket_page(client, sam, ticket):
    client.force_login(sam)
    _reply(client, ticket, "<script>alert(1)</script>")

    page = client.get(reverse("admin:chat_ticket_change", args=[ticket.pk])).content.decode()

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)</script>" not in page

import json

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from assistant.chat.models import Message, Ticket
from assistant.core import roles


def _events(response) -> list[dict]:
    return [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]


class TestPage:
    def test_an_anonymous_customer_chats_and_the_reply_streams_in(self, client, intent_model, faq):
        intent_model(0.0)
        assert client.get(reverse("chat:chat")).status_code == 200
        response = client.post(reverse("chat:message-create"), {"text": "What exchange rate do you use?"})
        assert response["Content-Type"] == "application/x-ndjson"
        events = _events(response)
        assert events[0]["event"] == "start"
        assert "What exchange rate do you use?" in events[0]["html"]
        assert events[-1]["event"] == "done"
        assert "Sources" in events[-1]["html"]
        assert "network rate of the day" in "".join(e.get("text", "") for e in events)
        page = client.get(reverse("chat:chat")).content.decode()
        assert "network rate of the day" in page

    def test_a_clarifying_question_offers_buttons_that_choose_the_intent(self, client, intent_model, faq):
        intent_model(1.01)
        events = _events(
            client.post(reverse("chat:message-create"), {"text": "My new card still has not arrived"})
        )
        html = events[-1]["html"]
        assert 'name="intent" value="card_arrival"' in html
        chosen = _events(
            client.post(reverse("chat:message-create"), {"text": "Card arrival", "intent": "card_arrival"})
        )
        assert "ticket" in chosen[-1]["html"]

    @pytest.mark.parametrize(("text", "message"), [("", "empty"), ("x" * 1001, "limit is 1000")])
    def test_bad_messages_are_a_400_naming_the_field(self, client, db, text, message):
        response = client.post(reverse("chat:message-create"), {"text": text})
        assert response.status_code == 400
        assert message in response.json()["errors"]["text"][0]

    def test_feedback_is_recorded(self, client, intent_model, faq):
        intent_model(0.0)
        _events(client.post(reverse("chat:message-create"), {"text": "What exchange rate do you use?"}))
        reply = Message.objects.get(role=Message.Role.ASSISTANT)
        response = client.post(reverse("chat:message-feedback", args=[reply.pk]), {"rating": "-1"})
        assert "Thanks" in response.content.decode()
        reply.refresh_from_db()
        assert reply.rating == -1

    def test_another_customer_cannot_rate_a_reply(self, client, intent_model, faq):
        intent_model(0.0)
        _events(client.post(reverse("chat:message-create"), {"text": "What exchange rate do you use?"}))
        reply = Message.objects.get(role=Message.Role.ASSISTANT)
        client.cookies.clear()
        assert (
            client.post(reverse("chat:message-feedback", args=[reply.pk]), {"rating": "1"}).status_code == 404
        )

    def test_a_colleagues_reply_on_the_ticket_reaches_the_customers_chat(self, client, intent_model, faq):
        intent_model(0.0)
        _events(client.post(reverse("chat:message-create"), {"text": "My new card still has not arrived"}))
        ticket = Ticket.objects.get()
        sam = User.objects.create_user("sam", password="pw", is_staff=True)
        Group.objects.get(name=roles.SUPPORT_AGENT).user_set.add(sam)
        staff = Client()
        staff.force_login(sam)
        response = staff.post(
            reverse("admin:chat_ticket_change", args=[ticket.pk]),
            {
                "status": "open",
                "assignee": "",
                "reply": "Your card was posted on Monday; it arrives tomorrow.",
            },
        )
        assert response.status_code == 302
        ticket.refresh_from_db()
        assert (ticket.status, ticket.assignee) == (Ticket.Status.IN_PROGRESS, sam)
        page = client.get(reverse("chat:chat")).content.decode()
        assert "Your card was posted on Monday" in page
        assert 'class="bubble staff' in page

    def test_the_staff_page_needs_the_chat_permission(self, client, db):
        assert client.get(reverse("chat:staff")).status_code in (302, 403)
        sam = User.objects.create_user("sam", password="pw", is_staff=True)
        Group.objects.get(name=roles.SUPPORT_AGENT).user_set.add(sam)
        client.force_login(sam)
        page = client.get(reverse("chat:staff"))
        assert page.status_code == 200
        assert "handed off" in page.content.decode()


class TestApi:
    def _conversation(self, api: APIClient) -> str:
        response = api.post("/api/chat/")
        assert response.status_code == 201
        return response.json()["conversation"]

    def test_answer(self, intent_model, faq):
        intent_model(0.0)
        api = APIClient()
        conversation = self._conversation(api)
        response = api.post(
            f"/api/chat/{conversation}/messages", {"text": "What exchange rate do you use?"}, format="json"
        )
        assert response.status_code == 201
        reply = response.json()["reply"]
        assert reply["kind"] == "answer"
        assert reply["intent"] == "exchange_rate"
        assert reply["citations"][0]["external_id"] == "faq-exchange"
        assert reply["model_version"] is not None
        assert [m["role"] for m in api.get(f"/api/chat/{conversation}/").json()["messages"]] == [
            "customer",
            "assistant",
        ]

    def test_handoff(self, intent_model, faq):
        intent_model(0.0)
        api = APIClient()
        conversation = self._conversation(api)
        response = api.post(
            f"/api/chat/{conversation}/messages", {"text": "My new card still has not arrived"}, format="json"
        )
        reply = response.json()["reply"]
        assert reply["kind"] == "handoff"
        assert reply["ticket"] == Ticket.objects.get().pk

    def test_clarify(self, intent_model, faq):
        intent_model(1.01)
        api = APIClient()
        conversation = self._conversation(api)
        reply = api.post(
            f"/api/chat/{conversation}/messages", {"text": "My new card still has not arrived"}, format="json"
        ).json()["reply"]
        assert reply["kind"] == "clarify"
        assert reply["options"][0]["intent"] == "card_arrival"
        chosen = api.post(
            f"/api/chat/{conversation}/messages",
            {"text": "Card arrival", "intent": "card_arrival"},
            format="json",
        ).json()["reply"]
        assert chosen["kind"] == "handoff"
        assert chosen["chosen"] is True

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ({"text": ""}, "empty"),
            ({"text": "x" * 1001}, "limit is 1000"),
            ({"text": 12}, "must be text"),
            ({"text": {"a": 1}}, "must be text"),
            ({}, "required"),
        ],
    )
    def test_bad_messages_are_a_400_naming_the_field(self, db, body, message):
        api = APIClient()
        conversation = self._conversation(api)
        response = api.post(f"/api/chat/{conversation}/messages", body, format="json")
        assert response.status_code == 400
        assert message in response.json()["text"][0]

    def test_a_customer_never_sees_another_customers_conversation(self, intent_model, faq):
        intent_model(0.0)
        anna, ben = APIClient(), APIClient()
        conversation = self._conversation(anna)
        anna.post(
            f"/api/chat/{conversation}/messages", {"text": "What exchange rate do you use?"}, format="json"
        )
        assert ben.get(f"/api/chat/{conversation}/").status_code == 404
        said = ben.post(f"/api/chat/{conversation}/messages", {"text": "hello"}, format="json")
        assert said.status_code == 404
        reply = Message.objects.get(role=Message.Role.ASSISTANT)
        assert (
            ben.post(f"/api/chat/messages/{reply.pk}/feedback", {"rating": 1}, format="json").status_code
            == 404
        )
        assert (
            anna.post(f"/api/chat/messages/{reply.pk}/feedback", {"rating": 1}, format="json").status_code
            == 200
        )

    def test_a_signed_in_user_keeps_conversations_across_sessions(self, db, django_user_model):
        user = django_user_model.objects.create_user("carla")
        first, second = APIClient(), APIClient()
        first.force_authenticate(user)
        second.force_authenticate(user)
        conversation = self._conversation(first)
        assert second.get(f"/api/chat/{conversation}/").status_code == 200

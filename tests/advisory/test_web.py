import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from advisory import selectors
from advisory.models import Answer, Holding


def _events(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    return [json.loads(line) for line in body.splitlines()]


@pytest.fixture
def alice(client, advisors):
    client.force_login(advisors["alice"])
    return client


@pytest.fixture
def api(advisors) -> APIClient:
    api = APIClient()
    api.force_authenticate(advisors["alice"])
    return api


class TestPages:
    def test_pages_need_a_login(self, client, clients):
        response = client.get(reverse("advisory:clients"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_the_login_page_signs_an_advisor_in(self, client, advisors):
        response = client.post(reverse("login"), {"username": "alice", "password": "pw"}, follow=True)
        assert response.redirect_chain == [(reverse("landing"), 302), (reverse("advisory:clients"), 302)]
        assert response.status_code == 200

    def test_people_without_the_advisor_role_are_refused(self, client, advisors, clients):
        client.force_login(advisors["eve"])
        assert client.get(reverse("advisory:clients")).status_code == 403
        assert client.get(reverse("advisory:ask")).status_code == 403
        api = APIClient()
        api.force_authenticate(advisors["eve"])
        assert api.get("/api/advisory/clients/").status_code == 403

    def test_the_client_page_draws_the_allocation_by_asset_class(self, alice, clients):
        Holding.objects.create(
            client=clients["maria"], instrument="World equity", asset_class="equity", value=60000
        )
        allocation = selectors.holdings_allocation(clients["maria"].holdings.all())
        page = alice.get(reverse("advisory:client", args=[clients["maria"].pk])).content.decode()

        assert [(a.asset_class, round(a.share, 2)) for a in allocation] == [("bond", 0.7), ("equity", 0.3)]
        assert 'aria-label="Allocation by asset class (share of the total)"' in page
        assert "70% · EUR 140,000" in page

    def test_an_advisor_sees_only_their_own_clients(self, alice, clients):
        page = alice.get(reverse("advisory:clients")).content.decode()
        assert "Maria Keller" in page
        assert "Priya Raman" not in page

    def test_the_client_page_shows_profile_holdings_letters_and_keywords(self, alice, clients):
        page = alice.get(reverse("advisory:client", args=[clients["maria"].pk])).content.decode()
        for expected in (
            "Maria Keller",
            "Short Duration Bond Fund",
            "retire at 62",
            'class="kw kw-goal"',
            "Risk tolerance",
        ):
            assert expected in page

    def test_advisor_cannot_see_or_export_another_advisors_client(self, alice, clients):
        priya = clients["priya"].pk
        assert alice.get(reverse("advisory:client", args=[priya])).status_code == 404
        assert alice.get(reverse("advisory:client-export", args=[priya])).status_code == 404

    def test_an_advisor_exports_their_own_client(self, alice, clients):
        response = alice.get(reverse("advisory:client-export", args=[clients["maria"].pk]))
        assert response.status_code == 200
        assert "attachment" in response["Content-Disposition"]
        data = json.loads(response.content)
        assert data["reference"] == "ADV-1"
        assert data["letters"][0]["keywords"]


class TestAsking:
    def test_the_answer_streams_in_and_ends_with_its_card(self, alice, clients, knowledge):
        response = alice.post(
            reverse("advisory:answer-create"),
            {
                "question": "Is the bond fund suitable for her?",
                "scope": "both",
                "client": clients["maria"].pk,
            },
        )
        assert response.status_code == 200
        assert response["Content-Type"] == "application/x-ndjson"
        events = _events(response)
        assert events[0]["event"] == "start"
        assert [e["event"] for e in events[1:-1]] == ["text"] * (len(events) - 2)
        assert events[-1]["event"] == "done"
        answer = Answer.objects.get(pk=events[0]["answer"])
        assert "".join(e["text"] for e in events[1:-1]).strip() == answer.text
        card = events[-1]["html"]
        assert 'class="cite"' in card
        assert "risk_tolerance" in card
        assert "retrieve" in card

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"question": "", "scope": "knowledge"}, "question"),
            ({"question": "x" * 2001, "scope": "knowledge"}, "question"),
            ({"question": "What?", "scope": "nonsense"}, "scope"),
            ({"question": "What?", "scope": "client", "client": "abc"}, "client"),
        ],
    )
    def test_bad_input_is_a_400_naming_the_field(self, alice, knowledge, data, field):
        response = alice.post(reverse("advisory:answer-create"), data)
        assert response.status_code == 400
        assert field in response.json()["errors"]

    def test_asking_about_another_advisors_client_is_a_404(self, alice, clients, knowledge):
        response = alice.post(
            reverse("advisory:answer-create"),
            {"question": "How much risk?", "scope": "client", "client": clients["priya"].pk},
        )
        assert response.status_code == 404
        assert not Answer.objects.exists()

    def test_a_down_generation_server_ends_the_stream_with_an_error_card(self, alice, knowledge, settings):
        settings.GENERATION_BACKEND = "openai"
        settings.OPENAI_BASE_URL = "http://127.0.0.1:9/v1"
        settings.OPENAI_MODEL = "tiny-chat"
        settings.GENERATION_RETRIES = 0
        response = alice.post(
            reverse("advisory:answer-create"), {"question": "Charge?", "scope": "knowledge"}
        )
        events = _events(response)
        assert events[-1]["event"] == "error"
        assert "not answering" in events[-1]["message"]
        assert "not answering" in events[-1]["html"]

    def test_citations_feedback_and_history(self, alice, advisors, knowledge):
        events = _events(
            alice.post(
                reverse("advisory:answer-create"),
                {"question": "What is the ongoing charge?", "scope": "knowledge"},
            )
        )
        answer = Answer.objects.get(pk=events[0]["answer"])
        passage = alice.get(reverse("advisory:citation", args=[answer.pk, 1]), HTTP_HX_REQUEST="true")
        assert passage.status_code == 200
        assert "0.25%" in passage.content.decode()
        assert alice.get(reverse("advisory:citation", args=[answer.pk, 99])).status_code == 404

        feedback = alice.post(
            reverse("advisory:answer-feedback", args=[answer.pk]), {"rating": "1", "comment": "clear"}
        )
        assert "Thank you" in feedback.content.decode()
        assert (
            alice.post(reverse("advisory:answer-feedback", args=[answer.pk]), {"rating": "x"}).status_code
            == 400
        )

        history = alice.get(reverse("advisory:ask")).content.decode()
        assert "What is the ongoing charge?" in history
        assert alice.get(reverse("advisory:answer", args=[answer.pk])).status_code == 200

    def test_another_advisors_answers_are_not_found(self, client, advisors, knowledge):
        client.force_login(advisors["alice"])
        events = _events(
            client.post(reverse("advisory:answer-create"), {"question": "Charge?", "scope": "knowledge"})
        )
        client.force_login(advisors["bob"])
        answer = events[0]["answer"]
        assert client.get(reverse("advisory:answer", args=[answer])).status_code == 404
        assert client.get(reverse("advisory:citation", args=[answer, 1])).status_code == 404
        assert (
            client.post(reverse("advisory:answer-feedback", args=[answer]), {"rating": "1"}).status_code
            == 404
        )


class TestApi:
    def test_clients_are_the_callers_own(self, api, clients):
        assert [c["reference"] for c in api.get("/api/advisory/clients/").json()] == ["ADV-1"]
        detail = api.get(f"/api/advisory/clients/{clients['maria'].pk}/").json()
        assert detail["holdings"][0]["instrument"] == "Short Duration Bond Fund"
        assert "account_number" not in detail["holdings"][0]

    def test_advisor_cannot_read_ask_about_or_export_another_advisors_client(self, api, clients, knowledge):
        priya = clients["priya"].pk
        assert api.get(f"/api/advisory/clients/{priya}/").status_code == 404
        assert api.get(f"/api/advisory/clients/{priya}/export").status_code == 404
        asked = api.post(
            "/api/advisory/answers/", {"question": "Risk?", "scope": "client", "client": priya}, format="json"
        )
        assert asked.status_code == 404
        assert asked.json() == {"client": ["no such client"]}

    def test_an_answer_comes_back_with_citations(self, api, clients, knowledge):
        response = api.post(
            "/api/advisory/answers/",
            {
                "question": "How much risk can she take with the bond fund?",
                "scope": "both",
                "client": clients["maria"].pk,
            },
            format="json",
        )
        assert response.status_code == 201
        body = response.json()
        assert body["status"] == "complete"
        assert "risk_tolerance" in body["fields_used"]
        assert body["citations"][0]["number"] == 1
        assert any(c["collection"] == "products" and c["version"] == 1 for c in body["citations"])
        assert api.get(f"/api/advisory/answers/{body['id']}/").json()["question"] == body["question"]
        rated = api.post(f"/api/advisory/answers/{body['id']}/feedback", {"rating": 1}, format="json")
        assert rated.json()["rating"] == 1

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"scope": "knowledge"}, "question"),
            ({"question": "x" * 2001, "scope": "knowledge"}, "question"),
            ({"question": "What?", "scope": "all"}, "scope"),
            ({"question": "What?", "scope": "client"}, "client"),
            ({"question": "What?", "scope": "knowledge", "collections": ["secret"]}, "collections"),
        ],
    )
    def test_bad_input_is_a_400_naming_the_field(self, api, knowledge, body, field):
        response = api.post("/api/advisory/answers/", body, format="json")
        assert response.status_code == 400
        assert field in response.json()

    def test_it_needs_credentials(self, clients):
        assert APIClient().get("/api/advisory/clients/").status_code == 401

    def test_it_is_in_the_openapi_schema(self, api):
        schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
        assert "/api/advisory/answers/" in schema["paths"]
        assert "/api/advisory/clients/{client_id}/export" in schema["paths"]


def test_a_letter_added_in_the_admin_is_embedded_and_its_keywords_extracted(admin_client, clients):
    maria = clients["maria"]
    response = admin_client.post(
        reverse("admin:advisory_letter_add"),
        {
            "client": maria.pk,
            "written_on": "2026-10-01",
            "author": "client",
            "text": "We got married and want to buy a house.",
            "keywords-TOTAL_FORMS": "0",
            "keywords-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    letter = maria.letters.get(written_on="2026-10-01")
    assert letter.embedding is not None
    assert {k.category for k in letter.keywords.all()} >= {"life_event", "goal"}
    assert admin_client.get(reverse("admin:advisory_answer_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:advisory_client_change", args=[maria.pk])).status_code == 200

"""Text the database cannot store and JSON too deep to walk get a 400 naming the field, on every
way in (the API's JSON, form posts, query strings), and nothing is stored."""

import json
from datetime import date

import pytest
from django.contrib.auth.models import Group, User

from assistant.chat.models import Message
from assistant.core import roles
from assistant.core.storable import MAX_DEPTH, TooDeep, date_problem, problems

NUL, SURROGATE = "\u0000", "\ud83d"


def test_problems_name_the_place_of_each_bad_text():
    found = problems({"text": f"a{NUL}b", "items": [{"ok": "fine"}, {"name": SURROGATE}], f"k{NUL}": 1})
    assert set(found) == {"text", "items[1].name", "non_field_errors"}
    assert "NUL" in found["text"]
    assert "surrogate" in found["items[1].name"]
    assert problems({"text": "plain", "n": [1, 2.5, None, True]}) == {}
    deep: list = []
    for _ in range(MAX_DEPTH + 1):
        deep = [deep]
    with pytest.raises(TooDeep):
        problems(deep)


def test_dates_outside_the_domains_years_are_named():
    assert date_problem(date(1, 1, 1))
    assert date_problem(date(9999, 12, 31))
    assert date_problem(date(2026, 5, 3)) is None


def api_post(client, path: str, body: str):
    return client.post(path, body, content_type="application/json")


@pytest.mark.parametrize("text", [f"card{NUL}lost", f"{SURROGATE} my card"])
def test_chat_text_that_cannot_be_stored_is_400_for_anyone(client, db, text):
    conversation = client.post("/api/chat/", content_type="application/json").json()["conversation"]

    response = api_post(client, f"/api/chat/{conversation}/messages", json.dumps({"text": text}))

    assert response.status_code == 400
    assert "text" in response.json()
    assert not Message.objects.exists()


def test_json_nested_too_deep_is_400_not_a_crash(client, db):
    User.objects.create_superuser("root", password="pw")
    client.login(username="root", password="pw")
    deep = '{"query": "fees", "metadata": ' + '{"a": ' * 100_000 + "1" + "}" * 100_000 + "}"

    response = api_post(client, "/api/knowledge/search", deep)

    assert response.status_code == 400
    assert "nested" in response.json()["detail"]


@pytest.mark.parametrize("metadata", [{f"fund{NUL}": "x"}, {"fund": f"x{NUL}"}])
def test_search_metadata_that_cannot_be_stored_is_400(client, db, metadata):
    User.objects.create_superuser("root", password="pw")
    client.login(username="root", password="pw")

    response = api_post(client, "/api/knowledge/search", json.dumps({"query": "fees", "metadata": metadata}))

    assert response.status_code == 400
    assert "metadata" in json.dumps(response.json())


@pytest.mark.parametrize(
    ("role", "path", "field"),
    [
        (None, "/chat/messages", "text"),
        (roles.ADVISOR, "/advisory/answers/", "question"),
        (roles.ADVISOR, "/advisory/answers/1/feedback", "comment"),
        (roles.AML_ANALYST, "/aml/cases/1/notes", "note"),
        (roles.AML_ANALYST, "/aml/cases/1/questions", "question"),
    ],
)
def test_a_form_post_with_a_nul_gets_a_page_naming_the_field(client, db, role, path, field):
    if role is not None:
        user = User.objects.create_user("someone", password="pw")
        user.groups.add(Group.objects.get(name=role))
        client.force_login(user)

    response = client.post(path, {field: f"what{NUL}now"})

    assert response.status_code == 400
    assert f"<strong>{field}</strong>" in response.content.decode()
    assert "Nothing was saved" in response.content.decode()


def test_a_query_string_with_a_nul_is_400(client, db):
    assert client.get("/advisory/", {"q": f"a{NUL}"}).status_code == 400
    response = client.get("/api/claims/", {"external_id": f"a{NUL}"})
    assert response.status_code == 400
    assert response.json() == {"external_id": [problems({"x": NUL})["x"]]}


def test_a_body_over_the_limit_is_413_json_for_the_api_and_a_page_elsewhere(client, db, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    conversation = client.post("/api/chat/", content_type="application/json").json()["conversation"]

    response = api_post(client, f"/api/chat/{conversation}/messages", json.dumps({"text": "x" * 5000}))

    assert response.status_code == 413
    assert "2,048 bytes" in response.json()["detail"]
    page = client.post("/chat/messages", {"text": "x" * 5000})
    assert page.status_code == 413
    assert "over the limit" in page.content.decode()
    assert not Message.objects.exists()

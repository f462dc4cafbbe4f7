"""Abuse: sign-in lockout (site and admin), limits on API calls and new chat conversations (each
refusal a 429 with Retry-After), and a Content-Security-Policy on every page."""

import pytest
from django.contrib.auth.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def person() -> User:
    return User.objects.create_superuser("pat", password="right-password")


def sign_in(client, password: str, path: str = "/accounts/login/"):
    return client.post(path, {"username": "pat", "password": password})


def test_too_many_wrong_passwords_lock_the_user_out_even_with_the_right_one(client, person, settings):
    settings.LOGIN_FAILURES = 5
    for _ in range(5):
        assert sign_in(client, "wrong").status_code == 200  # the form again, with its error

    refused = sign_in(client, "right-password")
    admin = sign_in(client, "right-password", "/admin/login/")

    assert refused.status_code == admin.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= settings.LOGIN_LOCKOUT_S
    assert "too many failed sign-ins" in refused.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_success_clears_the_failures_of_the_user_name(client, person, settings):
    settings.LOGIN_FAILURES = 3
    for _ in range(2):
        sign_in(client, "wrong")
    assert sign_in(client, "right-password").status_code == 302
    client.logout()
    for _ in range(2):
        sign_in(client, "wrong")

    assert sign_in(client, "right-password").status_code == 302


def test_api_calls_over_the_rate_get_429_with_retry_after(client, person, settings):
    settings.API_RATE = (3, 60)
    client.force_login(person)
    answers = [client.get("/api/lab/studies").status_code for _ in range(4)]

    assert answers[:3] != [429] * 3
    assert answers[3] == 429
    assert 0 < int(client.get("/api/lab/studies")["Retry-After"]) <= 60


def test_counts_are_shared_in_redis_and_a_cache_that_is_away_lets_requests_through(
    client, person, settings, monkeypatch, caplog
):
    from django.core.cache import caches
    from redis import ConnectionError as RedisConnectionError

    cache = caches["default"]
    assert type(cache).__name__ == "RedisCache"  # REDIS_URL is redis://: atomic counts, no SQL
    settings.API_RATE = (1, 60)
    client.force_login(person)

    def away(*args: object, **kwargs: object) -> None:
        raise RedisConnectionError("Connection refused")

    monkeypatch.setattr(cache, "add", away)
    monkeypatch.setattr(cache, "get", away)
    answers = [client.get("/api/lab/studies").status_code for _ in range(3)]

    assert answers == [200, 200, 200]
    assert "not counted: the cache is unavailable" in caplog.text


def test_new_anonymous_conversations_are_limited_per_address(client, settings):
    settings.CHAT_START_RATE = (2, 60)
    made = [client.post("/api/chat/", content_type="application/json") for _ in range(3)]

    assert [r.status_code for r in made] == [201, 201, 429]
    assert "Retry-After" in made[2]
    client.cookies.clear()
    assert client.get("/chat/").status_code == 429  # the page starts one too, for a new visitor


def test_every_page_says_it_loads_only_from_this_site(client, person):
    client.force_login(person)
    for path in ("/", "/accounts/login/", "/advisory/", "/lab/", "/admin/", "/api/docs/"):
        policy = client.get(path)["Content-Security-Policy"]
        assert "default-src 'self'" in policy
        assert "script-src 'self'" in policy
    docs = client.get("/api/docs/").content.decode()
    assert "<script>" not in docs  # the API docs' start-up script is served from the site too

"""Personal API tokens: shown once, stored as a hash, revocable; tokens from before hashing work."""

import hashlib

import pytest
from django.contrib.auth.models import User

from assistant.integrations.keys import token_issue, tokens_revoke
from assistant.integrations.models import PersonalToken

pytestmark = pytest.mark.django_db


def schema(client, token: str):
    return client.get("/api/schema/", headers={"Authorization": f"Token {token}"})


def test_a_token_is_stored_only_as_a_hash_and_opens_the_api_until_revoked(client):
    person = User.objects.create_user("pat")
    text = token_issue(person)

    stored = PersonalToken.objects.get()
    assert text.startswith("ft_")
    assert text not in str(PersonalToken.objects.values().get())
    assert stored.secret_hash == hashlib.sha256(text.encode()).hexdigest()
    assert schema(client, text).status_code == 200
    assert schema(client, text[:-1] + "x").status_code == 401
    tokens_revoke(person)
    refused = schema(client, text)
    assert refused.status_code == 401
    assert b"this token has been revoked" in refused.content


def test_a_token_from_before_hashing_still_works(client):
    person = User.objects.create_user("old")
    legacy = "0123456789abcdef0123456789abcdef01234567"  # DRF's 40 hex digits, migrated to its hash
    PersonalToken.objects.create(
        user=person, prefix=legacy[:8], secret_hash=hashlib.sha256(legacy.encode()).hexdigest()
    )

    assert schema(client, legacy).status_code == 200


def test_an_inactive_persons_token_is_refused(client):
    person = User.objects.create_user("gone", is_active=False)

    assert schema(client, token_issue(person)).status_code == 401

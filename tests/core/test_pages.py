import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_home_offers_sign_in_then_the_api_docs_and_only_what_the_person_can_use(client, django_user_model):
    anonymous = client.get("/")
    client.force_login(django_user_model.objects.create_user("someone"))
    signed_in = client.get("/")

    assert anonymous.status_code == signed_in.status_code == 200
    assert b'href="/accounts/login/' in anonymous.content
    assert b'href="/api/docs/"' not in anonymous.content
    assert b'href="/api/docs/"' in signed_in.content
    assert b'href="/chat/"' in signed_in.content
    assert b'href="/admin/"' not in signed_in.content  # no role, not staff
    assert b'href="/advisory/"' not in signed_in.content


@pytest.mark.django_db
def test_the_admin_login_page_is_served(client):
    response = client.get("/admin/", follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0].startswith("/admin/login/")


@pytest.mark.django_db
def test_the_api_schema_needs_a_token_and_a_token_opens_it(client):
    printed = io.StringIO()
    call_command("create_demo_users", stdout=printed)
    token = printed.getvalue().split("API token of alice: ", 1)[1].split()[0]

    anonymous = client.get("/api/schema/")
    with_token = client.get("/api/schema/", headers={"Authorization": f"Token {token}"})

    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"] == "Token"
    assert with_token.status_code == 200
    assert b"openapi:" in with_token.content

"""Each person lands on their own work, is offered only what they may use, and is told so politely."""

import io
import re
from html.parser import HTMLParser

import pytest
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db

LANDINGS = {
    "alice": "/advisory/",
    "cal": "/claims/",
    "ana": "/aml/",
    "sam": "/chat/staff/",
    "kim": "/admin/knowledge/document/",
    "mel": "/lab/",
    "admin": "/",
}


@pytest.fixture
def personas(settings):
    settings.DEMO_PASSWORD = "pw"
    call_command("create_demo_users", stdout=io.StringIO())


def _signed_in(username: str) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": "pw"})
    assert response.status_code == 302, response.content[:300]
    return client


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href and href.startswith("/") and not href.startswith("//"):
            self.links.append(href)


@pytest.mark.parametrize(("username", "landing"), LANDINGS.items())
def test_signing_in_lands_each_persona_on_their_work(personas, username, landing):
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": "pw"}, follow=True)

    assert response.redirect_chain[-1][0] == landing
    assert response.status_code == 200


def test_the_login_page_is_the_sites_not_advisorys():
    page = Client().get("/accounts/login/").content.decode()
    assert "<title>Sign in · finassist</title>" in page
    assert "advisory" not in re.search(r"<title>(.*?)</title>", page)[1].lower()


def test_a_page_of_another_role_is_a_styled_403_offering_what_the_person_can_use(personas):
    response = _signed_in("cal").get("/advisory/")

    page = response.content.decode()
    assert response.status_code == 403
    assert "This page is not one you can use" in page
    assert 'href="/claims/"' in page
    assert 'href="/advisory/"' not in page
    assert 'rel="icon"' in page


def test_an_api_refusal_stays_json(personas):
    response = _signed_in("cal").get("/api/advisory/clients/")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    ("username", "offered", "withheld"),
    [
        ("cal", ["/claims/", "/chat/"], ["/advisory/", "/aml/", "/lab/", "/admin/"]),
        ("alice", ["/advisory/", "/chat/"], ["/claims/", "/aml/", "/admin/"]),
        ("mel", ["/lab/", "/admin/"], ["/advisory/", "/claims/"]),
    ],
)
def test_the_start_page_and_header_offer_only_usable_sections(personas, username, offered, withheld):
    page = _signed_in(username).get("/").content.decode()
    for path in offered:
        assert f'href="{path}"' in page, path
    for path in withheld:
        assert f'href="{path}"' not in page, path


def test_signed_out_the_start_page_offers_the_customer_chat_and_signing_in():
    page = Client().get("/").content.decode()
    assert 'href="/chat/"' in page
    assert "/accounts/login/" in page
    assert 'href="/claims/"' not in page


def test_the_favicon_is_served():
    response = Client().get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("core/favicon.svg")


@pytest.mark.slow
@pytest.mark.parametrize("username", LANDINGS)
def test_every_page_linked_from_a_personas_landing_page_answers_200(personas, username):
    client = _signed_in(username)
    landing = client.get(LANDINGS[username])
    parser = _Links()
    parser.feed(landing.content.decode())

    statuses = {link: client.get(link).status_code for link in dict.fromkeys(parser.links)}

    assert parser.links
    assert {link: status for link, status in statuses.items() if status != 200} == {}


def test_the_header_marks_the_section_the_page_belongs_to(personas):
    page = _signed_in("sam").get("/chat/staff/").content.decode()
    assert '<a href="/chat/staff/" aria-current="page">Chat desk</a>' in page
    assert '<a href="/chat/">Customer chat</a>' in page

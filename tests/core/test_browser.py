"""Every persona signs in, in a real Chromium on a 1280 px desktop and a 390 px phone, and lands on
their own work with a page that fits the screen."""

import io

import pytest
from django.core.management import call_command

from tests.conftest import SCREENSHOTS, fits_width

pytestmark = pytest.mark.browser

LANDINGS = {
    "alice": ("/advisory/", "Your clients"),
    "cal": ("/claims/", "Claims"),
    "ana": ("/aml/", "Alerts"),
    "sam": ("/chat/staff/", "Chat"),
    "kim": ("/admin/knowledge/document/", "document"),
    "mel": ("/lab/", "Retrieval, fine-tuning or prompting"),
}


@pytest.fixture
def personas(settings, transactional_db):
    settings.DEMO_PASSWORD = "pw"
    call_command("create_demo_users", stdout=io.StringIO())


@pytest.mark.parametrize("username", LANDINGS)
def test_a_persona_signs_in_and_lands_on_their_work(personas, username, site, any_page):
    page = any_page
    landing, heading = LANDINGS[username]

    page.goto(f"{site.url}/accounts/login/")
    assert page.title() == "Sign in · finassist"
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_load_state()

    assert page.url == f"{site.url}{landing}"
    assert heading.lower() in page.locator("h1").first.inner_text().lower()
    assert fits_width(page)
    page.screenshot(path=str(SCREENSHOTS / f"landing-{username}-{page.size}.png"), full_page=True)


def test_a_page_of_another_role_offers_the_persons_own_sections(personas, site, browser_page):
    page = browser_page
    page.goto(f"{site.url}/accounts/login/?next=/advisory/")
    page.fill("#id_username", "cal")
    page.fill("#id_password", "pw")
    page.get_by_role("button", name="Sign in", exact=True).click()

    assert page.locator("h1").inner_text() == "This page is not one you can use"
    page.click("ul.sections >> text=Claims")
    assert page.url == f"{site.url}/claims/"
    page.screenshot(path=str(SCREENSHOTS / "forbidden-offers-claims.png"), full_page=True)

"""A customer's chat and the staff member who picks up the handoff, in a real Chromium."""

import pytest
from django.contrib.auth.models import Group, User

from assistant.core import roles
from tests.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser


@pytest.fixture
def support_desk(intent_model, faq) -> None:
    intent_model(0.0)
    sam = User.objects.create_user("sam", password="pw", is_staff=True)
    Group.objects.get(name=roles.SUPPORT_AGENT).user_set.add(sam)


def test_a_customer_gets_a_cited_answer_then_a_handoff_that_staff_see(site, support_desk, browser_page):
    page = browser_page

    page.goto(f"{site.url}/chat/")
    page.fill("textarea[name=text]", "What exchange rate do you use?")
    page.click("button:has-text('Send')")
    answer = page.locator(".bubble.assistant.answer").last
    answer.wait_for(timeout=30_000)
    assert "network rate of the day" in answer.locator(".text").inner_text()
    answer.locator("details.sources summary").click()
    assert "0.5% on weekends" in answer.locator("details.sources blockquote").first.inner_text()

    page.fill("textarea[name=text]", "My new card still has not arrived")
    page.click("button:has-text('Send')")
    handoff = page.locator(".bubble.assistant.handoff").last
    handoff.wait_for(timeout=30_000)
    assert "Passed to a colleague (ticket" in handoff.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "chat-handoff.png"), full_page=True)

    page.goto(f"{site.url}/admin/login/?next=/admin/chat/ticket/")
    page.fill("#id_username", "sam")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.locator("#result_list").wait_for(timeout=10_000)
    assert "card_arrival" in page.locator("#result_list").inner_text()
    page.locator("#result_list tbody tr th a").first.click()
    assert "My new card still has not arrived" in page.locator(".field-transcript").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "chat-ticket.png"), full_page=True)

"""A customer's chat and the staff member who picks up the handoff, in a real Chromium."""

import pytest
from playwright.sync_api import expect

from tests.conftest import SCREENSHOTS, fits_width

pytestmark = pytest.mark.browser


@pytest.fixture
def support_desk(intent_model, faq, sam) -> None:
    intent_model(0.0)


def _send(page, text: str, replies: int) -> None:
    """Send a message and wait until its reply is written in full and the input is free again."""
    page.fill("textarea[name=text]", text)
    page.click("button:has-text('Send')")
    page.locator(".bubble.assistant[data-message]").nth(replies - 1).wait_for(timeout=30_000)
    expect(page.locator("form.say button")).to_be_enabled(timeout=30_000)


def _sign_in(page, url: str, username: str, next_path: str) -> None:
    page.goto(f"{url}/admin/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")


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

    _sign_in(page, site.url, "sam", "/admin/chat/ticket/")
    page.locator("#result_list").wait_for(timeout=10_000)
    assert "card_arrival" in page.locator("#result_list").inner_text()
    page.locator("#result_list tbody tr th a").first.click()
    assert "My new card still has not arrived" in page.locator(".field-transcript").inner_text()
    page.fill("textarea[name=reply]", "Your card was posted on Monday.")
    page.click("input[name=_continue]")
    assert "Your card was posted on Monday." in page.locator(".ticket-replies").inner_text()
    assert "sam" in page.locator(".ticket-replies").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "chat-ticket.png"), full_page=True)


def test_on_a_phone_the_newest_reply_shows_above_the_input_box(site, support_desk, phone_page):
    page = phone_page
    page.goto(f"{site.url}/chat/")

    _send(page, "What exchange rate do you use?", replies=1)
    _send(page, "And on weekends?", replies=2)
    _send(page, "My new card still has not arrived", replies=3)

    newest = page.locator(".bubble.assistant[data-message]").last.bounding_box()
    say = page.locator("form.say").bounding_box()
    assert newest
    assert say
    assert page.evaluate("window.scrollY") > 0, "the conversation should be longer than the screen"
    assert newest["y"] >= 0
    assert newest["y"] + newest["height"] <= say["y"]
    assert say["y"] + say["height"] <= page.viewport_size["height"] + 1
    assert fits_width(page)
    page.screenshot(path=str(SCREENSHOTS / "chat-phone-newest-reply.png"))


def test_the_support_agent_sees_the_statistics_as_charts(site, sam, chat_history, any_page):
    page = any_page

    _sign_in(page, site.url, "sam", "/chat/staff/")

    page.locator("#intents-chart svg").wait_for(timeout=10_000)
    assert "Card arrival" in page.locator("#intents-chart svg").text_content()
    assert "card_arrival" not in page.content()
    assert page.locator("#handoffs-chart svg").is_visible()
    assert page.locator("#days-chart svg polyline").count() == 2
    for chart in page.locator("figure.chart svg").all():
        box = chart.bounding_box()
        assert box
        assert box["width"] <= page.viewport_size["width"]
    assert fits_width(page)
    page.screenshot(path=str(SCREENSHOTS / f"chat-{page.size}-staff.png"), full_page=True)

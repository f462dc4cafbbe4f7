"""The advisor's path through the web UI in a real Chromium, driven by Playwright."""

import pytest

from tests.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser


def test_an_advisor_asks_about_a_client_and_opens_a_citation(site, clients, knowledge, browser_page):
    page = browser_page
    page.goto(f"{site.url}/advisory/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    page.click("text=Maria Keller")
    assert page.locator("h1").inner_text() == "Maria Keller"
    assert page.locator(".keywords li").count() > 0

    page.fill("textarea[name=question]", "Is the Short Duration Bond Fund suitable given her risk tolerance?")
    page.click("button:has-text('Ask')")
    answer = page.locator("#answers article.answer").first
    answer.locator("a.cite").first.wait_for(timeout=30_000)
    assert "risk tolerance: moderate" in answer.locator(".text").inner_text()
    assert "risk_tolerance" in answer.locator(".meta").inner_text()

    answer.locator("a.cite").first.click()
    passage = page.locator("#passage .passage")
    passage.wait_for(timeout=10_000)
    assert passage.inner_text().strip()

    page.screenshot(path=str(SCREENSHOTS / "advisory-answer.png"), full_page=True)

    answer.locator("button[aria-label=Helpful]").click()
    page.locator(".thanks").wait_for(timeout=10_000)

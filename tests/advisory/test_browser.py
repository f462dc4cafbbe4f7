"""The advisor's path through the web UI in a real Chromium, driven by Playwright, on a 1280 px
desktop and a 390 px phone."""

import pytest

from tests.conftest import SCREENSHOTS, fits_width

pytestmark = pytest.mark.browser


def test_an_advisor_signs_in_asks_about_a_client_and_reads_a_citation_over_the_answer(
    site, clients, knowledge, any_page
):
    page = any_page
    page.goto(f"{site.url}/accounts/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "pw")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.locator("h1", has_text="Your clients").wait_for()
    assert page.url == f"{site.url}/advisory/"
    assert fits_width(page)
    page.screenshot(path=str(SCREENSHOTS / f"advisory-{page.size}-clients.png"), full_page=True)

    page.click("text=Maria Keller")
    assert page.locator("h1").inner_text() == "Maria Keller"
    assert page.locator(".keywords li").count() > 0
    assert page.locator("figure.allocation svg[aria-label^='Allocation']").count() == 1
    assert fits_width(page)

    page.fill("textarea[name=question]", "Is the Short Duration Bond Fund suitable given her risk tolerance?")
    page.click("button:has-text('Ask')")
    answer = page.locator("#answers article.answer").first
    answer.locator("a.cite").first.wait_for(timeout=30_000)
    assert "risk tolerance: moderate" in answer.locator(".text").inner_text()
    assert "risk_tolerance" in answer.locator(".meta").inner_text()

    answer.locator("a.cite").first.click()
    dialog = page.locator("#passage-dialog")
    dialog.locator(".passage").wait_for(timeout=10_000)
    box, viewport = dialog.bounding_box(), page.viewport_size
    assert box["y"] >= 0
    assert box["y"] + box["height"] <= viewport["height"]
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= viewport["width"]
    assert dialog.locator(".passage").inner_text().strip()
    page.screenshot(path=str(SCREENSHOTS / f"advisory-{page.size}-citation.png"))

    dialog.locator("button:has-text('Close')").click()
    assert not dialog.is_visible()
    answer.locator("button[aria-label=Helpful]").click()
    page.locator(".thanks").wait_for(timeout=10_000)
    assert fits_width(page)
    page.screenshot(path=str(SCREENSHOTS / f"advisory-{page.size}-answer.png"), full_page=True)

"""An adjuster works the claims queue in a real Chromium: evidence, report, an override."""

import pytest

from tests.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser


def test_an_adjuster_reviews_a_claim_and_overrides_its_route(site, adjuster, triaged, browser_page):
    page = browser_page
    claim = triaged[0]
    other = "specialist" if claim.triage.route != "specialist" else "standard"

    page.goto(f"{site.url}/accounts/login/?next=/claims/")
    page.fill("#id_username", "cal")
    page.fill("#id_password", "pw")
    page.click("button[type=submit], input[type=submit]")
    page.locator(f"text={claim.external_id}").first.click()
    page.locator("#policy-check").wait_for(timeout=10_000)
    assert page.locator("#description mark.field").count() > 0
    assert "Fraud-risk score" in page.locator("#triage").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "claims-claim.png"), full_page=True)

    page.select_option("select[name=route]", other)
    page.fill("input[name=note]", "photos show more damage")
    page.click("button:has-text('Decide')")
    page.locator("text=Recently decided").wait_for(timeout=10_000)
    decided = page.locator("table").nth(1).inner_text()
    assert claim.external_id in decided
    assert "route" in decided
    page.screenshot(path=str(SCREENSHOTS / "claims-queue.png"), full_page=True)

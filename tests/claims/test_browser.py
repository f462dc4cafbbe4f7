"""An adjuster works the claims queue in a real Chromium, on a desktop and on a phone: evidence,
an override refused without its note, then made, confirmed, and shown on the decided claim; model
accuracy explains that one day of decisions draws no line yet."""

import pytest

from tests.conftest import SCREENSHOTS, fits_width

pytestmark = pytest.mark.browser


def test_an_adjuster_overrides_a_claims_route_with_a_note(site, adjuster, triaged, any_page):
    page = any_page
    claim = triaged[0]
    other = "specialist" if claim.triage.route != "specialist" else "standard"
    shot = f"claims-{page.size}"

    page.goto(f"{site.url}/claims/")  # signed out: the sign-in page, back to the queue after
    page.fill("#id_username", "cal")
    page.fill("#id_password", "pw")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.locator("#waiting").wait_for(timeout=10_000)
    assert page.url.endswith("/claims/")
    assert fits_width(page)
    page.screenshot(path=str(SCREENSHOTS / f"{shot}-queue.png"), full_page=True)

    page.locator("#waiting").get_by_role("link", name=claim.external_id).click()
    page.locator("#policy-check").wait_for(timeout=10_000)
    assert page.locator("#description mark.field").count() > 0
    assert "Fraud-risk score" in page.locator("#triage").inner_text()
    assert page.get_by_role("button", name=f"Accept: {claim.triage.get_route_display()}").is_visible()
    assert fits_width(page)
    page.screenshot(path=str(SCREENSHOTS / f"{shot}-claim.png"), full_page=True)

    page.select_option("#id_override-route", other)
    page.get_by_role("button", name="Override").click()
    error = page.locator("#id_override-note-error")
    error.wait_for(timeout=10_000)
    assert "An override needs a note" in error.inner_text()
    assert page.locator("#id_override-route").input_value() == other
    assert fits_width(page)
    page.screenshot(path=str(SCREENSHOTS / f"{shot}-override-refused.png"), full_page=True)

    page.fill("#id_override-note", "The photos show the car was written off.")
    page.get_by_role("button", name="Override").click()
    confirmation = page.locator("#confirmation")
    confirmation.wait_for(timeout=10_000)
    assert f"Claim {claim.external_id} overridden to {other}." in confirmation.inner_text()
    assert claim.external_id in page.locator("#decided").inner_text()
    assert fits_width(page)
    page.screenshot(path=str(SCREENSHOTS / f"{shot}-confirmed.png"), full_page=True)

    confirmation.get_by_role("link", name="See the decision").click()
    decision = page.locator("#decision")
    decision.wait_for(timeout=10_000)
    shown = decision.inner_text()
    assert "route overridden" in shown
    assert other in shown
    assert "cal" in shown
    assert "The photos show the car was written off." in shown
    assert page.get_by_role("button", name="Override").count() == 0
    assert fits_width(page)
    page.screenshot(path=str(SCREENSHOTS / f"{shot}-decided.png"), full_page=True)

    page.goto(f"{site.url}/claims/models/")
    assert "Not enough decisions yet" in page.locator("#accuracy-over-time").inner_text()
    assert fits_width(page)
    page.screenshot(path=str(SCREENSHOTS / f"{shot}-models.png"), full_page=True)

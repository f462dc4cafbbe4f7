"""An analyst works an alert in a real Chromium: take next, the evidence, a note, an escalation."""

import pytest

from aml.models import Alert
from tests.aml.conftest import PHRASE
from tests.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser


@pytest.fixture
def alerts(raise_alert) -> list[Alert]:
    return [raise_alert(0.6), raise_alert(0.9)]


def test_an_analyst_takes_the_next_alert_notes_it_and_escalates(site, analyst, alerts, browser_page):
    page = browser_page

    page.goto(f"{site.url}/accounts/login/?next=/aml/")
    page.fill("#id_username", "ana")
    page.fill("#id_password", "pw")
    page.click("button[type=submit], input[type=submit]")
    page.locator("#counts").wait_for(timeout=10_000)
    assert "2 open alerts" in page.locator("#counts").inner_text()
    page.click("button:has-text('Take next alert')")
    page.locator("#rules").wait_for(timeout=10_000)
    assert page.locator("#screened-text mark.phrase").inner_text() == PHRASE
    assert "0.90" in page.locator("#case").inner_text()
    assert page.locator("#related tr.evidence").count() == 2
    page.screenshot(path=str(SCREENSHOTS / "aml-case.png"), full_page=True)

    page.fill("textarea[name=note]", "The branch confirms two deposits on consecutive days.")
    page.click("button:has-text('Add note')")
    page.locator("#notes pre.notes").wait_for(timeout=10_000)
    assert "two deposits on consecutive days" in page.locator("#notes").inner_text()

    page.select_option("select[name=decision]", "escalated")
    assert page.locator("select[name=typology]").input_value() == "structuring"
    page.fill("textarea[name=reason]", "Deposits kept just under the reporting threshold.")
    page.click("button:has-text('Decide')")
    page.locator("#sar").wait_for(timeout=10_000)
    sar = page.locator("#sar").inner_text()
    assert "R01" in sar
    assert "Deposits kept just under the reporting threshold." in sar
    page.screenshot(path=str(SCREENSHOTS / "aml-escalated.png"), full_page=True)

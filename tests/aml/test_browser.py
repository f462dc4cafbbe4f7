"""An analyst works an alert in a real Chromium, on a desktop and on a phone: take next, the decision at
hand from the top, the evidence, a note, the SAR draft edited, an escalation."""

import pytest

from aml.models import Alert
from tests.aml.conftest import PHRASE
from tests.conftest import SCREENSHOTS, fits_width

pytestmark = pytest.mark.browser

EDIT = "Reviewed by the analyst: three deposits in one week, each just under the threshold."


@pytest.fixture
def alerts(raise_alert) -> list[Alert]:
    return [raise_alert(0.6), raise_alert(0.9)]


def test_an_analyst_takes_the_next_alert_edits_the_sar_draft_and_escalates(site, analyst, alerts, any_page):
    page, size = any_page, any_page.size
    viewport = page.viewport_size

    page.goto(f"{site.url}/accounts/login/?next=/aml/")
    page.fill("#id_username", "ana")
    page.fill("#id_password", "pw")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.locator("#counts").wait_for(timeout=10_000)
    assert "2 open alerts" in page.locator("#counts").inner_text()
    assert "Structuring" in page.locator("#rule-legend").inner_text()
    assert page.locator("#alerts abbr[title^='R01 Structuring']").count() == 2
    assert fits_width(page), "the queue scrolls sideways"
    page.screenshot(path=str(SCREENSHOTS / f"aml-{size}-queue.png"), full_page=True)

    page.click("button:has-text('Take next alert')")
    page.locator("#rules").wait_for(timeout=10_000)
    assert page.locator("#screened-text mark.phrase").inner_text() == PHRASE
    assert "0.90" in page.locator("#case").inner_text()
    assert page.locator("#related tr.evidence").count() == 2
    assert page.locator("#timeline svg path.flagged").count() == 2
    assert "What the rule codes mean" in page.locator("#rules").inner_text()
    outcome = page.locator("#decision fieldset.outcome").bounding_box()
    assert outcome is not None
    assert outcome["y"] + outcome["height"] <= viewport["height"], "the decision is below the first screen"
    assert page.locator("input[name=decision]:checked").count() == 0
    assert fits_width(page), "the case page scrolls sideways"
    page.screenshot(path=str(SCREENSHOTS / f"aml-{size}-case.png"), full_page=True)
    if size == "desktop":
        page.locator("#questions").scroll_into_view_if_needed()
        beside = page.locator("#decision button:has-text('Decide')").bounding_box()
        assert beside is not None
        assert 0 <= beside["y"] <= viewport["height"], "the decision scrolls away with the evidence"

    page.fill("textarea[name=note]", "The branch confirms two deposits on consecutive days.")
    page.click("button:has-text('Add note')")
    page.locator("#notes pre.notes").wait_for(timeout=10_000)
    assert "two deposits on consecutive days" in page.locator("#notes").inner_text()

    page.click("button:has-text('Draft from the evidence')")
    page.locator("text=SAR draft written from the evidence").wait_for(timeout=10_000)
    draft = page.locator("#field-sar_draft").input_value()
    assert "R01" in draft
    page.fill("#field-sar_draft", f"{draft}\n{EDIT}")
    page.click("button:has-text('Save draft')")
    page.locator("text=SAR draft saved.").wait_for(timeout=10_000)
    assert EDIT in page.locator("#field-sar_draft").input_value()
    assert page.locator("#sar-draft a:has-text('Download')").count() == 1

    page.check("input[name=decision][value=escalated]")
    assert page.locator("select[name=typology]").input_value() == "structuring"
    page.fill("textarea[name=reason]", "Deposits kept just under the reporting threshold.")
    page.click("button:has-text('Decide')")
    page.locator("#sar").wait_for(timeout=10_000)
    assert "escalated: the SAR draft below was filed with it" in page.locator("#messages").inner_text()
    assert "Escalated by ana" in page.locator("#decision").inner_text()
    sar = page.locator("#sar").inner_text()
    assert "R01" in sar
    assert EDIT in sar
    assert "Analyst's reasons: Deposits kept just under the reporting threshold." in sar
    assert fits_width(page), "the escalated case scrolls sideways"
    page.screenshot(path=str(SCREENSHOTS / f"aml-{size}-escalated.png"), full_page=True)

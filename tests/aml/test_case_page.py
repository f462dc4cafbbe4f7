"""The case page as an analyst works it: the decision at the top with nothing chosen for them, the
rule codes explained, the transactions over time, and the SAR draft edited, downloaded and filed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.utils.html import escape

from aml.models import AuditEvent, Case, Customer, Rule
from aml.services.cases import alert_take_next, case_sar_save, sar_digest, sar_text
from aml.timeline import Mark, amount_scale, timeline_svg
from assistant.core.errors import ApplicationError, Conflict
from tests.aml.test_web import case_url, section

pytestmark = pytest.mark.django_db

ESCALATION = {
    "decision": "escalated",
    "typology": "structuring",
    "reason": "Deposits kept under the threshold.",
}
EDITED = "Subject: Customer CUS-T1.\nThree cash deposits of 9,400 to 9,500 EUR within a week.\n\nSee R01."


@pytest.fixture
def taken(analyst, raise_alert) -> Case:
    """A high-risk alert on a high-risk customer, taken by the analyst."""
    alert = raise_alert(0.92)
    Customer.objects.filter(pk=alert.customer_id).update(risk_rating="high")
    return alert_take_next(analyst=analyst).case


@pytest.fixture
def signed_in(client, analyst, taken):
    client.force_login(analyst)
    return client


def page_of(client, case: Case) -> str:
    return client.get(case_url(case)).content.decode()


def download(client, case: Case, query: str = ""):
    response = client.get(case_url(case, f"sar{query}"))
    return response, response.content.decode() if response.status_code == 200 else ""


def events(case: Case, action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, subject=f"case:{case.pk}").order_by("sequence"))


# the decision


def test_the_decision_comes_before_the_evidence_with_no_outcome_chosen_on_a_high_risk_case(signed_in, taken):
    page = page_of(signed_in, taken)

    assert "High risk" in section(page, "case")
    evidence = min(page.index(f'id="{card}"') for card in ("customer", "rules", "related"))
    assert page.index('id="decision"') < evidence
    decision = section(page, "decision")
    radios = re.findall(r'<input type="radio" name="decision"[^>]*>', decision)
    assert [re.search(r'value="(\w+)"', radio)[1] for radio in radios] == ["closed", "escalated"]
    assert not [radio for radio in radios if "checked" in radio]
    assert "<select" not in decision.split('<label for="field-typology"')[0]  # the outcome is no drop-down


def test_deciding_without_an_outcome_is_a_field_error_beside_it_and_keeps_what_was_typed(signed_in, taken):
    response = signed_in.post(
        case_url(taken, "decision"), {"typology": "structuring", "reason": "Deposits under the threshold."}
    )

    assert response.status_code == 400
    page = response.content.decode()
    outcome = page.split('id="field-decision"', 1)[1].split('id="field-typology"', 1)[0]
    assert '<p class="field-error" id="decision-error">Choose the outcome: close the case' in outcome
    assert 'aria-describedby="decision-error"' in page
    assert "Deposits under the threshold.</textarea>" in section(page, "decision")
    assert not re.search(r'name="decision" value="\w+" required checked', page)
    taken.refresh_from_db()
    assert (taken.status, taken.decision) == (Case.Status.OPEN, "")


def test_every_problem_of_a_decision_shows_at_once_each_beside_its_field(signed_in, taken):
    response = signed_in.post(case_url(taken, "decision"), {"typology": "smurfing", "reason": " "})

    page = response.content.decode()
    assert response.status_code == 400
    for field in ("decision", "typology", "reason"):
        assert f'<p class="field-error" id="{field}-error">' in section(page, "decision")
        assert f'href="#field-{field}"' in section(page, "error")
    assert "3 things to fix" in section(page, "error")


def test_a_posted_outcome_is_kept_when_another_field_is_refused(signed_in, taken):
    page = signed_in.post(case_url(taken, "decision"), {**ESCALATION, "reason": ""}).content.decode()

    assert re.search(r'value="escalated" required checked', section(page, "decision"))
    assert not re.search(r'value="closed" required checked', section(page, "decision"))


# the rule codes


def test_the_queue_and_the_case_explain_each_rule_code_shown(client, analyst, raise_alert):
    raise_alert(0.9)
    raise_alert(0.5)
    Rule.objects.filter(code="structuring").update(enabled=False)
    client.force_login(analyst)

    queue = client.get("/aml/").content.decode()
    legend = queue.split('id="rule-legend"', 1)[1]
    assert '<abbr class="pill" title="R01 Structuring: Cash deposits just under' in legend
    assert "Structuring <small>(switched off now)</small>" in legend
    assert "Set to margin 0.1 · min_count 3 · threshold 10,000 · window_days 7." in legend
    assert "R02" not in legend  # only the codes the page shows

    case = alert_take_next(analyst=analyst).case
    page = page_of(client, case)
    rules = section(page, "rules")
    assert '<abbr class="pill" title="R01 Structuring: Cash deposits' in rules.split('id="rule-legend"')[0]
    assert "What the rule codes mean" in rules
    assert 'class="pill cited" title="R01 Structuring:' in section(page, "related")


def test_a_code_whose_rule_was_removed_keeps_the_name_its_hit_recorded(client, analyst, raise_alert):
    raise_alert()
    Rule.objects.filter(code="structuring").delete()
    client.force_login(analyst)

    legend = client.get("/aml/").content.decode().split('id="rule-legend"', 1)[1]

    assert "R01</abbr> Structuring <small>(removed since)</small>" in legend
    assert "a rule no longer configured" in legend


# the timeline


def test_the_timeline_marks_the_transactions_a_rule_cites(signed_in, taken, book):
    other = book("50.00", ago=timedelta(days=3))
    evidence = taken.alert.screening.rule_hits[0]["evidence"]

    timeline = section(page_of(signed_in, taken), "timeline")

    svg = timeline.split("<svg", 2)[1]
    flagged = re.findall(r'<path class="mark flagged" data-codes="R01"[^>]*><title>([^<]*)</title>', svg)
    assert len(flagged) == len(evidence) == 2
    assert all("flagged by R01 (Structuring)" in title for title in flagged)
    assert any("the screened transaction" in title for title in flagged)
    plain = re.findall(r'<circle class="mark plain"[^>]*><title>([^<]*)</title>', svg)
    assert len(plain) == 1
    assert other.external_id in plain[0]
    assert "flagged" not in plain[0]
    assert svg.count('class="mark screened"') == 1
    assert "amount (EUR, log scale)" in svg  # 50 to 9,500: two decades and more
    assert "cited by a rule" in section(page_of(signed_in, taken), "timeline")


def test_the_timeline_is_linear_when_the_amounts_stay_within_two_decades(signed_in, taken):
    svg = section(page_of(signed_in, taken), "timeline")

    assert "amount (EUR)" in svg
    assert "log scale" not in svg


def test_amounts_spanning_decades_get_a_log_scale_from_power_to_power_of_ten():
    log = amount_scale([12.0, 9500.0])
    linear = amount_scale([400.0, 9500.0])

    assert log.log
    assert log.ticks() == [10.0, 100.0, 1000.0, 10000.0]
    assert not linear.log
    assert linear.ticks()[-1] == 10000.0


def test_a_timeline_title_is_escaped_and_nothing_is_drawn_without_transactions():
    when = datetime(2026, 11, 1, tzinfo=UTC)
    mark = Mark(when, 50.0, "EUR", "T-1 <b>bold</b>", (("R03", "High-risk <jurisdiction>"),), False)

    svg = timeline_svg([mark], start=when - timedelta(days=1), end=when + timedelta(days=1))

    assert "<b>" not in svg
    assert "flagged by R03 (High-risk &lt;jurisdiction&gt;)" in svg
    assert timeline_svg([], start=when, end=when) == ""


# the SAR draft before escalation


def test_the_sar_draft_is_written_from_the_evidence_edited_and_downloaded_before_escalation(signed_in, taken):
    empty, _ = download(signed_in, taken)
    page = page_of(signed_in, taken)
    assert empty.status_code == 404
    assert "Draft from the evidence" in section(page, "sar-draft")

    drafted = signed_in.post(
        case_url(taken, "sar"), {"action": "draft", "typology": "structuring", "reason": "Kept under 10,000."}
    )
    taken.refresh_from_db()
    assert drafted.status_code == 302
    assert drafted.url == case_url(taken) + "#sar-draft"
    assert "R01: 2 cash deposits" in taken.sar_draft
    assert "Analyst's reasons: Kept under 10,000." in taken.sar_draft
    assert events(taken, "case.sar_drafted")[0].payload["sar_draft"] == taken.sar_draft

    page = page_of(signed_in, taken)
    assert "SAR draft written from the evidence" in page
    assert "Draft from the evidence" not in page
    response, text = download(signed_in, taken)
    assert response["Content-Disposition"] == f'attachment; filename="case-{taken.pk}-sar-draft.txt"'
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert text == taken.sar_draft + "\n"

    saved = signed_in.post(case_url(taken, "sar"), {"sar_draft": EDITED, "base": sar_digest(taken.sar_draft)})
    assert saved.status_code == 302
    taken.refresh_from_db()
    assert taken.sar_draft == EDITED
    assert download(signed_in, taken)[1] == EDITED + "\n"
    edit = events(taken, "case.sar_edited")[0]
    assert (edit.actor, edit.payload["sar_draft"], edit.payload["status"]) == ("ana", EDITED, "open")
    assert f"{EDITED}</textarea>" in section(page_of(signed_in, taken), "sar-draft")


def test_escalating_files_the_draft_as_its_box_holds_it(signed_in, taken):
    response = signed_in.post(case_url(taken, "decision"), {**ESCALATION, "sar_draft": EDITED}, follow=True)

    taken.refresh_from_db()
    page = response.content.decode()
    assert (taken.status, taken.sar_draft) == (Case.Status.ESCALATED, EDITED)
    assert f"Case {taken.pk} escalated: the SAR draft below was filed with it." in section(page, "messages")
    assert section(page, "sar-draft").split('id="sar">', 1)[1].startswith(EDITED)
    assert events(taken, "case.escalated")[0].payload["sar_draft"] == EDITED
    assert download(signed_in, taken, "?version=filed")[1] == EDITED + "\n"


def test_escalating_fills_in_the_reasons_a_draft_written_earlier_left_to_complete(signed_in, taken):
    signed_in.post(case_url(taken, "sar"), {"action": "draft"})
    taken.refresh_from_db()
    assert "Analyst's reasons: [to complete before filing]" in taken.sar_draft

    signed_in.post(case_url(taken, "decision"), {**ESCALATION, "sar_draft": taken.sar_draft})

    taken.refresh_from_db()
    assert taken.sar_draft.endswith("Analyst's reasons: Deposits kept under the threshold.")
    assert events(taken, "case.escalated")[0].payload["sar_draft"] == taken.sar_draft


def test_a_saved_draft_is_filed_when_the_form_sends_no_draft(signed_in, taken):
    signed_in.post(case_url(taken, "sar"), {"sar_draft": EDITED})

    signed_in.post(case_url(taken, "decision"), {**ESCALATION, "sar_draft": ""})

    taken.refresh_from_db()
    assert (taken.status, taken.sar_draft) == (Case.Status.ESCALATED, EDITED)


# the SAR draft after escalation


def test_after_escalation_the_draft_can_be_edited_and_the_filed_one_stays_visible(signed_in, taken):
    signed_in.post(case_url(taken, "decision"), ESCALATION)
    taken.refresh_from_db()
    filed = taken.sar_draft
    assert "Deposits kept under the threshold." in filed

    response = signed_in.post(case_url(taken, "sar"), {"sar_draft": EDITED})

    assert response.status_code == 302
    taken.refresh_from_db()
    assert taken.sar_draft == EDITED
    sar = section(page_of(signed_in, taken), "sar-draft")
    assert sar.split('id="sar">', 1)[1].split("</pre>", 1)[0] == escape(filed)
    assert "edited since" in sar
    assert f"{EDITED}</textarea>" in sar
    assert download(signed_in, taken)[1] == EDITED + "\n"
    filed_response, filed_text = download(signed_in, taken, "?version=filed")
    assert filed_text == filed + "\n"
    assert filed_response["Content-Disposition"] == f'attachment; filename="case-{taken.pk}-sar-filed.txt"'
    assert events(taken, "case.sar_edited")[0].payload["status"] == "escalated"


def test_another_analyst_reads_and_downloads_the_draft_but_cannot_edit_it(
    client, other_analyst, signed_in, taken
):
    signed_in.post(case_url(taken, "decision"), ESCALATION)
    client.force_login(other_analyst)

    page = page_of(client, taken)
    response = client.post(case_url(taken, "sar"), {"sar_draft": EDITED})

    assert 'id="sar">Subject: Customer CUS-T1' in section(page, "sar-draft")
    assert "<textarea" not in section(page, "sar-draft")
    assert download(client, taken)[0].status_code == 200
    assert response.status_code == 403
    taken.refresh_from_db()
    assert taken.sar_draft != EDITED


def test_a_closed_case_files_no_sar_and_takes_no_draft(signed_in, taken):
    closing = {"decision": "closed", "typology": "none", "reason": "Payroll."}
    signed_in.post(case_url(taken, "decision"), closing)

    response = signed_in.post(case_url(taken, "sar"), {"sar_draft": EDITED})
    filed, _ = download(signed_in, taken, "?version=filed")

    assert response.status_code == 400
    assert f"Case {taken.pk} is closed: it files no SAR." in section(response.content.decode(), "error")
    assert filed.status_code == 404
    assert "None: the case was closed." in section(page_of(signed_in, taken), "sar-draft")


# refusals


def test_sar_text_postgresql_cannot_store_is_refused_naming_the_field(signed_in, taken, analyst):
    with pytest.raises(ApplicationError) as refused:
        case_sar_save(case=taken, analyst=analyst, text="Subject: \x00 deposits")
    web = signed_in.post(case_url(taken, "sar"), {"sar_draft": "Subject: \x00 deposits"})

    assert refused.value.field == "sar_draft"
    assert "NUL character" in refused.value.message
    assert web.status_code == 400
    assert "sar_draft" in web.content.decode()
    taken.refresh_from_db()
    assert taken.sar_draft == ""
    assert not events(taken, "case.sar_edited")


def test_a_lone_surrogate_is_refused_by_the_service(taken, analyst):
    with pytest.raises(ApplicationError) as refused:
        sar_text("Subject: \ud800")

    assert refused.value.field == "sar_draft"


def test_a_draft_over_the_limit_is_refused_beside_the_box_with_the_text_kept(signed_in, taken):
    long = "Deposits. " * 2_100

    response = signed_in.post(
        case_url(taken, "sar"), {"sar_draft": long, "decision": "escalated", "reason": "Typed, not sent."}
    )

    page = response.content.decode()
    assert response.status_code == 400
    box = page.split('id="field-sar_draft"', 1)[1]
    assert box.split("</textarea>", 1)[0].endswith(long)
    assert '<p class="field-error" id="sar_draft-error">The SAR draft is 20999 characters; the limit' in box
    assert "Typed, not sent.</textarea>" in section(page, "decision")  # the decision typed so far is kept
    assert re.search(r'value="escalated" required checked', section(page, "decision"))


def test_an_edit_over_a_draft_saved_since_is_refused_with_the_text_kept(signed_in, taken, analyst):
    signed_in.post(case_url(taken, "sar"), {"sar_draft": "First version."})

    with pytest.raises(Conflict):
        case_sar_save(case=taken, analyst=analyst, text="Second", base="0" * 64)
    response = signed_in.post(case_url(taken, "sar"), {"sar_draft": "Other tab's version.", "base": "0" * 64})

    assert response.status_code == 409
    assert "Other tab&#x27;s version.</textarea>" in section(response.content.decode(), "sar-draft")
    taken.refresh_from_db()
    assert taken.sar_draft == "First version."


def test_drafting_from_the_evidence_never_replaces_text(signed_in, taken):
    typed = signed_in.post(case_url(taken, "sar"), {"action": "draft", "sar_draft": "My own words."})
    signed_in.post(case_url(taken, "sar"), {"sar_draft": "Saved words."})
    over_saved = signed_in.post(case_url(taken, "sar"), {"action": "draft", "sar_draft": ""})

    assert typed.status_code == over_saved.status_code == 400
    assert "My own words.</textarea>" in section(typed.content.decode(), "sar-draft")
    assert "The SAR box holds your own text" in typed.content.decode()
    assert "The case has a saved SAR draft already" in over_saved.content.decode()
    taken.refresh_from_db()
    assert taken.sar_draft == "Saved words."


def test_an_unknown_download_version_is_refused(signed_in, taken):
    assert signed_in.get(case_url(taken, "sar?version=latest")).status_code == 400

"""The AML analysts' pages: only analysts; the queue, take next, a case's evidence, notes, attachments,
questions and the decision, with refusals shown on the page."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from aml.models import Alert, AuditEvent, Case, CaseQuestion, Screening, Transaction
from aml.services.cases import alert_take_next
from assistant.generation.base import NO_ANSWER
from assistant.knowledge.services.submission import collection_get_or_create
from tests.aml.conftest import DOCUMENT_PHRASE, NOW, PHRASE, account_open

pytestmark = pytest.mark.django_db

URLS = [
    ("get", "/aml/"),
    ("post", "/aml/alerts/take"),
    ("get", "/aml/cases/{case}/"),
    ("post", "/aml/cases/{case}/notes"),
    ("post", "/aml/cases/{case}/attachments"),
    ("get", "/aml/cases/{case}/attachments/0"),
    ("post", "/aml/cases/{case}/questions"),
    ("post", "/aml/cases/{case}/decision"),
    ("get", "/aml/cases/{case}/sar"),
    ("post", "/aml/cases/{case}/sar"),
]
ACTIONS = ["notes", "attachments", "questions", "decision", "sar"]
ADVISORY = (
    "# Advisory on structuring\n\n"
    "Structuring is breaking cash deposits into amounts below the reporting threshold. "
    "Red flags of structuring include several cash deposits just under 10,000 dollars within days, "
    "made at different branches, and customers who ask how to avoid the currency transaction report.\n"
)


def form(action: str) -> dict[str, Any]:
    """Valid input for each of the case's forms."""
    return {
        "notes": {"note": "Called the branch about the deposits."},
        "attachments": {
            "attachment": SimpleUploadedFile("slip.pdf", b"%PDF deposit slip", content_type="application/pdf")
        },
        "questions": {"question": "What are the red flags of structuring?"},
        "decision": {"decision": "closed", "typology": "none", "reason": "Payroll paid in cash."},
        "sar": {"sar_draft": "Subject: Customer CUS-T1.\nDeposits under the threshold."},
    }.get(action, {})


@pytest.fixture
def taken(analyst, raise_alert) -> Case:
    """Two open alerts; the analyst has taken the riskier one."""
    raise_alert(0.9)
    raise_alert(0.6)
    return alert_take_next(analyst=analyst).case


@pytest.fixture
def media(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path


def case_url(case: Case, action: str = "") -> str:
    return f"/aml/cases/{case.pk}/{action}"


def section(page: str, name: str) -> str:
    """The HTML of the page's card with this id."""
    return page.split(f'id="{name}"', 1)[1].split('<div class="card"', 1)[0]


def assert_untouched(case: Case) -> None:
    case.refresh_from_db()
    assert (case.status, case.notes, case.attachments, case.decision, case.sar_draft) == (
        Case.Status.OPEN,
        "",
        [],
        "",
        "",
    )
    assert not CaseQuestion.objects.exists()


# who may see the pages


@pytest.mark.parametrize(("method", "path"), URLS)
def test_people_without_the_analyst_role_get_403_and_change_nothing(
    client, django_user_model, taken, media, method, path
):
    client.force_login(django_user_model.objects.create_user("carl"))

    response = getattr(client, method)(path.format(case=taken.pk), form(path.rsplit("/", 1)[-1]))

    assert response.status_code == 403
    assert_untouched(taken)
    assert Alert.objects.filter(status=Alert.Status.OPEN).count() == 1


@pytest.mark.parametrize(("method", "path"), URLS)
def test_anonymous_visitors_are_sent_to_sign_in(client, taken, method, path):
    path = path.format(case=taken.pk)

    response = getattr(client, method)(path)

    assert response.status_code == 302
    assert response.url == f"/accounts/login/?next={path}"
    assert Alert.objects.filter(status=Alert.Status.OPEN).count() == 1


def test_an_unknown_case_is_a_404_page(client, analyst):
    client.force_login(analyst)

    response = client.get("/aml/cases/999/")

    assert response.status_code == 404
    assert "No case 999" in response.content.decode()


# the queue and take next


def test_the_queue_lists_the_open_alerts_riskiest_first_with_their_reason_codes(client, analyst, raise_alert):
    low, high = raise_alert(0.6), raise_alert(0.9)
    document = raise_alert(0.55, document="invoice-114.pdf")
    client.force_login(analyst)

    page = client.get("/aml/").content.decode()

    alerts = section(page, "alerts")
    assert alerts.index(f"transaction {high.screening.transaction.external_id}") < alerts.index(
        f"transaction {low.screening.transaction.external_id}"
    )
    assert f"document {document.screening.document_name}" in alerts
    assert alerts.count('title="R01 Structuring: Cash deposits just under the reporting threshold') == 4
    assert "structuring" in alerts
    assert "Customer CUS-T1" in alerts
    assert "/aml/cases/" not in alerts  # analysts take the next alert; none is picked by hand
    assert "<strong>3</strong> open alerts" in page
    assert "Take next alert" in page


def test_take_next_opens_a_case_on_the_riskiest_alert_and_records_it(client, analyst, raise_alert):
    raise_alert(0.6)
    riskiest = raise_alert(0.9)
    client.force_login(analyst)

    response = client.post("/aml/alerts/take")

    case = Case.objects.get()
    assert response.status_code == 302
    assert response.url == case_url(case)
    assert (case.alert, case.assignee) == (riskiest, analyst)
    riskiest.refresh_from_db()
    assert (riskiest.status, riskiest.assignee) == (Alert.Status.IN_PROGRESS, analyst)
    event = AuditEvent.objects.get(action="alert.taken")
    assert (event.actor, event.subject) == ("ana", f"alert:{riskiest.pk}")
    queue = client.get("/aml/").content.decode()
    assert f"Case {case.pk}" in section(queue, "mine")
    assert "<strong>1</strong> open alert ·" in queue
    assert "<strong>1</strong> in progress" in queue


def test_taking_from_an_empty_queue_says_so(client, analyst):
    client.force_login(analyst)

    response = client.post("/aml/alerts/take", follow=True)

    assert response.redirect_chain == [("/aml/", 302)]
    assert "the queue is empty" in response.content.decode()
    assert not Case.objects.exists()


def test_take_next_is_a_post(client, analyst, raise_alert):
    raise_alert()
    client.force_login(analyst)

    assert client.get("/aml/alerts/take").status_code == 405
    assert not Case.objects.exists()


# the case page


def test_a_case_page_shows_the_rule_the_phrases_and_the_related_transactions(
    client, analyst, raise_alert, book
):
    alert = raise_alert()
    near, later = book("250.00", ago=timedelta(days=20)), book("300.00", ago=-timedelta(days=10))
    too_early = book("120.00", ago=timedelta(days=45))
    elsewhere = book("999.00", on=account_open("CUS-T2", "ACC-T2"))
    case = alert_take_next(analyst=analyst).case
    screened = alert.screening.transaction
    earlier = Transaction.objects.get(pk=alert.screening.rule_hits[0]["evidence"][0])
    client.force_login(analyst)

    page = client.get(case_url(case)).content.decode()

    assert "Customer CUS-T1" in section(page, "customer")
    subject = section(page, "subject")
    assert f'<mark class="phrase" title="weight 0.41">{PHRASE}</mark>' in subject
    assert "Cash &lt;b&gt;deposit&lt;/b&gt;" in subject  # the narrative is escaped, not rendered
    assert "9500.00 EUR" in subject
    explanation = section(page, "explanation")
    assert "probability 0.83" in explanation
    assert "fraud 0.07" in explanation
    assert explanation.index("reads 90% as some typology") < explanation.index("1 rule(s) fired: R01")
    rules = section(page, "rules")
    assert "R01" in rules
    assert "2 cash deposits of 18,900.00 EUR, each just under 10,000.00, within 7 days" in rules
    assert rules.count("9400.00 EUR") == 1  # the earlier deposit, cited as evidence
    related = section(page, "related")
    for shown in (near, later, screened):
        assert f"<td>{shown.external_id}" in related
    for hidden in (too_early, elsewhere):
        assert f"<td>{hidden.external_id}" not in related
    cited = '<abbr class="pill cited" title="R01 Structuring: [^"]*">R01</abbr>'
    assert re.search(rf'<tr class="evidence"><td>[^<]*</td><td>{earlier.external_id} {cited}</td>', related)
    assert re.search(
        rf'<tr class="evidence screened"><td>[^<]*</td><td>{screened.external_id} '
        rf'<span class="pill">screened</span> {cited}</td>',
        related,
    )
    assert re.search(rf'<tr class=""><td>[^<]*</td><td>{near.external_id}</td>', related)
    assert '<option value="structuring" selected>' in section(page, "decision")


def test_a_document_case_shows_its_most_suspicious_passage_and_the_month_before(
    client, analyst, raise_alert, book
):
    alert = raise_alert(document="invoice-114.pdf")
    Screening.objects.filter(pk=alert.screening_id).update(created_at=NOW)
    before, after = book("80.00", ago=timedelta(days=5)), book("90.00", ago=-timedelta(days=5))
    case = alert_take_next(analyst=analyst).case
    client.force_login(analyst)

    page = client.get(case_url(case)).content.decode()

    subject = section(page, "subject")
    assert "Screened document invoice-114.pdf" in subject
    passage = subject.split('id="passage">', 1)[1].split("</p>", 1)[0]
    assert passage.startswith("Please pay in cash")
    assert f"{DOCUMENT_PHRASE}</mark>" in passage
    assert "Thank you for your business" not in passage
    related = section(page, "related")
    assert f"<td>{before.external_id}</td>" in related
    assert f"<td>{after.external_id}" not in related
    assert '<tr class="evidence">' in related


def test_an_explanation_with_parts_missing_still_shows_the_case(client, analyst, raise_alert):
    alert = raise_alert()
    Screening.objects.filter(pk=alert.screening_id).update(explanation={"phrases": [{"start": 90, "end": 2}]})
    case = alert_take_next(analyst=analyst).case
    client.force_login(analyst)

    page = client.get(case_url(case)).content.decode()

    assert "No typology reading" in page
    assert "<mark" not in section(page, "subject")
    assert "R01" in section(page, "rules")  # from the stored rule hits


# the assignee's work


def test_the_assignee_notes_attaches_and_downloads_evidence(client, analyst, taken, media):
    client.force_login(analyst)
    content = b"%PDF deposit slip"

    noted = client.post(case_url(taken, "notes"), {"note": "Called the branch about the deposits."})
    attached = client.post(
        case_url(taken, "attachments"),
        {"attachment": SimpleUploadedFile("slip.pdf", content, content_type="application/pdf")},
    )
    page = client.get(case_url(taken)).content.decode()
    download = client.get(case_url(taken, "attachments/0"))

    assert (noted.status_code, attached.status_code) == (302, 302)
    assert "Called the branch about the deposits." in section(page, "notes")
    attachments = section(page, "attachments")
    assert "slip.pdf" in attachments
    assert hashlib.sha256(content).hexdigest() in attachments
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == content
    assert download["Content-Disposition"] == 'attachment; filename="slip.pdf"'
    assert client.get(case_url(taken, "attachments/1")).status_code == 404


def test_closing_a_case_records_the_decision_and_closes_the_alert(client, analyst, taken):
    client.force_login(analyst)

    response = client.post(
        case_url(taken, "decision"),
        {"decision": "closed", "typology": "none", "reason": "Payroll paid in cash, payslips seen."},
    )

    assert response.status_code == 302
    taken.refresh_from_db()
    assert (taken.status, taken.typology, taken.sar_draft) == (Case.Status.CLOSED, "none", "")
    assert Alert.objects.get(pk=taken.alert_id).status == Alert.Status.CLOSED
    decision = section(client.get(case_url(taken)).content.decode(), "decision")
    assert "Closed by ana" in decision
    assert "Payroll paid in cash, payslips seen." in decision
    assert "<form" not in decision
    assert f"Case {taken.pk}" in section(client.get("/aml/").content.decode(), "decided")


def test_escalating_writes_a_sar_draft_citing_the_rule(client, analyst, taken):
    client.force_login(analyst)

    response = client.post(
        case_url(taken, "decision"),
        {"decision": "escalated", "typology": "structuring", "reason": "Deposits kept under the threshold."},
    )

    assert response.status_code == 302
    taken.refresh_from_db()
    assert taken.status == Case.Status.ESCALATED
    assert "R01" in taken.sar_draft
    page = client.get(case_url(taken)).content.decode()
    assert "Escalated by ana" in section(page, "decision")
    sar = section(page, "sar-draft").split('id="sar">', 1)[1]
    assert "R01: 2 cash deposits" in sar
    assert "Deposits kept under the threshold." in sar


def test_a_question_without_the_fincen_collection_is_answered_that_guidance_does_not_say(
    client, analyst, taken
):
    client.force_login(analyst)

    response = client.post(
        case_url(taken, "questions"), {"question": "What are the red flags of structuring?"}
    )

    assert response.status_code == 302
    asked = CaseQuestion.objects.get()
    assert (asked.asked_by, asked.answer, asked.citations) == (analyst, NO_ANSWER, [])
    questions = section(client.get(case_url(taken)).content.decode(), "questions")
    assert "What are the red flags of structuring?" in questions
    assert NO_ANSWER in questions
    assert AuditEvent.objects.filter(action="case.asked", subject=f"case:{taken.pk}").exists()


def test_a_question_is_answered_from_the_fincen_advisories_with_citations(
    client, analyst, taken, index_files
):
    index_files(collection_get_or_create(name="fincen"), [("structuring.md", ADVISORY.encode())])
    client.force_login(analyst)

    client.post(case_url(taken, "questions"), {"question": "What are the red flags of structuring?"})

    asked = CaseQuestion.objects.get()
    assert asked.citations
    questions = section(client.get(case_url(taken)).content.decode(), "questions")
    assert f"<strong>{asked.citations[0]['title']}</strong>" in questions
    assert "Red flags of structuring include" in questions


# refusals


@pytest.mark.parametrize("action", ACTIONS)
def test_another_analyst_sees_the_case_but_cannot_change_it(client, other_analyst, taken, media, action):
    client.force_login(other_analyst)

    page = client.get(case_url(taken)).content.decode()
    response = client.post(case_url(taken, action), form(action))

    assert "held by <strong>ana</strong>" in page
    assert '<form method="post" action="/aml/cases/' not in page
    assert response.status_code == 403
    assert f"Case {taken.pk} is assigned to another analyst." in response.content.decode()
    assert_untouched(taken)


@pytest.mark.parametrize(
    ("action", "data", "field", "message"),
    [
        ("notes", {"note": "   "}, "note", "The note is empty."),
        ("attachments", {}, "attachment", "Choose a file to attach."),
        (
            "attachments",
            {"attachment": SimpleUploadedFile("empty.txt", b"")},
            "attachment",
            "The file is empty.",
        ),
        ("questions", {"question": ""}, "question", "The question is empty."),
        (
            "decision",
            {"decision": "closed", "typology": "smurfing", "reason": "seen"},
            "typology",
            "Unknown typology",
        ),
        (
            "decision",
            {"decision": "paused", "typology": "none", "reason": "seen"},
            "decision",
            "The decision must be",
        ),
        (
            "decision",
            {"decision": "escalated", "typology": "none", "reason": "seen"},
            "typology",
            "An escalated case needs the typology it is suspected of.",
        ),
        (
            "decision",
            {"decision": "closed", "typology": "none", "reason": ""},
            "reason",
            "The reason is empty.",
        ),
        ("sar", {"sar_draft": "  \n "}, "sar_draft", "The SAR draft is empty."),
    ],
)
def test_bad_input_is_refused_with_a_message_beside_the_field(
    client, analyst, taken, media, action, data, field, message
):
    client.force_login(analyst)

    response = client.post(case_url(taken, action), data)

    assert response.status_code == 400
    page = response.content.decode()
    assert message in section(page, "error")
    assert f'href="#field-{field}"' in section(page, "error")
    beside = page.split(f'id="field-{field}"', 1)[1].split("</p>", 1)[0]
    assert f'<p class="field-error" id="{field}-error">{message}' in beside
    assert_untouched(taken)


def test_a_decided_case_takes_no_more_notes(client, analyst, taken):
    client.force_login(analyst)
    client.post(case_url(taken, "decision"), form("decision"))

    response = client.post(case_url(taken, "notes"), form("notes"))

    assert response.status_code == 400
    assert f"Case {taken.pk} is already closed." in response.content.decode()
